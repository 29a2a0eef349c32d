"""InvalidIdentifier carries a field and a reason, never the value."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity import dates
from identity.dates import parse_birth_date
from identity.errors import InvalidIdentifier

pytestmark = pytest.mark.unit

REASONS = {
    dates.REASON_EMPTY,
    dates.REASON_FORMAT,
    dates.REASON_IMPOSSIBLE,
    dates.REASON_ERA_RANGE,
    dates.REASON_TOO_EARLY,
    dates.REASON_FUTURE,
}


def test_is_a_value_error_with_field_and_reason() -> None:
    error = InvalidIdentifier("birth_date", "impossible date")
    assert isinstance(error, ValueError)
    assert (error.field, error.reason) == ("birth_date", "impossible date")
    assert str(error) == "birth_date: impossible date"


def test_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(InvalidIdentifier("birth_date", "impossible date")))
    assert (error.field, error.reason, str(error)) == (
        "birth_date",
        "impossible date",
        "birth_date: impossible date",
    )


@pytest.mark.parametrize(
    "raw",
    [
        "1945-02-30",
        "昭和64年1月8日",
        "S99.13.45",
        "山田太郎 1945/3/2",
        "1867-12-31",
        "2999-01-01",
        "S20.2.30x",
    ],
)
def test_birth_date_errors_do_not_echo_the_value(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_birth_date(raw)
    message = str(caught.value)
    assert raw not in message
    assert raw not in repr(caught.value)
    assert all(raw not in str(arg) for arg in caught.value.args)
    assert message == f"birth_date: {caught.value.reason}"
    assert caught.value.reason in REASONS


@given(st.text(max_size=20))
def test_any_birth_date_error_is_a_fixed_reason(raw: str) -> None:
    try:
        parse_birth_date(raw)
    except InvalidIdentifier as error:
        assert str(error) == f"birth_date: {error.reason}"
        assert error.reason in REASONS
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
