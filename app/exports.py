"""Every CSV, XLSX and PDF the app hands out: (header, rows) in, bytes or a download out.

One place for what a spreadsheet needs to be safe and readable in HR's Excel:

- Text never becomes a formula. Names, help texts and phone numbers come from candidates, and
  Excel runs a cell starting with = + - @ (or a tab or CR, also after leading spaces) as a
  formula: `=HYPERLINK(...)` would be a live link in HR's sheet. In CSV such a cell gets a
  leading single quote (OWASP's advice); in XLSX every text cell is an inline string, so no
  formula is ever stored and the text reads back exactly as given.
- Numbers (int, float, Decimal) are numeric cells in XLSX, so HR can sort and sum them; ID
  numbers, phones and codes stay text (as str) so Excel does not cut them to 15 digits or drop
  a leading zero. None is an empty cell.
- CSV is UTF-8 with a BOM: without it Excel on Chinese Windows reads the file as GBK.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from urllib.parse import quote

from flask import Response, send_file
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIMETYPE = "application/pdf"
MIMETYPES = {".csv": CSV_MIMETYPE, ".xlsx": XLSX_MIMETYPE, ".pdf": PDF_MIMETYPE}

# What makes Excel (and LibreOffice) read a cell as a formula, per OWASP's CSV injection page.
FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r")
_LEADING_SPACE = re.compile(r"^[^\S\t\r]+")  # whitespace other than the tab and CR themselves

MIN_WIDTH, MAX_WIDTH = 8, 50

Cell = str | int | float | Decimal | None


def is_number(value: object) -> bool:
    # bool is an int to Python, but "True" is no score.
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet would take this text for a formula."""
    if text[:1] in CONTROL_STARTS:
        return True
    rest = _LEADING_SPACE.sub("", text)
    return rest[:1] in FORMULA_STARTS or rest[:1] in CONTROL_STARTS


def csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if is_number(value):
        return str(value)
    text = str(value)
    return "'" + text if starts_formula(text) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]], lineterminator="\r\n") -> str:
    """The CSV as text without a BOM (for the command line, which prints it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow([csv_cell(value) for value in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    return ("\ufeff" + csv_text(header, rows)).encode("utf-8")


@dataclass
class Sheet:
    """One worksheet: a bold, frozen header row, then the rows; `print_title` (the page header
    when printed, e.g. 成绩汇总表 · the exam) and `landscape` for sheets that are printed."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Cell]]
    print_title: str | None = None
    landscape: bool = False


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], title: str) -> bytes:
    """One sheet named `title`, the header row bold and frozen, columns as wide as their text."""
    return xlsx_book([Sheet(title, header, rows)])


def xlsx_book(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of `sheets`, in order (the first is the one Excel opens on)."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None, "a new Workbook has one sheet, active"
    for index, spec in enumerate(sheets):
        worksheet = first if index == 0 else workbook.create_sheet()
        _fill(worksheet, spec)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


BOLD = Font(bold=True)


def _fill(sheet, spec: Sheet) -> None:
    sheet.title = spec.title
    widths: dict[int, int] = {}
    for r, row in enumerate([spec.header, *spec.rows], start=1):
        for c, value in enumerate(row, start=1):
            if value is None or value == "":
                continue
            cell = sheet.cell(row=r, column=c)
            if is_number(value):
                cell.value = value
                exponent = value.as_tuple().exponent if isinstance(value, Decimal) else 0
                if isinstance(exponent, int) and exponent < 0:
                    cell.number_format = "0." + "0" * -exponent  # 85.00 shows so, not as 85
                text = str(value)
            else:
                # Control characters are refused by the XLSX format (openpyxl raises on them).
                text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
                cell.value = text
                # openpyxl took "=..." for a formula and "#N/A" for an error: it is text.
                cell.data_type = "s"
                cell.number_format = "@"
            if r == 1:
                cell.font = BOLD
            widths[c] = max(widths.get(c, 0), display_width(text))
    for c, width in widths.items():
        sheet.column_dimensions[get_column_letter(c)].width = min(
            max(width + 2, MIN_WIDTH), MAX_WIDTH
        )
    sheet.freeze_panes = "A2"
    # Printed, every page repeats the header row; the table is fitted to the page's width.
    sheet.print_title_rows = "1:1"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    if spec.landscape:
        sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    if spec.print_title:
        sheet.oddHeader.center.text = ILLEGAL_CHARACTERS_RE.sub("", spec.print_title).replace(
            "&", "&&"
        )
        sheet.oddFooter.center.text = "第 &P 页 / 共 &N 页"


def display_width(text: str) -> int:
    """Columns the text takes in Excel: a Chinese character is about two Latin ones wide."""
    longest = max(text.splitlines() or [""], key=len)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest)


def download(data: bytes, filename: str, *, ascii_name: str | None = None) -> Response:
    """The bytes as an attachment named `filename`, its type from the extension.

    send_file writes a Chinese name as RFC 5987 `filename*` and an ASCII fallback that only
    strips what is not ASCII (市直面试-成绩.csv becomes -.csv); `ascii_name` gives a fallback
    that means something to the few clients that ignore `filename*`.
    """
    response = send_file(
        io.BytesIO(data),
        mimetype=MIMETYPES[PurePath(filename).suffix],
        as_attachment=True,
        download_name=filename,
    )
    if ascii_name is not None:
        response.headers["Content-Disposition"] = (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
        )
    # ID numbers and phones: no cache along the way may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
