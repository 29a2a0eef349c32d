"""Data stewards' consent commands: list, show, import, grant, withdraw, renew, reports, receipts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import func, select

from consent.book import latest_records, versions
from identity.rotation import active_pseudonym_keys
from mimamori.context import warehouse_settings
from mimamori.daily import parse_run_date
from warehouse.db import session_scope
from warehouse.errors import InputError, NotFoundError


def consent_list(status: str | None, expiring_within: int | None) -> str:
    """Current version of every consent, filtered."""
    settings = warehouse_settings()
    today = dt.date.today()
    with session_scope(settings.database_url) as session:
        records = latest_records(session)
    lines = []
    for r in records:
        current = "expired" if r.status != "withdrawn" and r.expires_on and r.expires_on < today else r.status
        if status and current != status:
            continue
        if expiring_within is not None and not (
            r.expires_on and 0 <= (r.expires_on - today).days <= expiring_within
        ):
            continue
        lines.append(
            f"{r.consent_id}\t{current}\tv{r.version}\t{r.granted_on}→{r.expires_on or '-'}\t"
            f"{','.join(r.scope_partners)}/{','.join(r.scope_sectors)}\t{r.method}"
        )
    return "\n".join(lines) if lines else "該当する同意はありません / no consents match"


def consent_show(consent_id: str) -> str:
    """Every version of one consent, oldest first; for a purged consent, its tombstone."""
    from warehouse.models import ConsentTombstone

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        records = versions(session, consent_id)
        tomb = session.get(ConsentTombstone, consent_id)
    if tomb is not None:
        return (
            f"{consent_id}\t削除済み purged {tomb.purged_at:%Y-%m-%d %H:%M} UTC "
            f"({tomb.reason} from {tomb.ended_on})"
            f"\tgranted {tomb.granted_on}\t残るのは記録のみ / only this tombstone remains"
        )
    if not records:
        raise NotFoundError(f"no consent {consent_id}")
    return "\n".join(
        f"v{r.version}\t{r.status}\t{r.granted_on}→{r.expires_on or '-'}\twithdrawn {r.withdrawn_on or '-'}"
        f"\t{r.method}\t{r.recorded_at:%Y-%m-%d %H:%M} by {r.recorded_by} from {r.source}"
        for r in records
    )


def consent_import(path: Path) -> str:
    """Import one consent CSV, reporting added, unchanged and refused rows."""
    from consent.importer import import_file

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        keys = active_pseudonym_keys(session, settings.pseudonym_keys)
        result = import_file(path, session, keys, settings.vault_keys, settings.actor)
    lines = [
        f"追加 added {result.added}, 変更なし unchanged {result.unchanged}, "
        f"拒否 refused {len(result.refused)}"
    ]
    lines += [f"  {cid} (line {line}): {reason}" for cid, line, reason in result.refused]
    return "\n".join(lines)


def consent_grant(
    resident_id: str,
    consent_id: str,
    partners: str,
    sectors: str,
    granted_on: str,
    expires_on: str | None,
    method: str,
    evidence_ref: str,
    proxy_name: str,
    proxy_relation: str,
) -> str:
    """Record a consent given on a form (the same path as an import row)."""
    from consent.importer import apply_row

    settings = warehouse_settings()
    raw = {
        "resident_id": resident_id,
        "consent_id": consent_id,
        "scope_partners": partners,
        "scope_sectors": sectors,
        "purpose": "watch_over",
        "granted_on": parse_run_date(granted_on).isoformat(),
        "expires_on": parse_run_date(expires_on).isoformat() if expires_on else "",
        "withdrawn_on": "",
        "method": method,
        "evidence_ref": evidence_ref,
        "proxy_name": proxy_name,
        "proxy_relation": proxy_relation,
    }
    with session_scope(settings.database_url) as session:
        keys = active_pseudonym_keys(session, settings.pseudonym_keys)
        try:
            added = apply_row(session, raw, keys, settings.vault_keys, settings.actor, "steward:grant")
        except ValueError as problem:
            raise InputError(f"consent {consent_id} refused: {problem}") from None
    return f"{consent_id}: {'記録しました / recorded' if added else '記録済み / already recorded'}"


def consent_withdraw(consent_id: str, on: str, revoke: bool) -> str:
    """Record a withdrawal (or the municipality's revocation); the next run purges the person."""
    from consent.steward import withdraw

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        version = withdraw(session, consent_id, parse_run_date(on), settings.actor, by_municipality=revoke)
    return (
        f"{consent_id} v{version.version} {version.status} from {version.withdrawn_on}: "
        "次回の実行で本人のデータを削除します / the next run purges their data"
    )


def consent_renew(consent_id: str, expires_on: str) -> str:
    """Extend a consent to a later expiry date."""
    from consent.steward import renew

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        version = renew(session, consent_id, parse_run_date(expires_on), settings.actor)
    return f"{consent_id} v{version.version} renewed until {version.expires_on}"


def partner_report(start: str | None, end: str | None) -> str:
    """Per partner: rows kept and dropped by reason; partners sending people without consent stand out."""
    from warehouse.models import Delivery, DeliveryCount

    settings = warehouse_settings()
    query = (
        select(Delivery.partner_id, DeliveryCount.reason, func.sum(DeliveryCount.count))
        .join(DeliveryCount, DeliveryCount.delivery_pk == Delivery.id)
        .where(DeliveryCount.stage == "dropped")
    )
    loaded = select(Delivery.partner_id, func.sum(Delivery.rows_loaded)).group_by(Delivery.partner_id)
    for bound, compare in ((start, Delivery.period_end.__gt__), (end, Delivery.period_end.__le__)):
        if bound:
            condition = compare(dt.datetime.combine(parse_run_date(bound), dt.time()))
            query, loaded = query.where(condition), loaded.where(condition)
    with session_scope(settings.database_url) as session:
        dropped: dict[str, dict[str, int]] = {}
        for partner, reason, count in session.execute(
            query.group_by(Delivery.partner_id, DeliveryCount.reason)
        ):
            dropped.setdefault(partner, {})[reason] = int(count)
        kept = {p: int(n or 0) for p, n in session.execute(loaded)}
    lines = [
        "事業者 partner\t受入 kept\t同意なし no_consent\t範囲外 out_of_scope\t期限切れ expired"
        "\t撤回 withdrawn\t同意前 before_grant\t同意なしの割合 share"
    ]
    for partner in sorted(set(kept) | set(dropped)):
        d = dropped.get(partner, {})
        total = kept.get(partner, 0) + sum(d.values())
        share = d.get("no_consent", 0) / total if total else 0.0
        flag = "  ← 協定の確認を / check the agreement" if share > 0.2 else ""
        lines.append(
            f"{partner}\t{kept.get(partner, 0)}\t{d.get('no_consent', 0)}\t{d.get('out_of_scope', 0)}\t"
            f"{d.get('expired', 0)}\t{d.get('withdrawn', 0)}\t{d.get('before_grant', 0)}\t{share:.0%}{flag}"
        )
    return "\n".join(lines)


def provision_log(partner: str | None, start: str, end: str) -> str:
    """Records of provision (APPI Art. 29/30) between two dates, with the amendments written in it."""
    from consent.provision import amendments, log
    from warehouse.models import Delivery

    settings = warehouse_settings()
    first, last = parse_run_date(start), parse_run_date(end)
    with session_scope(settings.database_url) as session:
        records = log(session, partner, first, last)
        amended = amendments(session, partner, first, last)
        names = {a.amends: session.get(Delivery, a.amends) for a in amended}
    lines = [
        (
            r.received_on,
            f"{r.received_on}\t{r.partner_id}\t{r.residents} 人 residents\t{r.rows} rows\t"
            f"{r.consent_ids} consents\t{' / '.join(r.categories)}\t{r.basis}\t"
            f"保存期限 keep until {r.keep_until}",
        )
        for r in records
    ]
    for a in amended:
        delivery = names[a.amends]
        ref = f"{a.partner_id}/{delivery.delivery_id}" if delivery is not None else str(a.amends)
        lines.append(
            (
                a.amended_on,
                f"{a.amended_on}\t{a.partner_id}\t訂正: {a.received_on} 受領 {ref} の記録に追加"
                f" / amended: adds to the record of {ref} received {a.received_on} (review #{a.review_id})\t"
                f"{a.residents} 人 residents\t{a.rows} rows\t{a.consent_ids} consents\t"
                f"{' / '.join(a.categories)}\t{a.basis}\t保存期限 keep until {a.keep_until}",
            )
        )
    if not lines:
        return "該当する提供記録はありません / no records of provision"
    return "\n".join(line for _, line in sorted(lines, key=lambda item: item[0]))


def consent_receipt(consent_id: str, fmt: str) -> str:
    """The receipt of one consent: JSON (ISO/IEC TS 27560 structure) or the Japanese page for the resident."""
    from connectors.registry import load_registry
    from consent import receipt
    from identity.access import read_identities
    from mimamori.municipality import load_municipality

    settings = warehouse_settings()
    place = load_municipality(settings.path("municipality.yaml"))
    partners = [
        {"id": p.id, "name": p.name, "sector": p.sector}
        for p in load_registry(settings.path("partners.yaml")).values()
    ]
    controller = {"name": f"{place.prefecture}{place.city}", "code": place.code}
    with session_scope(settings.database_url) as session:
        history = versions(session, consent_id)
        if not history:
            raise NotFoundError(f"no consent {consent_id}")
        document = receipt.build(history, controller, partners, settings.retention)
        if fmt == "json":
            return json.dumps(document, ensure_ascii=False, indent=2)
        who = read_identities(
            session,
            settings.vault_keys,
            [history[-1].resident],
            actor=settings.actor,
            purpose="receipt",
            subject=consent_id,
        )
    name = next(iter(who.values()), {}).get("name_kanji", "（本人）")
    return receipt.page(document, name)
