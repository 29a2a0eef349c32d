"""Backups of a data home: the warehouse, the audit checkpoints and key references, in one sealed archive.

The archive is a tar file sealed with the vault key ring (AES-256-GCM, the vault's own sealing), with a
manifest giving every member's SHA-256. It holds the key ids the data needs, never a secret key unless the
operator asks for them; restoring needs the vault key that sealed it and refuses an altered archive.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from identity.keys import KeyRing, keyring_spec, parse_keyring
from identity.vault import seal_bytes, sealed_key_id, unseal_bytes
from mimamori import daily
from mimamori.settings import Settings
from warehouse import audit, checkpoints, dump
from warehouse.db import session_scope, utcnow
from warehouse.errors import AuditLogError, ConfigurationError, InputError, TamperingError
from warehouse.private_files import private_dir, write_private

FORMAT = "mimamori-backup/1"
MAGIC = FORMAT.encode() + b"\n"
MANIFEST, REFERENCES = "manifest.json", "keys.json"
SETTINGS_FILES = ("municipality.yaml", "partners.yaml", "rules.yaml")
AUDIT_FILES = tuple(f"audit/{name}" for name in (checkpoints.CHECKPOINTS, checkpoints.PUBLIC_KEYS))
RINGS = ("pseudonym", "vault", "audit")
ALTERED = "バックアップが改ざんされています / backup archive altered"


def _rings(settings: Settings) -> dict[str, KeyRing | None]:
    return {"pseudonym": settings.pseudonym_keys, "vault": settings.vault_keys, "audit": settings.audit_keys}


def _references(settings: Settings) -> dict[str, Any]:
    """The key ids the backed-up data was written or signed under (references, no key material)."""
    found: dict[str, Any] = {
        name: {"current": ring.current_id, "ids": sorted(ring.keys)}
        for name, ring in _rings(settings).items()
        if ring is not None
    }
    found["audit"] = {**found.get("audit", {}), "ids": sorted(settings.audit_public_keys)}
    return found


def _home_files(home: Path) -> dict[str, bytes]:
    """The audit checkpoints first (so the dump taken after holds every record they sign), then settings."""
    names = [*AUDIT_FILES, *SETTINGS_FILES]
    quarantine = home / "quarantine"
    if quarantine.is_dir():
        names += sorted(str(p.relative_to(home)) for p in quarantine.rglob("*") if p.is_file())
    return {name: (home / name).read_bytes() for name in names if (home / name).is_file()}


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(body), 0o600
            archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def _untar(data: bytes) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for info in archive.getmembers():
            name = Path(info.name)
            if not info.isfile() or name.is_absolute() or ".." in name.parts:
                raise TamperingError(f"{ALTERED}: unexpected member {info.name!r}")
            handle = archive.extractfile(info)
            members[info.name] = handle.read() if handle else b""
    return members


def _check_log(settings: Settings) -> tuple[int, str]:
    """The log's size and head once the chain and its signed checkpoints verify; AuditLogError if not."""
    with session_scope(settings.database_url) as session:
        walked = audit.verify(session)
        problem = checkpoints.verify(session, settings.path("audit"), settings.audit_public_keys)
        size, head = audit.head(session)
    if not walked.ok:
        problem = f"record {walked.broken_at}: {walked.problem}"
    if problem:
        raise AuditLogError(f"監査ログが改ざんされています / audit log altered: {problem}")
    return size, head


def make_backup(settings: Settings, target: Path, with_secret_keys: bool = False) -> dict[str, Any]:
    """Seal the warehouse, checkpoints, settings and key ids into `target` (audited); returns the manifest."""
    if target.exists():
        raise InputError(f"{target} はすでにあります / already exists: a backup is never overwritten")
    _check_log(settings)
    with session_scope(settings.database_url) as session:
        audit.append(session, settings.actor, "backup", target.name, secret_keys=with_secret_keys)
    daily.checkpoint(settings)
    size, head = _check_log(settings)
    members = _home_files(settings.home)
    with tempfile.TemporaryDirectory() as folder:
        kind = dump.dump(settings.database_url, Path(folder) / "dump")
        members[dump.MEMBER[kind]] = (Path(folder) / "dump").read_bytes()
    members[REFERENCES] = json.dumps(_references(settings), indent=1, sort_keys=True).encode()
    if with_secret_keys:
        for name, ring in _rings(settings).items():
            if ring is not None:
                members[f"keys/{name}.key"] = (keyring_spec(ring) + "\n").encode()
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(timespec="seconds") + "Z",
        "database": kind,
        "audit": {"records": size, "head": head},
        "secret_keys": with_secret_keys,
        "members": {
            name: {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
            for name, body in sorted(members.items())
        },
    }
    archive = _tar({MANIFEST: json.dumps(manifest, indent=1, sort_keys=True).encode(), **members})
    write_private(target, MAGIC + seal_bytes(settings.vault_keys, FORMAT, archive))
    return manifest


def open_backup(path: Path, vault: KeyRing) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and members of a sealed backup; TamperingError when it was altered."""
    try:
        data = path.read_bytes()
    except OSError as problem:
        raise InputError(f"{path}: {problem.strerror}") from None
    if not data.startswith(MAGIC):
        raise InputError(f"{path.name} は見守りのバックアップではありません / not a Mimamori backup")
    blob = data[len(MAGIC) :]
    try:
        key_id = sealed_key_id(blob)
    except UnicodeDecodeError:
        raise TamperingError(ALTERED) from None
    if key_id not in vault.keys:
        raise ConfigurationError(
            f"このバックアップは保管用の鍵 {key_id!r} で封印されています / sealed under vault key "
            f"{key_id!r}, which the given key ring lacks (--key-file or MIMAMORI_VAULT_KEYS)"
        )
    try:
        members = _untar(unseal_bytes(vault, FORMAT, blob))
        manifest = json.loads(members.pop(MANIFEST))
        listed = manifest["members"]
    except (ConfigurationError, KeyError, ValueError, tarfile.TarError):
        raise TamperingError(ALTERED) from None
    if set(listed) != set(members) or any(
        hashlib.sha256(body).hexdigest() != listed[name]["sha256"] for name, body in members.items()
    ):
        raise TamperingError(f"{ALTERED}: the members do not match the manifest")
    return manifest, members


@dataclass(frozen=True)
class RestoreKeys:
    """The keys an operator brings to a restore: from the environment, and the vault key that sealed it."""

    vault: KeyRing
    given: dict[str, KeyRing]  # from MIMAMORI_*_KEYS, by ring name
    audit_public: frozenset[str] = frozenset()  # key ids in MIMAMORI_AUDIT_PUBLIC_KEYS
    production: bool = False


def _choose_rings(members: dict[str, bytes], keys: RestoreKeys) -> dict[str, KeyRing]:
    """The ring each name will use after the restore; ConfigurationError naming whatever is missing."""
    references = json.loads(members[REFERENCES])
    chosen: dict[str, KeyRing] = {"vault": keys.vault, **keys.given}
    if not keys.production:  # production keys live in the environment only
        for name in RINGS:
            sealed = members.get(f"keys/{name}.key")
            if sealed is not None and name not in keys.given:
                chosen.setdefault(name, parse_keyring(sealed.decode().strip(), f"backup keys/{name}.key"))
    missing = []
    for name in RINGS:
        held = set(chosen[name].keys) if name in chosen else set()
        if name == "audit":
            held |= keys.audit_public
        lacking = sorted(set(references.get(name, {}).get("ids", [])) - held)
        if lacking:
            missing.append(f"{name} {', '.join(lacking)} (MIMAMORI_{name.upper()}_KEYS)")
    if missing:
        raise ConfigurationError(
            "復元に必要な鍵がありません / keys the backup needs are missing: " + "; ".join(missing)
        )
    return chosen


def restore_backup(path: Path, home: Path, database_url: str, keys: RestoreKeys) -> dict[str, Any]:
    """Restore a backup into an empty data home and warehouse; returns the manifest."""
    if home.exists() and any(home.iterdir()):
        raise InputError(f"{home} は空ではありません / data home not empty: restore only into a new one")
    if not dump.is_empty(database_url):
        raise InputError(
            "倉庫にすでにデータがあります / the warehouse is not empty: restore only into a new one"
        )
    manifest, members = open_backup(path, keys.vault)
    chosen = _choose_rings(members, keys)
    private_dir(home)
    for name, body in members.items():
        if name.startswith("keys/") or name in (REFERENCES, *dump.MEMBER.values()):
            continue
        write_private(home / name, body)
    if not keys.production:  # development keys live in the home; those from the environment stay there
        for name, ring in chosen.items():
            if name not in keys.given:
                write_private(home / "keys" / f"{name}.key", (keyring_spec(ring) + "\n").encode())
    kind = manifest["database"]
    with tempfile.TemporaryDirectory() as folder:
        staged = Path(folder) / "dump"
        staged.write_bytes(members[dump.MEMBER[kind]])
        dump.load(database_url, staged, kind)
    return manifest


def after_restore(settings: Settings, manifest: dict[str, Any], source: Path) -> str:
    """Verify the restored log against its checkpoints, record the restore, and say what came back."""
    size, _ = _check_log(settings)
    if size < manifest["audit"]["records"]:
        raise AuditLogError(
            f"{ALTERED}: the log holds {size} records, the backup {manifest['audit']['records']}"
        )
    with session_scope(settings.database_url) as session:
        audit.append(session, settings.actor, "backup_restored", source.name, made=manifest["created_at"])
    return (
        f"復元しました / restored: {manifest['database']} warehouse of {manifest['created_at']}, audit log "
        f"intact ({size} records), {len(manifest['members'])} files"
    )
