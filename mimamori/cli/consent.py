"""Data stewards' consent commands: list, show, import, grant, withdraw, renew, reports, receipts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from consent.book import versions
from identity.rotation import active_pseudonym_keys
from mimamori.context import warehouse_settings
from mimamori.daily import parse_run_date
from warehouse.db import session_scope
from warehouse.errors import InputError, NotFoundError


def consent_list(status: str | None, expiring_within: int | None) -> str:
    """Current version of every consent, filtered, as a tab-separated table with a Japanese header."""
    from consent.listing import check_status, select_consents, table

    check_status(status)  # before touching the warehouse
    settings = warehouse_settings()
    today = dt.date.today()
    with session_scope(settings.database_url) as session:
        records = select_consents(session, today, status, expiring_within)
    if not records:
        return "該当する同意はありません / no consents match"
    return "\n".join("\t".join(cells) for cells in table(records, today))


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


def consent_import(path: Path) -> tuple[str, int]:
    """Import one consent CSV (UTF-8 or CP932): the report of added, unchanged and refused rows, and how many
    were refused (the accepted rows are written either way)."""
    from consent.importer import import_file

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        keys = active_pseudonym_keys(session, settings.pseudonym_keys)
        result = import_file(path, session, keys, settings.vault_keys, settings.actor)
    lines = [
        f"追加 added {result.added}, 変更なし unchanged {result.unchanged}, "
        f"拒否 refused {len(result.refused)}"
    ]
    lines += [f"  {cid} (行 line {line}): {reason}" for cid, line, reason in result.refused]
    if result.refused:
        lines.append(
            f"{len(result.refused)} 行を拒否しました。"
            f"受け付けた {result.added + result.unchanged} 行は記録済みです。"
            "拒否した行を直して再度取り込んでください / refused rows were not recorded, accepted ones were"
        )
    return "\n".join(lines), len(result.refused)


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
    from mimamori.stewardship import FLAG_SHARE, drop_counts, no_consent_share

    settings = warehouse_settings()
    first = parse_run_date(start) if start else None
    last = parse_run_date(end) if end else None
    with session_scope(settings.database_url) as session:
        kept, dropped = drop_counts(session, first, last)
    lines = [
        "事業者 partner\t受入 kept\t同意なし no_consent\t範囲外 out_of_scope\t期限切れ expired"
        "\t撤回 withdrawn\t同意前 before_grant\t同意なしの割合 share"
    ]
    for partner in sorted(set(kept) | set(dropped)):
        d = dropped.get(partner, {})
        share = no_consent_share(kept, dropped, partner)
        flag = "  ← 協定の確認を / check the agreement" if share > FLAG_SHARE else ""
        lines.append(
            f"{partner}\t{kept.get(partner, 0)}\t{d.get('no_consent', 0)}\t{d.get('out_of_scope', 0)}\t"
            f"{d.get('expired', 0)}\t{d.get('withdrawn', 0)}\t{d.get('before_grant', 0)}\t{share:.0%}{flag}"
        )
    return "\n".join(lines)


def provision_log(partner: str | None, start: str, end: str) -> str:
    """Records of provision (APPI Art. 29/30) between two dates, with the amendments written in it."""
    from consent.provision import entries

    settings = warehouse_settings()
    first, last = parse_run_date(start), parse_run_date(end)
    with session_scope(settings.database_url) as session:
        found = entries(session, partner, first, last)
    if not found:
        return "該当する提供記録はありません / no records of provision"
    lines = []
    for e in found:
        amended = (
            f"訂正: {e.received_on} 受領 {e.amends} の記録に追加"
            f" / amended: adds to the record of {e.amends} received {e.received_on} (review #{e.review_id})\t"
            if e.amends
            else ""
        )
        lines.append(
            f"{e.day}\t{e.partner_id}\t{amended}{e.residents} 人 residents\t{e.rows} rows\t"
            f"{e.consent_ids} consents\t{' / '.join(e.categories)}\t{e.basis}\t"
            f"保存期限 keep until {e.keep_until}"
        )
    return "\n".join(lines)


def consent_receipt(consent_id: str, fmt: str) -> str:
    """The receipt of one consent: JSON (ISO/IEC TS 27560 structure) or the Japanese page for the resident."""
    from mimamori.stewardship import receipt_for

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        return receipt_for(session, settings, consent_id, fmt, settings.actor)


def consent_disclose(resident_id: str, fmt: str) -> str:
    """The disclosure report (APPI Art. 33) for one resident id; reading their identity is audited."""
    from mimamori.stewardship import disclosure

    settings = warehouse_settings()
    with session_scope(settings.database_url) as session:
        return disclosure(session, settings, resident_id, fmt, settings.actor)
