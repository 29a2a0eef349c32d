"""The one policy table (role x action -> scope) and the dependency every route uses to enforce it."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request

from portal.accounts import ROLES, Account

PUBLIC, SIGNED_IN, DISTRICTS = "public", "signed_in", "districts"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Actions a route can declare. Page actions are for browser sessions only; api_* also take bearer tokens.
ACTIONS: dict[str, str] = {
    "public": "誰でも（サインイン前）/ anyone, before sign-in",
    "home": "自分のホーム / own landing page",
    "sign_out": "サインアウト / sign out",
    "list_read": "担当地区のリスト閲覧 / read the lists of own districts",
    "list_export": "担当地区のリストの印刷・CSV / print or download own districts' lists",
    "entry_read": "担当地区の対象者の閲覧 / read an entry of own districts",
    "outcome_write": "訪問結果の記録 / record an outreach outcome",
    "api_session": "API のセッション / API session",
    "api_list_read": "API: リスト / API list",
    "api_entry_read": "API: 対象者 / API entry",
    "api_outcome_write": "API: 訪問結果 / API outcome",
    "audit_read": "監査ログの検索・閲覧（検索も記録）/ search the audit log (searches are audited)",
    "audit_export": "監査ログ検索結果の CSV / the audit search as CSV",
    "lineage_read": "リスト項目の根拠の系譜（仮名のみ）/ an entry's lineage, pseudonyms only",
    "rule_report_read": "ルールの成績の図表 / rule performance charts",
    "validation_read": "配信の検証結果（Data Docs）/ delivery validation results",
    "account_read": "アカウント一覧 / list portal accounts",
    "account_write": "アカウントの追加・無効化・変更（記録）/ add, disable, change accounts (audited)",
    "steward_read": "データ管理: 配信・隔離・同意・提供記録の閲覧（個人は表示しない） / steward reads",
    "steward_write": "データ管理: 隔離の解放・破棄、同意の撤回・更新・取込 / steward decisions (audited)",
    "steward_identity": "データ管理: 名寄せ確認・住民の同意検索・開示（本人を表示・記録） / identities",
}
API_ACTIONS = frozenset(a for a in ACTIONS if a.startswith("api_"))
_OUTREACH = {
    "home": SIGNED_IN,
    "sign_out": SIGNED_IN,
    "list_read": DISTRICTS,
    "list_export": DISTRICTS,
    "entry_read": DISTRICTS,
    "outcome_write": DISTRICTS,
    "api_session": SIGNED_IN,
    "api_list_read": DISTRICTS,
    "api_entry_read": DISTRICTS,
    "api_outcome_write": DISTRICTS,
}
_STAFF = {"home": SIGNED_IN, "sign_out": SIGNED_IN, "api_session": SIGNED_IN}
_AUDITOR = {
    **_STAFF,
    "audit_read": SIGNED_IN,
    "audit_export": SIGNED_IN,
    "lineage_read": SIGNED_IN,
    "rule_report_read": SIGNED_IN,
    "validation_read": SIGNED_IN,
}
_ADMIN = {**_STAFF, "account_read": SIGNED_IN, "account_write": SIGNED_IN}
# role -> action -> scope. Anything absent is denied. Only outreach (own districts) and stewards (link review,
# consent search by resident, disclosure: each read audited) see identities.
POLICY: dict[str, dict[str, str]] = {
    "outreach": _OUTREACH,
    "steward": {
        **_STAFF,
        "steward_read": SIGNED_IN,
        "steward_write": SIGNED_IN,
        "steward_identity": SIGNED_IN,
    },
    "auditor": _AUDITOR,
    "admin": _ADMIN,
    "integration": {
        "api_list_read": DISTRICTS,
        "api_entry_read": DISTRICTS,
        "api_outcome_write": DISTRICTS,
    },
}
assert set(POLICY) == set(ROLES)
assert all(action in ACTIONS for table in POLICY.values() for action in table)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a browser session (with its CSRF token) or an integration bearer token."""

    account: Account
    via: str  # "session" | "token"
    csrf_token: str = ""
    session_id: str = ""


@dataclass(frozen=True)
class Grant:
    """A permitted action: the principal and the districts its queries may read (empty for none)."""

    principal: Principal | None
    action: str
    districts: tuple[str, ...]

    @property
    def account(self) -> Account:
        """The signed-in account (only for actions that need one)."""
        if self.principal is None:
            raise RuntimeError("a public grant has no account")
        return self.principal.account

    @property
    def actor(self) -> str:
        """The audit actor naming the signed-in user."""
        return f"portal:{self.account.login}"


class SignInRequired(Exception):
    """No valid session or token: pages redirect to the sign-in page, the API answers 401."""


def scope_of(role: str, action: str) -> str | None:
    """The scope the table grants this role for this action, or None when denied."""
    if action == PUBLIC:
        return PUBLIC
    return POLICY.get(role, {}).get(action)


def decide(principal: Principal | None, action: str) -> Grant:
    """Apply the table: a Grant, or SignInRequired / HTTPException(403)."""
    if action == PUBLIC:
        return Grant(principal, action, ())
    if principal is None:
        raise SignInRequired()
    if principal.via == "token" and action not in API_ACTIONS:
        raise SignInRequired()
    scope = scope_of(principal.account.role, action)
    if scope is None:
        raise HTTPException(403, "この操作の権限がありません / not permitted")
    districts = principal.account.districts if scope == DISTRICTS else ()
    return Grant(principal, action, tuple(districts))


async def check_csrf(request: Request, principal: Principal | None) -> None:
    """Refuse a state-changing browser request without the session's CSRF token (403)."""
    if request.method not in STATE_CHANGING or principal is None or principal.via != "session":
        return
    given = request.headers.get("x-csrf-token", "")
    if not given and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = str((await request.form()).get("csrf_token") or "")
    if not given or not hmac.compare_digest(given, principal.csrf_token):
        raise HTTPException(403, "CSRF トークンがありません / CSRF token missing or wrong")


def require(action: str) -> Any:
    """A route dependency: the caller may do `action` (the table decides), CSRF checked; yields a Grant."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    from portal.deps import principal_of

    if action == PUBLIC:

        async def public(request: Request) -> Grant:
            return Grant(None, PUBLIC, ())

        public.policy_action = action  # type: ignore[attr-defined]
        return Depends(public)

    async def dependency(request: Request, principal: Principal | None = Depends(principal_of)) -> Grant:
        grant = decide(principal, action)
        await check_csrf(request, principal)
        request.state.grant = grant
        return grant

    dependency.policy_action = action  # type: ignore[attr-defined]
    return Depends(dependency)


def route_action(call: Callable[..., Any]) -> str | None:
    """The policy action a dependency callable enforces (None when it is not a policy dependency)."""
    return getattr(call, "policy_action", None)
