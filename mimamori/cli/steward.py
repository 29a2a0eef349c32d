"""Data stewards' commands for quarantined batches, the link review queue and key rotation."""

from __future__ import annotations

from sqlalchemy import select

from identity.rotation import active_pseudonym_keys
from mimamori import stewardship
from mimamori.context import RunContext, warehouse_settings
from warehouse.db import session_scope
from warehouse.errors import InputError, NotFoundError
from warehouse.models import Delivery, DeliveryCount
from warehouse.vocabulary import DeliveryStatus


def quarantine_list() -> str:
    """Deliveries that were quarantined, refused or are waiting, with reasons."""
    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        rows = list(
            session.execute(
                select(Delivery)
                .where(Delivery.status != DeliveryStatus.LOADED)
                .order_by(Delivery.partner_id, Delivery.delivery_id)
            ).scalars()
        )
    if not rows:
        return "隔離中の配信はありません / nothing quarantined"
    return "\n".join(f"{d.partner_id}/{d.delivery_id}\t{d.status}\t{d.reason or ''}" for d in rows)


def quarantine_show(ref: str) -> str:
    """One delivery's status, reasons and per-reason row counts (never row contents)."""
    partner_id, _, delivery_id = ref.partition("/")
    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        d = session.execute(
            select(Delivery).where(Delivery.partner_id == partner_id, Delivery.delivery_id == delivery_id)
        ).scalar_one_or_none()
        if d is None:
            raise NotFoundError(f"no delivery {ref} (expected PARTNER/DELIVERY_ID)")
        counts = session.execute(
            select(DeliveryCount)
            .where(DeliveryCount.delivery_pk == d.id)
            .order_by(DeliveryCount.stage, DeliveryCount.reason)
        ).scalars()
        lines = [
            f"{d.partner_id}/{d.delivery_id}  {d.status}  {d.reason or ''}",
            f"rows: {d.rows_total} in manifest, {d.rows_loaded} loaded",
        ]
        lines += [f"  {c.stage}: {c.reason} × {c.count}" for c in counts]
    return "\n".join(lines)


def link_review() -> str:
    """Both sides of every pending review, for a steward to decide; reading the vault is audited."""
    from identity import review
    from identity.access import read_identities

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        waiting = review.pending(session)
        if not waiting:
            return "確認待ちの名寄せはありません / no link reviews pending"
        candidates = read_identities(
            session,
            settings.vault_keys,
            [r.candidate for r in waiting],
            actor=settings.actor,
            purpose="link_review",
            subject="link review queue",
        )
        lines = []
        for r in waiting:
            theirs, ours = review.partner_side(settings.vault_keys, r), candidates.get(r.candidate, {})
            lines.append(f"#{r.id}  {r.partner_id}  score {r.score:.1f}  held since {r.created_at:%Y-%m-%d}")
            for label, key in (
                ("カナ", "name_kana"),
                ("氏名", "name_kanji"),
                ("生年月日", "birth_date"),
                ("住所", "address"),
                ("電話", "phone"),
            ):
                lines.append(f"    {label}\t事業者 {theirs.get(key, '')}\t| 台帳 {ours.get(key, '')}")
        return "\n".join(lines)


def link_decide(review_id: int, accept: bool) -> str:
    """Record a steward's link decision (audited)."""
    from identity import review

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        decided = review.decide(
            session,
            review_id,
            accept,
            settings.actor,
            active_pseudonym_keys(session, settings.pseudonym_keys).current_id,
        )
    verb = "承認 / accepted" if accept else "却下 / rejected"
    return f"#{decided.id} {verb}: 保留中の行は次回の実行で処理されます / held rows go at the next run"


def rotate_keys(pseudonym: bool, vault: bool) -> str:
    """Rotate the pseudonym key (re-key every pseudonym) or the vault key (re-encrypt everything sealed)."""
    if pseudonym == vault:
        raise InputError("choose exactly one of --pseudonym or --vault")
    ctx = RunContext.from_environment().with_warehouse()
    result = stewardship.rotate_key(ctx, "pseudonym" if pseudonym else "vault")
    return (
        f"鍵を更新しました / rotated {result['purpose']} key → {result['to_key']}: "
        f"{result['records']} records re-keyed, {result['files']} quarantined files re-encrypted"
    )


def quarantine_release(ref: str) -> str:
    """Release a quarantined or refused delivery for the next run (audited)."""
    from expectations import quarantine

    partner_id, _, delivery_id = ref.partition("/")
    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        quarantine.release(
            session,
            settings.path("quarantine"),
            settings.vault_keys,
            settings.path("inbox"),
            partner_id,
            delivery_id,
            settings.actor,
            released=settings.path("released"),
        )
    return f"{ref}: 次回の実行で再処理します / released for the next run"


def quarantine_discard(ref: str) -> str:
    """Discard a quarantined or refused delivery for good (audited)."""
    from expectations import quarantine

    partner_id, _, delivery_id = ref.partition("/")
    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        quarantine.discard(session, settings.path("quarantine"), partner_id, delivery_id, settings.actor)
    return f"{ref}: 破棄しました / discarded; it will not be read again"
