"""`mimamori init`: a fresh data home with commented templates of its three settings files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from warehouse.private_files import private_dir, write_private

TEMPLATES = ("municipality.yaml", "partners.yaml", "rules.yaml")
FOLDERS = ("register", "consents", "inbox")


def init_home(home: Path) -> str:
    """Write each settings template the home lacks (an existing file is kept) and the input folders."""
    private_dir(home)
    for folder in FOLDERS:
        private_dir(home / folder)
    lines = []
    for name in TEMPLATES:
        target = home / name
        if target.exists():
            lines.append(f"そのまま / kept:    {target}")
            continue
        write_private(target, resources.files("mimamori").joinpath("templates", name).read_bytes())
        lines.append(f"書きました / wrote: {target}")
    lines.append(
        "municipality.yaml と partners.yaml を書き換えてから、register/ と consents/ に台帳と同意書を置き、"
        "mimamori run --date YYYY-MM-DD を実行します / edit municipality.yaml and partners.yaml, put the "
        "register extract and consent forms into register/ and consents/, then run a day"
    )
    return "\n".join(lines)
