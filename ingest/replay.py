"""Replays and corrections: a file is loaded once, an event counts once, a correction replaces its original.

A data file whose SHA-256 was already loaded by another delivery of the same partner is refused as a replay;
an event (partner, resident pseudonym, event type, event time) already loaded by another delivery is dropped
and counted as `repeated_event`; a manifest's `supersedes` names an earlier delivery of the same partner,
whose rows are withdrawn when the correction loads (both stay recorded).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connectors import Manifest
from warehouse import reading_days
from warehouse.models import Delivery, DeliveryCount, HeldRows, ProvisionRecord, Signal
from warehouse.vocabulary import DeliveryStatus

LOADED, SUPERSEDED = DeliveryStatus.LOADED, DeliveryStatus.SUPERSEDED
REPEATED_EVENT = "repeated_event"
EVENT_KEY = ["resident", "event_type", "event_start"]


def refusal(session: Session, partner_id: str, manifest: Manifest) -> str | None:
    """Why a delivery may not load as a replay or a correction of nothing, or None."""
    ref = f"{partner_id}/{manifest.delivery_id}"
    if manifest.supersedes is not None:
        earlier = _delivery(session, partner_id, manifest.supersedes)
        if earlier is None:
            return (
                f"訂正対象の配信 {manifest.supersedes} が見つかりません / "
                f"supersedes {manifest.supersedes!r}: no such delivery of {partner_id} was received"
            )
        if earlier.status == SUPERSEDED:
            return (
                f"配信 {manifest.supersedes} は既に訂正済みです / {manifest.supersedes!r} was already "
                f"superseded ({earlier.reason or ''}); supersede the newest correction instead"
            )
    # A file without rows carries nothing to count twice (and headers alone are often identical).
    wanted = {f.sha256: f.name for f in manifest.files if f.rows > 0}
    if not wanted:
        return None
    others = session.execute(
        select(Delivery.delivery_id, Delivery.files).where(
            Delivery.partner_id == partner_id,
            Delivery.status.in_((LOADED, SUPERSEDED)),
            Delivery.delivery_id.not_in([manifest.delivery_id, manifest.supersedes or manifest.delivery_id]),
        )
    ).all()
    for delivery_id, files in sorted(others, key=lambda row: str(row[0])):
        for loaded in files or []:
            name = wanted.get(str(loaded.get("sha256", "")).lower())
            if name is not None:
                return (
                    f"ファイル {name} は配信 {partner_id}/{delivery_id} で読み込み済みです（再送） / "
                    f"file {name} was already loaded in delivery {partner_id}/{delivery_id}: refused as a "
                    f"replay of {ref}; a correction names the earlier delivery in `supersedes`"
                )
    return None


def _delivery(session: Session, partner_id: str, delivery_id: str) -> Delivery | None:
    return session.execute(
        select(Delivery).where(Delivery.partner_id == partner_id, Delivery.delivery_id == delivery_id)
    ).scalar_one_or_none()


def forget_load(session: Session, delivery_pk: int) -> None:
    """Withdraw what loading a delivery wrote: signals, reading days, counts, provision and held rows."""
    session.execute(delete(Signal).where(Signal.delivery_pk == delivery_pk))
    reading_days.forget(session, delivery_pk)
    session.execute(delete(DeliveryCount).where(DeliveryCount.delivery_pk == delivery_pk))
    session.execute(delete(ProvisionRecord).where(ProvisionRecord.delivery_pk == delivery_pk))
    session.execute(
        delete(HeldRows).where(HeldRows.delivery_pk == delivery_pk, HeldRows.released_at.is_(None))
    )
    delivery = session.get(Delivery, delivery_pk)
    if delivery is not None:
        delivery.rows_loaded = 0


def supersede(session: Session, partner_id: str, manifest: Manifest) -> str | None:
    """Withdraw the rows of the delivery this one corrects and mark it superseded; its ref, or None."""
    if manifest.supersedes is None:
        return None
    earlier = _delivery(session, partner_id, manifest.supersedes)
    assert earlier is not None, "refusal() is asked first"
    session.execute(delete(Signal).where(Signal.delivery_pk == earlier.id))
    reading_days.forget(session, earlier.id)
    session.execute(
        delete(HeldRows).where(HeldRows.delivery_pk == earlier.id, HeldRows.released_at.is_(None))
    )
    by = f"{partner_id}/{manifest.delivery_id}"
    earlier.status, earlier.rows_loaded = SUPERSEDED, 0
    earlier.reason = f"訂正配信 {by} に置き換えられました / superseded by {by}; its rows were replaced"
    session.flush()
    return f"{partner_id}/{earlier.delivery_id}"


def drop_known_events(
    session: Session, delivery_pk: int, partner_id: str, signals: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """The signals without the events another delivery of the partner already loaded, and how many went."""
    events = signals["kind"] == "event"
    if not events.any():
        return signals, 0
    starts = signals.loc[events, "event_start"]
    known = session.execute(
        select(Signal.resident, Signal.event_type, Signal.event_start).where(
            Signal.partner_id == partner_id,
            Signal.kind == "event",
            Signal.delivery_pk != delivery_pk,
            Signal.event_start >= starts.min().to_pydatetime(),
            Signal.event_start <= starts.max().to_pydatetime(),
        )
    ).all()
    if not known:
        return signals, 0
    seen = pd.DataFrame(known, columns=EVENT_KEY)
    seen["event_start"] = pd.to_datetime(seen["event_start"]).astype("datetime64[ns]")
    mine = signals.loc[:, EVENT_KEY].astype({"event_start": "datetime64[ns]"})
    repeated = pd.MultiIndex.from_frame(mine).isin(pd.MultiIndex.from_frame(seen)) & events.to_numpy()
    return signals.loc[~repeated].reset_index(drop=True), int(repeated.sum())
