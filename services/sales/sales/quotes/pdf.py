"""A quote as a PDF (fpdf2, pure Python): the seller and the customer, the lines, the totals and how long
the offer holds. Amounts are printed from the quote's stored minor units with the currency's number of
decimals (JPY none, KWD three), so the document shows exactly the totals the API answers.

Text is set in DejaVu Sans when the font file is there (`SALES_PDF_FONT`; Debian's fonts-dejavu-core
path by default), which covers names in any European or Cyrillic script; without it, in the PDF core
font Helvetica, which knows Latin-1 only, so other characters print as "?" rather than failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from crm.sales.v1 import quotes_pb2
from crm_platform import config
from crm_platform.money_text import format_minor

FONT = config.Setting(
    "SALES_PDF_FONT",
    config.as_str,
    default="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    help="a TrueType font for quote PDFs (any script it covers); Helvetica (Latin-1) when missing",
)
SELLER = config.Setting(
    "SALES_QUOTE_SELLER",
    config.as_str,
    default="CRM Platform",
    help="the seller named on quote PDFs (lines separated by '|': name, address, VAT number...)",
)
CONTENT_TYPE = "application/pdf"


@dataclass(frozen=True)
class Customer:
    """Who the quote is for, as the caller may read them (ids when contacts could not say)."""

    name: str
    details: tuple[str, ...] = ()


def amount(money: object, currency: str) -> str:
    """Minor units with the currency's own decimals (crm_platform.money_text): 123456 EUR ->
    "1,234.56 EUR", 123456 JPY -> "123,456 JPY", 123456 KWD -> "123.456 KWD"."""
    return format_minor(int(getattr(money, "amount_minor", 0)), currency)


def percent(basis_points: int) -> str:
    return f"{basis_points / 100:g} %"


def _latin1(texts: list[str]) -> bool:
    try:
        "".join(texts).encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


class _Document(FPDF):
    def __init__(self, *, needs_unicode: bool) -> None:
        super().__init__(format="A4")
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, 15)
        font = Path(FONT.get())
        # PDF's built-in Helvetica covers latin-1 and costs nothing; a TrueType font is parsed and
        # subset on every document (about 90 ms of CPU: the slowest part of the rendering), so it is
        # embedded only for a quote whose text needs it (Cyrillic or Chinese names, say).
        if needs_unicode and font.is_file():
            bold = font.with_name(f"{font.stem}-Bold{font.suffix}")  # DejaVuSans-Bold.ttf beside it
            self.add_font("body", "", str(font))
            self.add_font("body", "B", str(bold if bold.is_file() else font))
            self.body_font, self.unicode = "body", True
        else:
            self.body_font, self.unicode = "helvetica", False

    def clean(self, value: str) -> str:
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def line_of(self, value: str, *, size: int = 10, bold: bool = False, height: float = 5) -> None:
        self.set_font(self.body_font, "B" if bold else "", size)
        self.cell(0, height, self.clean(value), new_x="LMARGIN", new_y="NEXT")


_COLUMNS = (("Item", 62, "L"), ("Qty", 14, "R"), ("Unit price", 28, "R"), ("Discount", 26, "R"),
            ("Tax", 16, "R"), ("Total", 34, "R"))  # fmt: skip


def render(quote: quotes_pb2.Quote, customer: Customer) -> bytes:
    """The quote as PDF bytes."""
    texts = [customer.name, *customer.details, SELLER.get(), quote.notes, quote.number]
    texts += [f"{line.sku} {line.name}" for line in quote.lines]
    pdf = _Document(needs_unicode=not _latin1(texts))
    pdf.set_title(f"Quote {quote.number}")
    pdf.add_page()
    currency = quote.currency
    pdf.line_of(f"Quote {quote.number}", size=18, bold=True, height=10)
    pdf.line_of(f"Valid until {quote.valid_until}")
    pdf.ln(4)
    seller = [part.strip() for part in SELLER.get().split("|") if part.strip()]
    top = pdf.get_y()
    pdf.line_of("From", bold=True)
    for part in seller:
        pdf.line_of(part)
    left_end = pdf.get_y()
    pdf.set_xy(110, top)
    pdf.set_left_margin(110)
    pdf.line_of("For", bold=True)
    for part in (customer.name, *customer.details):
        pdf.line_of(part)
    pdf.set_left_margin(15)
    pdf.set_xy(15, max(left_end, pdf.get_y()) + 6)

    pdf.set_font(pdf.body_font, "B", 9)
    for title, width, align in _COLUMNS:
        pdf.cell(width, 7, title, border="B", align=align)
    pdf.ln(7)
    pdf.set_font(pdf.body_font, "", 9)
    for line in quote.lines:
        cells = (
            f"{line.sku} {line.name}",
            str(line.quantity),
            amount(line.unit_price, currency),
            percent(line.discount_bp) if line.discount_bp else "",
            percent(line.tax_rate_bp),
            amount(line.total, currency),
        )
        for (_, width, align), value in zip(_COLUMNS, cells, strict=True):
            pdf.cell(width, 6, pdf.clean(value)[:40], align=align)
        pdf.ln(6)
    pdf.ln(4)
    total = quote.total
    for label, money, bold in (
        ("Subtotal", total.subtotal, False),
        ("Discount", total.discount, False),
        ("Net", total.net, False),
        ("Tax", total.tax, False),
        ("Total", total.grand_total, True),
    ):
        pdf.set_font(pdf.body_font, "B" if bold else "", 10)
        pdf.cell(146, 6, label, align="R")
        pdf.cell(34, 6, amount(money, currency), align="R", new_x="LMARGIN", new_y="NEXT")
    if quote.notes:
        pdf.ln(6)
        pdf.set_font(pdf.body_font, "", 9)
        pdf.multi_cell(0, 5, pdf.clean(quote.notes))
    pdf.ln(6)
    pdf.line_of(f"This offer is valid until {quote.valid_until} inclusive.", size=9)
    return bytes(pdf.output())
