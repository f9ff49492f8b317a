"""Reading an uploaded file as a header and rows of text cells, streaming (CSV: csv.reader over the bytes;
XLSX: openpyxl's read-only mode), so a worker resuming at row N skips without holding the file's rows."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from datetime import date, datetime

CSV, XLSX = "csv", "xlsx"


class UnreadableFile(ValueError):
    """The file is not CSV or XLSX, has no header, or is not UTF-8."""


def format_of(filename: str, content: bytes, asked: str = "") -> str:
    if asked:
        return asked
    if filename.lower().endswith((".xlsx", ".xlsm")) or content[:2] == b"PK":
        return XLSX
    return CSV


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    try:
        sample = content[:4096].decode("utf-8-sig", errors="ignore")
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        yield from csv.reader(text, dialect)
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not UTF-8 text") from None
    except csv.Error as error:
        raise UnreadableFile(f"the file is not valid CSV: {error}") from None


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    try:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise UnreadableFile(f"the file is not a readable XLSX workbook: {error}") from None
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        book.close()


def read_rows(content: bytes, file_format: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header (stripped column names) and an iterator of (row number, cells); row numbers count
    the header as row 1, as a spreadsheet shows them. Blank rows are left out (their numbers too)."""
    if file_format == CSV and content[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise UnreadableFile("the file is UTF-16; save it as UTF-8 CSV")
    rows = _xlsx_rows(content) if file_format == XLSX else _csv_rows(content)
    header: list[str] | None = None
    for cells in rows:
        if any(c.strip() for c in cells):
            header = [c.strip() for c in cells]
            break
    if header is None:
        raise UnreadableFile("the file has no header row")
    if len(set(header)) != len(header) or "" in header:
        raise UnreadableFile("every column needs a name of its own in the header row")

    def numbered() -> Iterator[tuple[int, list[str]]]:
        number = 1
        for cells in rows:
            number += 1
            if any(c.strip() for c in cells):
                yield number, cells

    return header, numbered()
