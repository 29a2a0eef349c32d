"""Per-request plumbing: the portal's context, a database session, and who is calling."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from mimamori.municipality import Municipality, load_municipality
from mimamori.settings import Settings
from portal.accounts import account_for_token
from portal.policy import Principal
from portal.websessions import resume_session
from warehouse.db import session_scope, utcnow

if TYPE_CHECKING:
    from watchlist.rules import RuleSet

SESSION_COOKIE = "mimamori_session"
PRESESSION_COOKIE = "mimamori_signin"


@dataclass
class PortalContext:
    """What the app was started with: settings, whether cookies are Secure, the clock, one write lock."""

    settings: Settings
    secure_cookies: bool = True
    clock: Callable[[], dt.datetime] = utcnow
    # One request at a time touches the warehouse: audit appends chain on the previous record.
    lock: threading.Lock = field(default_factory=threading.Lock)
    _reference: dict[str, tuple[float, object]] = field(default_factory=dict)

    def _cached(self, path: Path, load: Callable[[], object]) -> object:
        stamp = path.stat().st_mtime if path.exists() else -1.0
        known = self._reference.get(str(path))
        if known is None or known[0] != stamp:
            known = (stamp, load())
            self._reference[str(path)] = known
        return known[1]

    def municipality(self) -> Municipality:
        """The data home's municipality.yaml (re-read when the file changes)."""
        path = self.settings.path("municipality.yaml")
        found = self._cached(path, lambda: load_municipality(path))
        assert isinstance(found, Municipality)
        return found

    def partner_names(self) -> dict[str, str]:
        """Partner id -> display name from partners.yaml."""
        from connectors.registry import load_registry

        path = self.settings.path("partners.yaml")
        found = self._cached(path, lambda: {p.id: p.name for p in load_registry(path).values()})
        assert isinstance(found, dict)
        return found

    def rules(self) -> RuleSet:
        """The rule set with the data home's overrides (re-read when its rules.yaml changes)."""
        from watchlist.rules import RuleSet, load_rules

        path = self.settings.path("rules.yaml")
        found = self._cached(path, lambda: load_rules(self.settings.home))
        assert isinstance(found, RuleSet)
        return found

    def capacity(self) -> dict[str, int]:
        """Each district's daily visiting capacity from the rules."""
        return self.rules().capacity

    @cached_property
    def database_url(self) -> str:
        """The warehouse URL."""
        return self.settings.database_url


def context_of(request: Request) -> PortalContext:
    """The app's context."""
    context: PortalContext = request.app.state.context
    return context


def db_session(request: Request) -> Iterator[Session]:
    """A warehouse session for the request, committed at the end (one request at a time)."""
    context = context_of(request)
    with context.lock, session_scope(context.database_url) as session:
        yield session


def principal_of(request: Request, db: Session = Depends(db_session)) -> Principal | None:
    """The caller: a bearer token (API paths only) or a live session cookie; None when neither."""
    context = context_of(request)
    now = context.clock()
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        if not request.url.path.startswith("/api/"):
            return None
        account = account_for_token(db, header[7:].strip(), now)
        return Principal(account, "token") if account else None
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if not session_id:
        return None
    live = resume_session(db, session_id, now)
    if live is None:
        return None
    return Principal(live.account, "session", live.csrf_token, session_id)
