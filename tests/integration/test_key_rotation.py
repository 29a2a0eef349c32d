"""Key rotation re-keys or re-encrypts everything in one transaction; a crash leaves the old keys in use."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import pytest
from sqlalchemy import JSON, String, Text, select

from identity import rotation
from mimamori import daily
from mimamori.cli import consent as consent_commands
from mimamori.cli import pipeline as commands
from mimamori.cli import steward as steward_commands
from mimamori.context import RunContext
from mimamori.settings import load_settings
from warehouse.db import session_scope, utcnow
from warehouse.errors import InputError
from warehouse.models import (
    Base,
    ConsentRecord,
    ConsentTombstone,
    IdentityVault,
    KeyState,
    LinkMemory,
    Outcome,
    ReadingDay,
    Signal,
    WatchlistEntry,
    WatchPopulation,
    pseudonym_columns,
)

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
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    steward_commands.link_decide(1, accept=True)
    assert set().union(*prefixes(url).values()) == {"k1"}
    assert "k2" in steward_commands.rotate_keys(pseudonym=True, vault=False)
    assert set().union(*prefixes(url).values()) == {"k2"}
    # the next day links from memory under the new key and releases the held rows
    second = daily.run_day(RunContext.from_environment(), "2026-11-03")
    assert second["ingest"]["rows_loaded"] == 5 and second["prepare"]["consents"]["added"] == 0
    assert set().union(*prefixes(url).values()) == {"k2"}
    assert "intact" in commands.audit_verify()[1]


def test_a_crash_half_way_leaves_the_old_key_in_use_and_can_be_run_again(tiny: Path, monkeypatch):
    url = load_settings().database_url
    daily.run_day(RunContext.from_environment(), "2026-11-02")
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
    daily.run_day(RunContext.from_environment(), "2026-11-03")  # still consistent under the old key
    assert prefixes(url)["signals"] == {"k1"}
    monkeypatch.setattr(rotation.audit, "append", real)
    assert "→ k2" in steward_commands.rotate_keys(pseudonym=True, vault=False)
    assert set().union(*prefixes(url).values()) == {"k2"}


def test_vault_rotation_reencrypts_and_identities_stay_readable(tiny: Path):
    url = load_settings().database_url
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    message = steward_commands.rotate_keys(pseudonym=False, vault=True)
    assert "→ v2" in message
    with session_scope(url) as session:
        assert {v.key_id for v in session.execute(select(IdentityVault)).scalars()} == {"v2"}
    assert "ｽｽﾞｷ ｲﾁﾛｳ" in steward_commands.link_review()  # the sealed review re-encrypted too
    assert "スズキ" in steward_commands.link_review()


def test_rotation_needs_exactly_one_target(tiny: Path):
    with pytest.raises(InputError):
        steward_commands.rotate_keys(pseudonym=True, vault=True)


def marked_values(url: str) -> dict[str, set[str]]:
    """Every non-empty value of every column the models mark as holding a pseudonym."""
    found: dict[str, set[str]] = {}
    with session_scope(url) as session:
        for column in pseudonym_columns(Base.metadata):
            values = session.execute(select(column).where(column.is_not(None))).scalars()
            found[f"{column.table.name}.{column.name}"] = set(values)
    return found


def seed_every_marked_table(url: str) -> None:
    """Rows the tiny town's first day does not write: a reading day, an outcome, tombstones (one orphaned)."""
    with session_scope(url) as session:
        resident = session.execute(select(IdentityVault.resident).limit(1)).scalar_one()
        delivery = session.execute(select(Signal.delivery_pk).limit(1)).scalar_one()
        session.add(reading_day(resident, delivery))
        entry = WatchlistEntry(
            entry_id="WL-20261101-test",
            run_date=dt.date(2026, 11, 1),
            resident=resident,
            district_code="D01",
            tier="watch",
            score=1.0,
            rule_set_version="test",
            run_id="test",
        )
        session.add(entry)
        session.flush()
        session.add(
            Outcome(
                entry_id=entry.entry_id,
                resident=resident,
                outcome="no_concern",
                visited_on=entry.run_date,
                recorded_at=utcnow(),
                recorded_by="test",
            )
        )
        for consent_id, who in (("C-old", resident), ("C-gone", "k1:" + "0" * 32)):
            session.add(
                ConsentTombstone(
                    consent_id=consent_id,
                    resident=who,
                    granted_on=dt.date(2025, 1, 1),
                    ended_on=dt.date(2025, 6, 1),
                    reason="withdrawn",
                    purged_at=utcnow(),
                )
            )


def reading_day(resident: str, delivery: int) -> ReadingDay:
    """One day of electricity readings, as the summariser writes them."""
    return ReadingDay(
        delivery_pk=delivery,
        resident=resident,
        partner_id="midori-denki",
        sector="electricity",
        utility="electricity",
        consent_id="C-1",
        day=dt.date(2026, 11, 1),
        total=4.8,
        readings=48,
        first_minute=0,
        last_minute=1440,
        slots=struct.pack("<48d", *([0.1] * 48)),
    )


def test_rotation_changes_the_values_of_every_marked_column(tiny: Path):
    url = load_settings().database_url
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    seed_every_marked_table(url)
    before = marked_values(url)
    empty = sorted(name for name, values in before.items() if not values)
    assert not empty, f"seed a row into {empty} so this test sees it re-keyed"
    steward_commands.rotate_keys(pseudonym=True, vault=False)
    after = marked_values(url)
    for name, values in after.items():
        assert {v.split(":")[0] for v in values} == {"k2"}, name
        assert not values & before[name], name
        assert len(values) == len(before[name]), name  # one new pseudonym per old one, none merged


def test_after_rotation_and_withdrawal_nothing_of_the_person_remains_under_either_key(tiny: Path):
    url = load_settings().database_url
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    with session_scope(url) as session:
        old = session.execute(
            select(ConsentRecord.resident).where(ConsentRecord.consent_id == "C-1")
        ).scalar()
        delivery = session.execute(select(Signal.delivery_pk).limit(1)).scalar_one()
        session.add(reading_day(old, delivery))
    steward_commands.rotate_keys(pseudonym=True, vault=False)
    with session_scope(url) as session:
        new = session.execute(
            select(ConsentRecord.resident).where(ConsentRecord.consent_id == "C-1")
        ).scalar()
    assert new != old and new.startswith("k2:")
    consent_commands.consent_withdraw("C-1", "2026-11-02", revoke=False)
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    # the tombstone keeps the (new) pseudonym, the audit log its purge record, and lists already
    # published before the withdrawal stay as they were; nothing else of the person may remain
    kept = {"consent_tombstones", "audit_log", "watchlist_entries", "outcomes"}
    with session_scope(url) as session:
        for table in Base.metadata.sorted_tables:
            texts = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            for row in session.execute(select(*texts)).tuples() if texts else []:
                flat = repr(tuple(row))
                assert old not in flat, f"{table.name} keeps the old pseudonym"
                assert table.name in kept or new not in flat, f"{table.name} keeps the person"
        assert session.get(ConsentTombstone, "C-1").resident == new
        assert not session.execute(
            select(WatchlistEntry).where(
                WatchlistEntry.resident == new, WatchlistEntry.run_date >= dt.date(2026, 11, 2)
            )
        ).first()


def test_vault_rotation_reseals_outcome_notes(tiny: Path):
    import datetime as dt

    from warehouse.db import utcnow
    from warehouse.models import Outcome, WatchlistEntry
    from watchlist import outcomes

    daily.run_day(RunContext.from_environment(), "2026-11-02")
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
