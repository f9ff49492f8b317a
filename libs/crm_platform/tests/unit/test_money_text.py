"""Amounts as text: the currency's ISO 4217 minor unit decides the decimals; integers only."""

from __future__ import annotations

import pytest

from crm_platform.money_text import format_minor, minor_digits


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (123456, "EUR", "1,234.56 EUR"),
        (123456, "JPY", "123,456 JPY"),
        (123456, "KWD", "123.456 KWD"),
        (123456, "CLF", "12.3456 CLF"),
        (5, "USD", "0.05 USD"),
        (-5, "USD", "-0.05 USD"),
        (-1250005, "BHD", "-1,250.005 BHD"),
        (0, "JPY", "0 JPY"),
        (7, "jpy", "7 jpy"),  # looked up case-insensitively, printed as given
    ],
)
def test_format_minor(amount: int, currency: str, text: str) -> None:
    assert format_minor(amount, currency) == text


def test_unknown_currencies_have_two_decimals() -> None:
    assert minor_digits("XYZ") == 2
    assert format_minor(10**20 + 1, "XYZ") == "1,000,000,000,000,000,000.01 XYZ"  # no float anywhere
