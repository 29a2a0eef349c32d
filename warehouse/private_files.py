"""Files only the service account can read: folders 0700 and files 0600, whatever the process umask."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create a folder (and any missing parents) as 0700; an existing one is narrowed to 0700."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask; chmod is not
    os.chmod(path, DIR_MODE)
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write a file as 0600 through a temporary name and a rename, so a reader never sees half of it."""
    private_dir(path.parent)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        if fd >= 0:
            os.close(fd)
    os.replace(staging, path)
    return path


def narrow(root: Path) -> int:
    """Make a tree private after others wrote into it (folders 0700, files 0600, links untouched)."""
    if root.is_symlink() or not root.is_dir():
        return 0
    changed = 0
    for folder, dirs, files in os.walk(root):
        for name, wanted in [*((d, DIR_MODE) for d in dirs), *((f, FILE_MODE) for f in files)]:
            path = Path(folder, name)
            info = path.lstat()
            if not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) != wanted:
                os.chmod(path, wanted)
                changed += 1
    if stat.S_IMODE(root.stat().st_mode) != DIR_MODE:
        os.chmod(root, DIR_MODE)
        changed += 1
    return changed


def remove_tree(path: Path) -> bool:
    """Delete a folder and everything in it (links are removed, never followed); False when absent."""
    if path.is_symlink():
        path.unlink()
        return True
    if not path.is_dir():
        return False
    try:
        shutil.rmtree(path)
    except FileNotFoundError:  # removed meanwhile by another worker
        return False
    return True
