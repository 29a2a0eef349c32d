"""Key rotation re-keys or re-encrypts everything in one transaction; a crash leaves the old keys in use."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from identity import rotation
from mimamori import commands, daily, steward_commands
from mimamori.settings import load_settings
from warehouse.db import session_scope
from warehouse.errors import InputError
from warehouse.models import ConsentRecord, IdentityVault, KeyState, LinkMemory, Signal, WatchPopulation

pytestmark = pytest.mark.integration


def prefixes(url: str) -> dict[str, set[str]]:
    with session_scope(url) as session:
        return {
            "signals": {s.resident.split(":")[0] for s in session.execute(select(Signal)).scalars()},
            "population": {
                p.resident.split(":")[0] for p in session.execute(select(WatchPopulation)).scalars()
            },
            "consents": {c.resident.split(":")[0] for c in session.execute(select(ConsentRecord)).scalars()},
            "vault": {v.resident.split(":")[0] for v in session.execute(select(IdentityVault)).scalars()},
            "memory": {
                m.resident.split(":")[0] for m in session.execute(select(LinkMemory)).scalars() if m.resident
            },
        }


def test_pseudonym_rotation_rekeys_everything_and_keeps_links_and_history(tiny: Path):
    url = load_settings().database_url
    daily.run_day("2026-11-02")
    steward_commands.link_decide(1, accept=True)
    assert set().union(*prefixes(url).values()) == {"k1"}
    assert "k2" in steward_commands.rotate_keys(pseudonym=True, vault=False)
    assert set().union(*prefixes(url).values()) == {"k2"}
    # the next day links from memory under the new key and releases the held rows
    second = daily.run_day("2026-11-03")
    assert second["ingest"]["rows_loaded"] == 5 and second["prepare"]["consents"]["added"] == 0
    assert set().union(*prefixes(url).values()) == {"k2"}
    assert "intact" in commands.audit_verify()[1]


def test_a_crash_half_way_leaves_the_old_key_in_use_and_can_be_run_again(tiny: Path, monkeypatch):
    url = load_settings().database_url
    daily.run_day("2026-11-02")
    before = prefixes(url)
    real = rotation.audit.append

    def crash(session, actor, action, subject, **detail):
        if action == "key_rotation":
            raise RuntimeError("power cut")
        return real(session, actor, action, subject, **detail)

    monkeypatch.setattr(rotation.audit, "append", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        steward_commands.rotate_keys(pseudonym=True, vault=False)
    assert prefixes(url) == before
    with session_scope(url) as session:
        assert session.get(KeyState, "pseudonym").active_key_id == "k1"
    daily.run_day("2026-11-03")  # still consistent under the old key
    assert prefixes(url)["signals"] == {"k1"}
    monkeypatch.setattr(rotation.audit, "append", real)
    assert "→ k2" in steward_commands.rotate_keys(pseudonym=True, vault=False)
    assert set().union(*prefixes(url).values()) == {"k2"}


def test_vault_rotation_reencrypts_and_identities_stay_readable(tiny: Path):
    url = load_settings().database_url
    daily.run_day("2026-11-02")
    message = steward_commands.rotate_keys(pseudonym=False, vault=True)
    assert "→ v2" in message
    with session_scope(url) as session:
        assert {v.key_id for v in session.execute(select(IdentityVault)).scalars()} == {"v2"}
    assert "ｽｽﾞｷ ｲﾁﾛｳ" in steward_commands.link_review()  # the sealed review re-encrypted too
    assert "スズキ" in steward_commands.link_review()


def test_rotation_needs_exactly_one_target(tiny: Path):
    with pytest.raises(InputError):
        steward_commands.rotate_keys(pseudonym=True, vault=True)


def test_vault_rotation_reseals_outcome_notes(tiny: Path):
    import datetime as dt

    from warehouse.db import utcnow
    from warehouse.models import Outcome, WatchlistEntry
    from watchlist import outcomes

    daily.run_day("2026-11-02")
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        vault = session.execute(select(IdentityVault).limit(1)).scalar_one()
        day = dt.date(2026, 11, 2)
        entry = WatchlistEntry(
            entry_id="WL-20261102-rotation01",
            run_date=day,
            resident=vault.resident,
            district_code=vault.district_code,
            tier="high",
            score=5.0,
            rule_set_version="test",
            run_id="test",
        )
        session.add(entry)
        session.flush()
        outcomes.record(
            session, settings.vault_keys, entry, "not_home", day, None, "郵便受けがいっぱい", "t", utcnow()
        )
    steward_commands.rotate_keys(pseudonym=False, vault=True)
    rotated = load_settings()
    with session_scope(rotated.database_url) as session:
        note = session.execute(select(Outcome.note_sealed)).scalar_one()
        assert note is not None and note[:12].rstrip(b"\x00") == b"v2"
        resident = session.execute(select(Outcome.resident)).scalar_one()
        (shown,) = outcomes.history(session, rotated.vault_keys, resident, day, "t", with_notes=True)
    assert shown.note == "郵便受けがいっぱい"
