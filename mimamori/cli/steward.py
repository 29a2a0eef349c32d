"""Data stewards' commands for quarantined batches, the link review queue and key rotation."""

from __future__ import annotations

from collections.abc import Callable

from mimamori import key_rotation, stewardship
from mimamori.context import RunContext, warehouse_settings
from warehouse.db import session_scope
from warehouse.errors import InputError


def quarantine_list() -> str:
    """Deliveries held back (quarantined or refused), each with its reason in Japanese and the next step."""
    from mimamori.stewardship import DELIVERY_LABELS, held_deliveries

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        rows = [
            f"{d.partner_id}/{d.delivery_id}\t{DELIVERY_LABELS.get(d.status, d.status)} {d.status}\t"
            f"{advice.what_ja}\t次に: {advice.next_ja}\t({d.reason or ''})"
            for d, advice in held_deliveries(session)
        ]
    if not rows:
        return "隔離中の配信はありません / nothing quarantined"
    return "\n".join(["配信\t状態\t理由\t次にすること\t記録された理由", *rows])


def quarantine_show(ref: str) -> str:
    """One delivery's status, reasons (in Japanese, with the next step) and per-reason row counts."""
    from expectations.quarantine import find_delivery
    from mimamori.stewardship import DELIVERY_LABELS, delivery_story

    partner_id, _, delivery_id = ref.partition("/")
    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        story = delivery_story(session, find_delivery(session, partner_id, delivery_id).id)
        d = story.delivery
        lines = [
            f"{d.partner_id}/{d.delivery_id}  {DELIVERY_LABELS.get(d.status, d.status)} {d.status}  "
            f"{d.reason or ''}",
            f"行数 rows: {d.rows_total} in manifest, {d.rows_loaded} loaded",
        ]
        if story.advice is not None:
            lines += [f"理由: {story.advice.what_ja}", f"次に: {story.advice.next_ja}"]
        lines += [f"  {stage}: {label} × {count}" for stage, label, count in story.counts]
    return "\n".join(lines)


def link_review(at: int = 1) -> str:
    """One pending review (the `at`-th, oldest first) with both sides and the differing fields marked;
    reading the vault is audited."""
    from mimamori.stewardship import REVIEW_FIELDS, review_page

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        shown = review_page(session, settings, at, settings.actor)
        if shown is None:
            return "確認待ちの名寄せはありません / no link reviews pending"
        r = shown.review
        lines = [
            f"{shown.position}/{shown.total}  #{r.id}  {r.partner_id}  一致度 score {r.score:.1f}  "
            f"保留 held since {r.created_at:%Y-%m-%d}",
            "項目\t事業者 partner\t| 台帳 register",
        ]
        for key, label in REVIEW_FIELDS:
            theirs, ours = shown.partner.get(key) or "（なし）", shown.register.get(key) or "（なし）"
            mark = "  ≠" if key in shown.differs else ""
            lines.append(f"{label}\t{theirs}\t| {ours}{mark}")
        if shown.position < shown.total:
            lines.append(f"次の組 / next: mimamori link review --at {shown.position + 1}")
        lines.append(f"決定 / decide: mimamori link accept {r.id}  または  mimamori link reject {r.id}")
    return "\n".join(lines)


def link_decide(review_id: int, accept: bool) -> str:
    """Record a steward's link decision (audited)."""
    from mimamori.stewardship import decide_review

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        decided = decide_review(session, settings, review_id, accept, settings.actor)
    verb = "承認 / accepted" if accept else "却下 / rejected"
    return f"#{decided.id} {verb}: 保留中の行は次回の実行で処理されます / held rows go at the next run"


def rotate_keys(pseudonym: bool, vault: bool) -> str:
    """Rotate the pseudonym key (re-key every pseudonym) or the vault key (re-encrypt everything sealed)."""
    if pseudonym == vault:
        raise InputError("choose exactly one of --pseudonym or --vault")
    ctx = RunContext.from_environment().with_warehouse()
    result = key_rotation.rotate_key(ctx, "pseudonym" if pseudonym else "vault")
    return (
        f"鍵を更新しました / rotated {result['purpose']} key → {result['to_key']}: "
        f"{result['records']} records re-keyed, {result['files']} quarantined files re-encrypted"
    )


def _decide_held(ref: str, decide: Callable[..., object], why: str) -> None:
    """Find a held delivery by `partner/delivery` and record the steward's decision on it (audited)."""
    from expectations import quarantine

    partner_id, _, delivery_id = ref.partition("/")
    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        delivery = quarantine.find_delivery(session, partner_id, delivery_id)
        decide(session, settings, delivery, settings.actor, why)


def quarantine_release(ref: str, why: str = "コマンドから解放 / released from the command line") -> str:
    """Release a quarantined or refused delivery for the next run, with a reason (audited)."""
    _decide_held(ref, stewardship.release, why)
    return f"{ref}: 次回の実行で再処理します / released for the next run"


def quarantine_discard(ref: str, why: str = "コマンドから破棄 / discarded from the command line") -> str:
    """Discard a quarantined or refused delivery for good, with a reason (audited)."""
    _decide_held(ref, stewardship.discard, why)
    return f"{ref}: 破棄しました / discarded; it will not be read again"
