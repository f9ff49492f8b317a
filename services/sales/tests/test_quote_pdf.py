"""The quote PDF's font: PDF's built-in Helvetica for latin-1 text, the TrueType font for anything else."""

from __future__ import annotations

import io

import pypdf
import pytest

from crm.common.v1 import money_pb2
from crm.sales.v1 import quotes_pb2
from sales.quotes import pdf


def _text(document: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(document)).pages[0].extract_text()


def test_latin1_text_embeds_no_font() -> None:
    document = pdf.render(quotes_pb2.Quote(number="Q-1", currency="EUR"), pdf.Customer("Señora Núñez"))
    assert b"FontFile2" not in document  # nothing parsed, subset or embedded
    assert "Señora Núñez" in _text(document)


def test_other_scripts_are_written_with_the_truetype_font() -> None:
    if not pdf.Path(pdf.FONT.get()).is_file():
        pytest.skip(f"no TrueType font at {pdf.FONT.get()} (SALES_PDF_FONT)")
    document = pdf.render(quotes_pb2.Quote(number="Q-2", currency="RUB"), pdf.Customer("Фёдор Достоевский"))
    assert b"FontFile2" in document
    assert "Фёдор Достоевский" in _text(document)


def _priced(currency: str, unit: int, total: int) -> quotes_pb2.Quote:
    def m(amount: int) -> money_pb2.Money:
        return money_pb2.Money(amount_minor=amount, currency=currency)

    line = quotes_pb2.QuoteLine(
        product_id="p", sku="SKU", name="Thing", quantity=1, unit_price=m(unit), tax_rate_bp=0, total=m(total)
    )
    totals = quotes_pb2.QuoteTotals(
        subtotal=m(total), discount=m(0), net=m(total), tax=m(0), grand_total=m(total)
    )
    return quotes_pb2.Quote(number=f"Q-{currency}", currency=currency, lines=[line], total=totals)


@pytest.mark.parametrize(
    ("currency", "unit", "total", "shown", "not_shown"),
    [
        ("JPY", 129900, 1299000, ["129,900 JPY", "1,299,000 JPY"], ["1,299.00 JPY", "12,990.00 JPY"]),
        ("KWD", 12345, 1234567, ["12.345 KWD", "1,234.567 KWD"], ["123.45 KWD", "12,345.67 KWD"]),
        ("EUR", 129900, 1299000, ["1,299.00 EUR", "12,990.00 EUR"], []),
    ],
)
def test_amounts_are_printed_with_the_currencys_minor_unit_digits(
    currency: str, unit: int, total: int, shown: list[str], not_shown: list[str]
) -> None:
    text = _text(pdf.render(_priced(currency, unit, total), pdf.Customer("Customer")))
    for expected in shown:
        assert expected in text, (expected, text)
    for wrong in not_shown:
        assert wrong not in text, wrong
