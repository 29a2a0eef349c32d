"""The auditor's commands: verify the chain and its signed checkpoints (public keys only), export the head."""

from __future__ import annotations

import json
from pathlib import Path

from mimamori import daily
from mimamori.settings import Settings
from warehouse import audit, checkpoints
from warehouse.db import session_scope
from warehouse.errors import AuditLogError

ALTERED = "監査ログが改ざんされています / audit log altered"


def verify(settings: Settings, head_file: Path | None = None) -> tuple[bool, str]:
    """Verify the chain, every signed checkpoint and, if given, an exported head; (ok, one-line message)."""
    exported = checkpoints.read_head(head_file) if head_file else None
    keys = settings.audit_public_keys
    with session_scope(settings.database_url) as session:
        result = audit.verify(session)
        problem = checkpoints.verify(session, settings.path("audit"), keys)
        if problem is None and exported is not None:
            problem = checkpoints.verify_head(session, exported, keys)
    if not result.ok:
        return False, f"{ALTERED} at record {result.broken_at}: {result.problem}"
    if problem:
        return False, f"{ALTERED}: {problem}"
    against = f", exported head {exported['size']} held" if exported else ""
    return True, (
        f"監査ログは正常です / audit log intact: {result.records} records, head {result.head[:16]}{against}"
    )


def export_head(settings: Settings) -> str:
    """The signed head as JSON, after the log verified (and, with the signing key, a fresh checkpoint)."""
    ok, message = verify(settings)
    if not ok:
        raise AuditLogError(message)
    daily.checkpoint(settings)
    return json.dumps(checkpoints.export_head(settings.path("audit")), ensure_ascii=False, sort_keys=True)
