"""Money for people to read: integer minor units shown with their currency's number of decimals (ISO
4217's minor unit: JPY 0, EUR 2, KWD 3), by integer arithmetic only, so no float ever carries money.

    format_minor(123456, "EUR") -> "1,234.56 EUR"
    format_minor(123456, "JPY") -> "123,456 JPY"
    format_minor(123456, "KWD") -> "123.456 KWD"

The one place the platform turns an amount into text (quote PDFs in sales, notifications' messages).
"""

from __future__ import annotations

# ISO 4217 currencies whose minor unit is not a hundredth (every other currency: two decimals).
_NO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMALS = "CLF UYW"
MINOR_DIGITS: dict[str, int] = {
    **dict.fromkeys(_NO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
    **dict.fromkeys(_FOUR_DECIMALS.split(), 4),
}


def minor_digits(currency: str) -> int:
    """How many decimals `currency`'s minor unit has (2 unless ISO 4217 says otherwise)."""
    return MINOR_DIGITS.get(currency.upper(), 2)


def format_minor(amount_minor: int, currency: str) -> str:
    """`amount_minor` of `currency` as "1,234.56 EUR": thousands separated, the currency's decimals."""
    digits = minor_digits(currency)
    whole, fraction = divmod(abs(int(amount_minor)), 10**digits)
    sign = "-" if amount_minor < 0 else ""
    text = f"{sign}{whole:,}" + (f".{fraction:0{digits}d}" if digits else "")
    return f"{text} {currency}".strip()
