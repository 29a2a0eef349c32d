"""Consent form files after import: sealed with the vault key, the plain file removed, the checksum kept.

A form maps consent ids to residents in clear, so once imported it is kept only as
`consents/imported/<sha256>.sealed` (0600) until its retention period ends; its SHA-256 stays in
`consent_forms`, so the same file dropped in again is recognised and not read twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.keys import KeyRing
from identity.vault import reseal_bytes, seal_bytes, unseal_bytes
from warehouse import audit
from warehouse.models import ConsentForm
from warehouse.private_files import private_dir, write_private

IMPORTED = "imported"
SEALED = ".sealed"


def checksum(data: bytes) -> str:
    """The SHA-256 of a form's bytes."""
    return hashlib.sha256(data).hexdigest()


def recognised(session: Session, digest: str) -> bool:
    """True when a form with these exact bytes was imported before."""
    return session.get(ConsentForm, digest) is not None


def keep(session: Session, folder: Path, keys: KeyRing, name: str, data: bytes, on: dt.date) -> ConsentForm:
    """Seal an imported form into `folder/imported` and record its checksum (the plain file goes later)."""
    digest = checksum(data)
    sealed = digest + SEALED
    private_dir(folder)
    write_private(private_dir(folder / IMPORTED) / sealed, seal_bytes(keys, f"consent-form/{digest}", data))
    form = session.get(ConsentForm, digest)
    if form is None:
        form = ConsentForm(sha256=digest, name=name, imported_on=on, sealed_name=sealed)
        session.add(form)
    session.flush()
    return form


def reseal_all(folder: Path, keys: KeyRing) -> int:
    """Re-encrypt every kept form under the current vault key (re-runnable); returns how many changed."""
    count = 0
    for path in sorted((folder / IMPORTED).glob("*" + SEALED)) if (folder / IMPORTED).is_dir() else []:
        blob = path.read_bytes()
        fresh = reseal_bytes(keys, f"consent-form/{path.name.removesuffix(SEALED)}", blob)
        if fresh is not blob:
            write_private(path, fresh)
            count += 1
    return count


def open_form(folder: Path, keys: KeyRing, digest: str) -> bytes:
    """Decrypt a kept form (for a steward checking an import, never for display)."""
    blob = (folder / IMPORTED / (digest + SEALED)).read_bytes()
    return unseal_bytes(keys, f"consent-form/{digest}", blob)


def remove_imported(session: Session, folder: Path) -> int:
    """Delete the plain forms in `folder` whose checksum is recorded (imported, sealed); returns a count."""
    removed = 0
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        if path.is_symlink() or not path.is_file():
            continue
        if recognised(session, checksum(path.read_bytes())):
            path.unlink()
            removed += 1
    return removed


def expired(session: Session, cutoff: dt.date) -> list[ConsentForm]:
    """Sealed forms imported before the cutoff."""
    query = select(ConsentForm).where(ConsentForm.sealed_name.is_not(None), ConsentForm.imported_on < cutoff)
    return list(session.execute(query).scalars())


def expire(session: Session, folder: Path, actor: str, cutoff: dt.date) -> list[Path]:
    """Mark forms imported before the cutoff deleted (audited); returns the sealed files to delete next."""
    old = expired(session, cutoff)
    if not old:
        return []
    audit.append(session, actor, "retention", "consent_forms", before=cutoff.isoformat(), deleted=len(old))
    paths = []
    for form in old:
        assert form.sealed_name is not None
        paths.append(folder / IMPORTED / form.sealed_name)
        form.sealed_name = None
    return paths
