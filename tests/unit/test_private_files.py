"""Private folders and files keep their modes whatever the umask; retention periods parse strictly."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from warehouse.errors import ConfigurationError
from warehouse.private_files import narrow, private_dir, remove_tree, write_private
from warehouse.retention_policy import Retention, retention_from

pytestmark = pytest.mark.unit


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o000])
def test_folders_and_files_are_private_whatever_the_umask(tmp_path: Path, mask: int):
    old = os.umask(mask)
    try:
        written = write_private(tmp_path / "a" / "b" / "list.csv", b"x")
        loose = tmp_path / "loose"
        loose.mkdir()
        (loose / "file").write_bytes(b"y")
        (loose / "link").symlink_to(tmp_path / "a")
        narrow(loose)
    finally:
        os.umask(old)
    assert written.read_bytes() == b"x" and mode(written) == 0o600
    assert mode(tmp_path / "a") == 0o700 and mode(tmp_path / "a" / "b") == 0o700
    assert mode(loose) == 0o700 and mode(loose / "file") == 0o600
    assert (loose / "link").is_symlink()  # links are left alone, never followed
    assert not list((tmp_path / "a" / "b").glob(".*tmp"))


def test_an_existing_folder_is_narrowed_and_a_link_is_removed_not_followed(tmp_path: Path):
    folder = tmp_path / "home"
    folder.mkdir(mode=0o755)
    assert mode(private_dir(folder)) == 0o700
    (folder / "kept").write_bytes(b"k")
    link = tmp_path / "link"
    link.symlink_to(folder)
    assert remove_tree(link) and (folder / "kept").exists()
    assert remove_tree(folder) and not folder.exists() and not remove_tree(folder)


def test_retention_periods_default_and_come_from_their_variables():
    assert retention_from({}) == Retention(90, 30, 90, 30, 30)
    periods = retention_from(
        {"MIMAMORI_RETENTION_SIGNALS_DAYS": "120", "MIMAMORI_RETENTION_OUTBOX_DAYS": " 7 "}
    )
    assert periods.signals_days == 120 and periods.outbox_days == 7 and periods.archive_days == 30
    for bad in ("0", "-1", "1.5", "ninety"):
        with pytest.raises(ConfigurationError, match="MIMAMORI_RETENTION_ARCHIVE_DAYS"):
            retention_from({"MIMAMORI_RETENTION_ARCHIVE_DAYS": bad})
