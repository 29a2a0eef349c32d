"""The portal application: FastAPI with server-rendered Japanese pages, security headers and one policy."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from mimamori.settings import Settings
from portal.deps import PortalContext
from portal.policy import SignInRequired
from portal.templating import templates
from warehouse.db import utcnow

PACKAGE = Path(__file__).resolve().parent
access_log = logging.getLogger("mimamori.portal.access")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Security headers on every response; no-store on everything but static files; path-only access log."""
    began = time.perf_counter()
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.url.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    # Paths carry entry ids and district codes only; the query string is never logged.
    access_log.info(
        "%s %s %s %.0fms",
        request.method,
        request.url.path,
        response.status_code,
        (time.perf_counter() - began) * 1000,
    )
    return response


def _error_page(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status)
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )


async def _sign_in_required(request: Request, _error: Exception) -> Response:
    if _is_api(request):
        return JSONResponse(
            {"detail": "サインインが必要です / sign-in required"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return RedirectResponse("/login", status_code=303)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    messages = {404: "見つかりません / not found", 405: "この操作はできません / method not allowed"}
    message = str(error.detail) if isinstance(error, HTTPException) else messages.get(error.status_code, "")
    response = _error_page(request, error.status_code, message or messages.get(error.status_code, ""))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def _invalid(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    fields = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) for e in error.errors()})
    return _error_page(request, 422, "入力が正しくありません / invalid input: " + ", ".join(fields))


def create_app(
    settings: Settings,
    *,
    secure_cookies: bool = True,
    clock: Callable[[], dt.datetime] = utcnow,
) -> FastAPI:
    """The portal over a data home's warehouse; cookies are Secure unless told otherwise (127.0.0.1)."""
    from portal.routes import (
        admin_accounts,
        api,
        auditor_lineage,
        auditor_log,
        auditor_reports,
        health,
        pages_auth,
        pages_entries,
        pages_lists,
    )
    from portal.routes.steward import STEWARD_ROUTERS

    app = FastAPI(
        title="Mimamori portal API",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.context = PortalContext(settings, secure_cookies=secure_cookies, clock=clock)
    app.middleware("http")(_headers)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    for module in (health, pages_auth, pages_lists, pages_entries, api):
        app.include_router(module.router)
    for module in (auditor_log, auditor_lineage, auditor_reports, admin_accounts):
        app.include_router(module.router)
    for router in STEWARD_ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")
    return app


def page(request: Request, name: str, status: int = 200, **values: object) -> HTMLResponse:
    """Render a page template with the signed-in user (if any) and the CSRF token for its forms."""
    grant = getattr(request.state, "grant", None)
    principal = grant.principal if grant is not None else None
    values.setdefault("account", principal.account if principal else None)
    values.setdefault("csrf_token", principal.csrf_token if principal else "")
    return templates.TemplateResponse(request, name, values, status_code=status)
