"""The admin's account pages: list, add, disable, districts, reset password or second factor (all audited).

An admin reads no identities: the policy grants the admin role no list or entry action, so changing an
account's districts never lets the admin see a name unless an outreach account is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from portal import account_admin
from portal.accounts import ROLES, SECOND_FACTOR_REQUIRED
from portal.app import page
from portal.deps import context_of, db_session
from portal.policy import Grant, require
from warehouse.errors import InputError, NotFoundError

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
LOGIN = Path(..., max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")
DONE = {
    "disabled": "アカウントを無効にしました（セッションとトークンも終了）。",
    "districts": "担当地区を変更しました。",
    "password": "パスワードを再設定しました（ロック解除・全セッション終了）。",
}


def _accounts_page(request: Request, db: Session, status: int = 200, **values: object) -> Response:
    context = context_of(request)
    return page(
        request,
        "admin/accounts.html",
        status,
        rows=account_admin.list_accounts(db, context.clock()),
        districts=context.municipality().districts,
        roles=ROLES,
        totp_required=SECOND_FACTOR_REQUIRED,
        **values,
    )


@router.get("/admin/accounts")
def accounts(
    request: Request,
    done: str = "",
    grant: Grant = require("account_read"),
    db: Session = Depends(db_session),
) -> Response:
    """Every account with its role, districts and state, and the form to add one."""
    return _accounts_page(request, db, notice=DONE.get(done, ""))


def _attempt(request: Request, db: Session, act: Callable[[], T]) -> T | Response:
    """Run one audited change: its result, or the list with the error (404 / 422)."""
    try:
        return act()
    except NotFoundError as missing:
        return _accounts_page(request, db, 404, error=str(missing))
    except InputError as problem:
        return _accounts_page(request, db, 422, error=str(problem))


def _change(request: Request, db: Session, act: Callable[[], object], done: str) -> Response:
    """Run one audited change; back to the list with a notice, or the list with the error."""
    result = _attempt(request, db, act)
    if isinstance(result, Response):
        return result
    return RedirectResponse(f"/admin/accounts?done={done}", status_code=303)


@router.post("/admin/accounts")
def create(
    request: Request,
    login: str = Form(..., max_length=64),
    role: str = Form(..., max_length=20),
    display_name: str = Form("", max_length=80),
    districts: list[str] = Form([]),
    password: str = Form("", max_length=256),
    totp: bool = Form(False),
    grant: Grant = require("account_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Add an account; its second-factor secret or API token is shown once on the answer."""
    context = context_of(request)
    made = _attempt(
        request,
        db,
        lambda: account_admin.create_account(
            db,
            login=login.strip(),
            role=role,
            districts=districts,
            display_name=display_name.strip(),
            password=None if role == "integration" else password,
            totp=totp or role in SECOND_FACTOR_REQUIRED,
            vault_keys=context.settings.vault_keys,
            known_districts=context.municipality().districts,
            actor=grant.actor,
            now=context.clock(),
        ),
    )
    if isinstance(made, Response):
        return made
    return _accounts_page(
        request,
        db,
        notice=f"アカウント {made.account.login} を作成しました。",
        shown_once={
            "login": made.account.login,
            "secret": made.totp_secret,
            "uri": made.totp_uri,
            "token": made.token,
        },
    )


@router.post("/admin/accounts/{login}/disable")
def disable(
    request: Request,
    login: str = LOGIN,
    grant: Grant = require("account_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Disable an account: its sessions end and its tokens are revoked."""
    context = context_of(request)

    def act() -> None:
        if login == grant.account.login:
            raise InputError("自分のアカウントは無効にできません / you cannot disable your own account")
        account_admin.disable_account(db, login, grant.actor, context.clock())

    return _change(request, db, act, "disabled")


@router.post("/admin/accounts/{login}/districts")
def set_districts(
    request: Request,
    login: str = LOGIN,
    districts: list[str] = Form([]),
    grant: Grant = require("account_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Replace the districts an account may see."""
    known = context_of(request).municipality().districts
    return _change(
        request,
        db,
        lambda: account_admin.set_districts(db, login, districts, known, grant.actor),
        "districts",
    )


@router.post("/admin/accounts/{login}/password")
def reset_password(
    request: Request,
    login: str = LOGIN,
    password: str = Form(..., max_length=256),
    grant: Grant = require("account_write"),
    db: Session = Depends(db_session),
) -> Response:
    """Set a new password (policy checked): the lockout is lifted and every session ends."""
    now = context_of(request).clock()
    return _change(
        request, db, lambda: account_admin.reset_password(db, login, password, grant.actor, now), "password"
    )


@router.post("/admin/accounts/{login}/second-factor")
def renew_second_factor(
    request: Request,
    login: str = LOGIN,
    grant: Grant = require("account_write"),
    db: Session = Depends(db_session),
) -> Response:
    """A new TOTP secret for a lost phone, shown once."""
    context = context_of(request)
    renewed = _attempt(
        request,
        db,
        lambda: account_admin.renew_second_factor(
            db, login, context.settings.vault_keys, grant.actor, context.clock()
        ),
    )
    if isinstance(renewed, Response):
        return renewed
    secret, uri = renewed
    return _accounts_page(
        request,
        db,
        notice=f"{login} の二要素認証を再発行しました。",
        shown_once={"login": login, "secret": secret, "uri": uri, "token": None},
    )
