"""What may be read from a delivery folder: regular files only, opened without following any link.

A partner controls the inbox, so every name in it is looked at with lstat and opened with O_NOFOLLOW
(and O_NONBLOCK, so a FIFO cannot stall the run), relative to a folder descriptor that was itself
opened without following a link; the opened descriptor is checked again with fstat, so a file swapped
between the check and the open is caught, and a file is hashed as it is read, so a change after its
checksum was taken is caught too.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO

import pandas as pd

from connectors.read import iter_table
from warehouse.errors import InputError

if TYPE_CHECKING:
    from connectors.delivery import Manifest

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# Japanese and English names of what a folder entry may be besides a plain file.
KINDS = {
    "link": ("シンボリックリンク", "symbolic link"),
    "hard": ("ハードリンク", "hard link"),
    "fifo": ("名前付きパイプ", "FIFO (named pipe)"),
    "device": ("デバイスファイル", "device file"),
    "socket": ("ソケット", "socket"),
    "folder": ("フォルダ", "folder"),
    "other": ("特殊なファイル", "special file"),
}


class EntryRefused(InputError):
    """A folder or file of a delivery that is not a plain, singly linked file or folder."""


def kind_of(status: os.stat_result) -> str | None:
    """What is wrong with an entry (a key of KINDS), or None for a regular file with a single link."""
    mode = status.st_mode
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    if not stat.S_ISREG(mode):
        return "other"
    return "hard" if status.st_nlink > 1 else None


def file_reason(name: str, kind: str) -> str:
    """The recorded reason for a listed file that is not a plain file."""
    ja, en = KINDS[kind]
    return f"ファイル {name} は{ja}のため読みません / file {name} is a {en}, not a regular file: refused"


def unlisted_reason(kinds: list[str]) -> str:
    """The recorded reason for entries the manifest does not list (their names are not repeated)."""
    ja = "・".join(sorted({KINDS[k][0] if k in KINDS else "ファイル" for k in kinds}))
    en = ", ".join(sorted({KINDS[k][1] if k in KINDS else "regular file" for k in kinds}))
    return (
        f"マニフェストにない項目があります（{len(kinds)}件: {ja}） / "
        f"{len(kinds)} entries not listed in the manifest ({en}): refused"
    )


def changed_reason(name: str) -> str:
    """The recorded reason for a file whose bytes differ from its checksum once read."""
    return (
        f"ファイル {name} が読み込み中に変更されました / file {name} changed while being read "
        "(SHA-256 no longer matches the manifest)"
    )


def _folder_reason(level: str, path: Path, dir_fd: int | None = None) -> str:
    ja = "事業者フォルダ" if level == "partner" else "配信フォルダ"
    try:
        link = stat.S_ISLNK(os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        link = False
    if link:
        return (
            f"{ja}がシンボリックリンクのため読みません / "
            f"{level} folder is a symbolic link: refused, never followed"
        )
    return f"{ja}がフォルダではありません / {level} entry is not a folder: refused"


class DeliveryFolder:
    """One delivery folder opened without following links; files are opened relative to it."""

    def __init__(self, folder: Path):
        self.path = folder
        try:
            parent = os.open(folder.parent, _FOLDER)
        except FileNotFoundError:
            raise
        except OSError as problem:
            raise EntryRefused(_folder_reason("partner", folder.parent)) from problem
        try:
            self.fd = os.open(folder.name, _FOLDER, dir_fd=parent)
        except FileNotFoundError:
            raise
        except OSError as problem:
            raise EntryRefused(_folder_reason("delivery", Path(folder.name), parent)) from problem
        finally:
            os.close(parent)

    def __enter__(self) -> DeliveryFolder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        os.close(self.fd)

    def names(self) -> list[str]:
        """Every entry of the folder, in a stable order."""
        return sorted(os.listdir(self.fd))

    def problem(self, name: str) -> str | None:
        """Why an entry may not be read (a key of KINDS), or None for a plain file."""
        return kind_of(os.stat(name, dir_fd=self.fd, follow_symlinks=False))

    def exists(self, name: str) -> bool:
        """Whether the folder has an entry of that name (a link counts, it is never followed)."""
        try:
            os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def open(self, name: str) -> BinaryIO:
        """Open a listed file for reading, refusing anything but a regular file with a single link."""
        try:
            fd = os.open(name, _FILE, dir_fd=self.fd)
        except OSError as problem:
            if problem.errno == errno.ELOOP:
                raise EntryRefused(file_reason(name, "link")) from None
            raise
        kind = kind_of(os.fstat(fd))
        if kind is not None:
            os.close(fd)
            raise EntryRefused(file_reason(name, kind))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")

    def read_bytes(self, name: str) -> bytes:
        """A listed file's whole content (for the sealed quarantine copy)."""
        with self.open(name) as handle:
            return handle.read()


class _Hashing(io.RawIOBase):
    """A raw stream that hashes every byte read from the file beneath it."""

    def __init__(self, handle: BinaryIO):
        self.handle, self.digest = handle, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.handle.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)

    def finish(self) -> str:
        """Read what the reader left (nothing, normally) and return the SHA-256 of the whole file."""
        while data := self.handle.read(1 << 20):
            self.digest.update(data)
        return self.digest.hexdigest()


@contextmanager
def verified(folder: DeliveryFolder, name: str, sha256: str) -> Iterator[BinaryIO]:
    """A listed file opened for reading; once read, its bytes must still hash to the manifest's SHA-256."""
    with folder.open(name) as handle:
        raw = _Hashing(handle)
        yield io.BufferedReader(raw)
        if raw.finish() != sha256:
            raise InputError(changed_reason(name))


def read_delivery(folder: Path, manifest: Manifest, encoding: str) -> Iterator[pd.DataFrame]:
    """Every listed file of a delivery as frames of strings, read only through the guard and verified."""
    with DeliveryFolder(folder) as opened:
        for entry in manifest.files:
            with verified(opened, entry.name, entry.sha256) as handle:
                yield from iter_table(folder / entry.name, encoding, checked=True, opener=lambda: handle)
