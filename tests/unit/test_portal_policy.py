"""The policy table and the route table: every route declares one action, the table decides each role."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.routing import APIRoute
from starlette.routing import Mount

from mimamori.settings import load_settings
from portal.accounts import ROLES, Account
from portal.app import create_app
from portal.policy import (
    ACTIONS,
    API_ACTIONS,
    DISTRICTS,
    POLICY,
    PUBLIC,
    Principal,
    SignInRequired,
    decide,
    require,
    route_action,
)

pytestmark = pytest.mark.unit
IDENTITY_ACTIONS = {"list_read", "list_export", "entry_read", "api_list_read", "api_entry_read"}


def route_actions(app: FastAPI) -> dict[tuple[str, str], list[str]]:
    """(method, path) -> the policy actions its dependencies declare."""
    table: dict[tuple[str, str], list[str]] = {}
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        assert isinstance(route, APIRoute), f"{route!r} is not an APIRoute: it escapes the policy"
        found = [a for d in route.dependant.dependencies if d.call and (a := route_action(d.call))]
        for method in route.methods:
            table[(method, route.path)] = found
    return table


def unguarded(app: FastAPI) -> list[str]:
    """Routes without exactly one known policy action."""
    return [
        f"{method} {path}: {found}"
        for (method, path), found in route_actions(app).items()
        if len(found) != 1 or found[0] not in ACTIONS
    ]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    home = tmp_path_factory.mktemp("policy") / "home"
    return create_app(
        load_settings({"MIMAMORI_HOME": str(home), "MIMAMORI_ACTOR": "t"}), secure_cookies=False
    )


def test_every_route_declares_exactly_one_policy_action(app: FastAPI) -> None:
    assert unguarded(app) == []
    mounts = [r.path for r in app.routes if isinstance(r, Mount)]
    assert mounts == ["/static"]


def test_a_route_without_a_policy_entry_is_found(app: FastAPI) -> None:
    broken = create_app(app.state.context.settings)
    router = APIRouter()

    @router.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    broken.include_router(router)
    assert unguarded(broken) == ["GET /forgotten: []"]


def test_api_routes_take_api_actions_and_pages_never_do(app: FastAPI) -> None:
    for (method, path), (action,) in route_actions(app).items():
        if action == PUBLIC:
            continue
        assert (action in API_ACTIONS) == path.startswith("/api/"), f"{method} {path}: {action}"


def test_unknown_action_is_refused_at_definition() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        require("list_everything")


def test_the_table_names_every_role_and_only_known_actions() -> None:
    assert set(POLICY) == set(ROLES)
    for role, table in POLICY.items():
        assert set(table) <= set(ACTIONS) - {PUBLIC}, role


def test_only_outreach_and_integration_read_identities_and_only_in_their_districts() -> None:
    for role, table in POLICY.items():
        readable = IDENTITY_ACTIONS & set(table)
        assert bool(readable) == (role in {"outreach", "integration"}), role
        assert all(table[a] == DISTRICTS for a in readable), role
    assert set(POLICY["integration"]) <= API_ACTIONS


def _principal(role: str, via: str = "session", districts: tuple[str, ...] = ("D01",)) -> Principal:
    return Principal(Account(1, "someone", role, districts, "someone"), via, "csrf", "sid")


@pytest.mark.parametrize("role", ROLES)
def test_decide_follows_the_table_for_every_role_and_action(role: str) -> None:
    for action in ACTIONS:
        if action == PUBLIC:
            continue
        via = "token" if role == "integration" else "session"
        scope = POLICY[role].get(action)
        if scope is None:
            with pytest.raises((HTTPException, SignInRequired)):
                decide(_principal(role, via), action)
            continue
        grant = decide(_principal(role, via), action)
        assert grant.districts == (("D01",) if scope == DISTRICTS else ())


def test_no_principal_means_sign_in_and_a_token_never_opens_a_page() -> None:
    with pytest.raises(SignInRequired):
        decide(None, "list_read")
    with pytest.raises(SignInRequired):
        decide(_principal("outreach", via="token"), "list_read")
    assert decide(_principal("outreach", via="token"), "api_list_read").districts == ("D01",)


def test_an_account_without_districts_is_granted_none(tmp_path: Path) -> None:
    assert decide(_principal("outreach", districts=()), "list_read").districts == ()
