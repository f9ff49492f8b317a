"""The quote PDF's font: PDF's built-in Helvetica for latin-1 text, the TrueType font for anything else."""

from __future__ import annotations

import io

import pypdf
import pytest

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
