"""Linkage in a tiny home: remembered links, a review whose rows wait, and the steward's decision."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mimamori import daily
from mimamori.cli import steward as steward_commands
from mimamori.context import RunContext
from mimamori.settings import load_settings
from warehouse.db import session_scope
from warehouse.models import AuditRecord, HeldRows, LinkMemory, LinkReview, Signal

pytestmark = pytest.mark.integration


def counts(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {
            "signals": session.execute(select(func.count()).select_from(Signal)).scalar_one(),
            "memory": session.execute(select(func.count()).select_from(LinkMemory)).scalar_one(),
            "pending": session.execute(
                select(func.count()).select_from(LinkReview).where(LinkReview.status == "pending")
            ).scalar_one(),
            "held": session.execute(
                select(func.coalesce(func.sum(HeldRows.rows), 0)).where(HeldRows.released_at.is_(None))
            ).scalar_one(),
        }


def test_review_holds_rows_until_the_steward_decides_and_links_are_remembered(tiny: Path):
    url = load_settings().database_url
    first = daily.run_day(RunContext.from_environment(), "2026-11-02")
    assert first["ingest"]["deliveries"] == {"loaded": 1}
    assert counts(url) == {"signals": 1, "memory": 1, "pending": 1, "held": 2}
    assert first["ingest"]["dropped"] == {"held_for_review": 2}

    screen = steward_commands.link_review()
    assert "ｽｽﾞｷ ｲﾁﾛｳ" in screen and "スズキ　イチロウ" in screen and "#1" in screen
    assert steward_commands.link_decide(1, accept=True).startswith("#1")
    with pytest.raises(Exception, match="already accepted"):
        steward_commands.link_decide(1, accept=False)

    second = daily.run_day(RunContext.from_environment(), "2026-11-03")
    # the held rows of day one are loaded, day two links both customers from memory without review
    assert counts(url) == {"signals": 1 + 2 + 3, "memory": 2, "pending": 0, "held": 0}
    with session_scope(url) as session:
        outcomes = {m.decision for m in session.execute(select(LinkMemory)).scalars()}
        actions = [a.action for a in session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars()]
    assert outcomes == {"link", "accepted"}
    assert "link_review" in actions and actions.count("vault_read") >= 3
    assert second["ingest"]["rows_loaded"] == 3 + 2


def test_a_rejected_review_drops_its_rows_and_remembers_the_customer_as_no_match(tiny: Path):
    url = load_settings().database_url
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    steward_commands.link_decide(1, accept=False)
    second = daily.run_day(RunContext.from_environment(), "2026-11-03")
    assert counts(url) == {"signals": 2, "memory": 2, "pending": 0, "held": 0}
    assert second["ingest"]["dropped"]["review_rejected"] == 2
    assert second["ingest"]["dropped"]["no_consent"] == 2  # day two: remembered as rejected, never guessed


def test_a_changed_identity_on_a_known_customer_is_checked_again(tmp_path: Path):
    from identity.keys import KeyRing
    from identity.link import Linker, identity_keys
    from identity.resolver import Resolver
    from warehouse.db import migrate

    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrate(url)
    ring, vault = KeyRing("k1", {"k1": b"p" * 32}), KeyRing("v1", {"v1": b"v" * 32})
    linker = Linker(
        {"r1": identity_keys("ヤマダ　ハナコ", "山田　花子", "1940-03-02", "本町1-2-3", "", "", "")}
    )
    hanako = ("KC1", "ﾔﾏﾀﾞ ﾊﾅｺ", "山田花子", "19400302", "本町1-2-3", "")
    moved = ("KC1", "ﾔﾏﾀﾞ ﾊﾅｺ", "山田花子", "19400302", "栄町9-9-9", "")
    stranger = ("KC1", "ｽｽﾞｷ ｲﾁﾛｳ", "鈴木一郎", "19380506", "栄町9-9-9", "")
    with session_scope(url) as session:
        resolver = Resolver(session, ring, vault, linker, "神奈川県", "みどり市", "t")
        assert resolver.resolve("kanda-coop", hanako).outcome == "link"
        assert resolver.resolve("kanda-coop", hanako).outcome == "remembered"
        again = resolver.resolve("kanda-coop", moved)  # same customer id, new address: scored again
        assert (again.outcome, again.resident) == ("link", "r1")
        assert resolver.resolve("kanda-coop", stranger).outcome == "no_match"
        # after key rotation the old key still finds the remembered customer, and re-keys it
        rotated = Resolver(
            session, KeyRing("k2", {"k2": b"q" * 32, "k1": b"p" * 32}), vault, linker, "", "", "t"
        )
        assert rotated.resolve("kanda-coop", moved).outcome == "remembered"
        assert {m.key_id for m in session.execute(select(LinkMemory)).scalars()} == {"k2"}


def test_rows_accepted_in_review_are_an_amended_record_of_provision_beside_the_original(tiny: Path):
    from consent.provision import amendments, log
    from mimamori.cli import consent as consent_commands
    from warehouse.models import ProvisionRecord

    url = load_settings().database_url
    daily.run_day(RunContext.from_environment(), "2026-11-02")
    with session_scope(url) as session:
        [original] = log(session, None, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        first = (original.delivery_pk, original.rows, original.residents, original.consent_ids)
    assert first[1:] == (1, 1, 1)  # the linked customer's row only; two rows wait for the steward

    steward_commands.link_decide(1, accept=True)
    daily.run_day(RunContext.from_environment(), "2026-11-03")
    with session_scope(url) as session:
        kept = session.get(ProvisionRecord, first[0])
        assert kept is not None and (kept.delivery_pk, kept.rows, kept.residents, kept.consent_ids) == first
        [amended] = amendments(session, None, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        assert amended.amends == first[0] and amended.amended_on == dt.date(2026, 11, 3)
        assert (amended.rows, amended.residents, amended.consent_ids) == (2, 1, 1)
        assert amended.received_on == original.received_on and amended.review_id == 1

    printed = consent_commands.provision_log(None, "2026-11-01", "2026-11-30").splitlines()
    assert len(printed) == 2 + 1  # the day-one original, its amendment, the day-two delivery
    assert sum("訂正" in line and "amended" in line for line in printed) == 1

    daily.run_day(
        RunContext.from_environment(), "2026-11-04"
    )  # released rows are recorded once, not again at the next run
    with session_scope(url) as session:
        assert len(amendments(session, None, dt.date(2026, 11, 1), dt.date(2026, 11, 30))) == 1
