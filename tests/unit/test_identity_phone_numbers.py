"""The numbers of a phone field that may link a customer, and the fields refused with a reason."""

from __future__ import annotations

import pytest

from identity.errors import InvalidIdentifier
from identity.phone import phone_numbers

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06-6123-4567", ("0661234567",)),
        ("0081-6-6123-4567", ("0661234567",)),
        ("0081 80 2345 6789", ("08023456789",)),
        ("81661234567", ("0661234567",)),
        ("+81 (0)6 6123 4567", ("0661234567",)),
        ("06-6123-4567 内線204", ("0661234567",)),
        ("06-6123-4567（内線204）", ("0661234567",)),
        ("06-6123-4567 ext. 12", ("0661234567",)),
        ("06-6123-4567 ﾅｲｾﾝ 12", ("0661234567",)),
        ("06-6123-4567／080-2345-6789", ("0661234567", "08023456789")),
        ("06-6123-4567、080-2345-6789", ("0661234567", "08023456789")),
        ("06-6123-4567 080-2345-6789", ("0661234567", "08023456789")),
        ("080 2345 6789", ("08023456789",)),
        ("050-3456-7890", ("05034567890",)),
        ("0120-123-456 / 06-6123-4567", ("0661234567",)),
    ],
)
def test_usable_numbers(raw: str, expected: tuple[str, ...]) -> None:
    assert phone_numbers(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0120-123-456", "shared service number"),
        ("0570-012-345", "shared service number"),
        ("0800-123-4567", "shared service number"),
        ("06-6123-456", "not a Japanese number of a valid length"),
        ("090-1234-56789", "not a Japanese number of a valid length"),
        ("不明", "not a Japanese number of a valid length"),
        ("  ", "empty value"),
    ],
)
def test_refused_with_a_reason_and_never_the_value(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        phone_numbers(raw)
    assert refused.value.reason == reason
    assert raw.strip() == "" or raw not in str(refused.value)
