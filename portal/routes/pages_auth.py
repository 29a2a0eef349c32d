"""Sign-in and sign-out pages, and the landing page after sign-in."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from portal.accounts import AccountLocked, SignInFailed
from portal.app import page
from portal.deps import PRESESSION_COOKIE, SESSION_COOKIE, context_of, db_session
from portal.policy import Grant, require
from portal.signin import clear_session_cookie, open_session, retry_after, set_session_cookie
from portal.websessions import end_session

router = APIRouter(include_in_schema=False)
FAILED = "ログインID・パスワード・確認コードのいずれかが違います / sign-in failed"
LOCKED = "失敗が続いたため15分間ロックしています / locked for 15 minutes after repeated failures"


def _sign_in_form(request: Request, status: int = 200, error: str = "") -> Response:
    token = request.cookies.get(PRESESSION_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "login.html", status, error=error, signin_token=token)
    response.set_cookie(
        PRESESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=context_of(request).secure_cookies,
        max_age=3600,
    )
    return response


@router.get("/login", dependencies=[require("public")])
def login_page(request: Request) -> Response:
    """The sign-in form (login, password, one-time code)."""
    return _sign_in_form(request)


@router.post("/login", dependencies=[require("public")])
def login(
    request: Request,
    login: str = Form(..., max_length=64),
    password: str = Form(..., max_length=256),
    otp: str = Form("", max_length=12),
    csrf_token: str = Form(""),
    db: Session = Depends(db_session),
) -> Response:
    """Check the credentials; on success a new session and a redirect to the landing page."""
    context = context_of(request)
    expected = request.cookies.get(PRESESSION_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token, expected):
        return _sign_in_form(request, 403, "画面を読み込み直してください / reload the page and try again")
    try:
        session_id, _live = open_session(
            db, context, login, password, otp, request.cookies.get(SESSION_COOKIE, "")
        )
    except AccountLocked as locked:
        response = _sign_in_form(request, 429, LOCKED)
        response.headers["Retry-After"] = retry_after(locked, context.clock())
        return response
    except SignInFailed:
        return _sign_in_form(request, 401, FAILED)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, context, session_id)
    response.delete_cookie(PRESESSION_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request, grant: Grant = require("sign_out"), db: Session = Depends(db_session)
) -> Response:
    """End this session and forget the cookie."""
    context = context_of(request)
    assert grant.principal is not None
    end_session(db, grant.principal.session_id, context.clock())
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, context)
    return response


@router.get("/")
def home(request: Request, grant: Grant = require("home")) -> Response:
    """Outreach teams go to today's list; other roles see what the portal offers them."""
    if grant.account.role == "outreach":
        return RedirectResponse("/lists", status_code=303)
    return page(request, "home.html")
