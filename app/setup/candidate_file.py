"""Reading a candidate list (CSV or XLSX) into rows fit to import, or every reason why not.

Pure: bytes in, ImportReport out; no database. The messages go through gettext, so they are worded
in the reader's language inside a request and in Chinese in a job or a CLI command (outside an
app context they are the English msgids). A file with any bad row is refused whole,
so the report lists every problem at once and HR fixes the file in one round. Row numbers are the
ones Excel shows: the header is row 1, the first candidate is row 2, and blank rows still count.
"""

import csv
import functools
import io
import itertools
import os
import re
import warnings
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

import openpyxl
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.setup.id_checks import (
    id_number_problem,
    mobile_problem,
    normalise_id_number,
    normalise_mobile,
)

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DATA_ROWS = 20_000
# A 5 MB xlsx can inflate a thousandfold; look at the zip directory before openpyxl parses it.
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
# ...and at each part: openpyxl holds the shared strings in memory and takes time quadratic in
# their count (measured: 100,000 strings 2 s, 200,000 23 s, 1,000,000 116 s; a 223 KiB file of 89
# MiB of strings held a worker 132 s at 609 MiB). 20,000 candidates need at most 4 distinct strings
# each (Excel stores each distinct text once), about 3 MiB: the limits leave room for other columns.
MAX_XLSX_PART_BYTES = 32 * 1024 * 1024  # a 20,000-row sheet of 10 columns is about 8 MiB
MAX_XLSX_PARTS = 1000  # Excel writes about 10; each image, sheet or comment adds a few
MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024
MAX_SHARED_STRINGS = 5 * (MAX_DATA_ROWS + 1)
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
_SHARED_STRING_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s>/]")
_CONTENT_TYPES = "[Content_Types].xml"
_TOO_LARGE = _l(
    "The Excel file holds too much: delete the extra sheets, formatting and empty rows and try"
    " again"
)


def _too_many_strings() -> str:
    return _(
        "The Excel file holds too much text (more than %(limit)s different texts): keep only the"
        " candidate list and try again",
        limit=MAX_SHARED_STRINGS,
    )


MAX_NAME_LENGTH = 50
MAX_POSITION_LENGTH = 100  # the width of Candidate.position

FIELD_LABELS = {"name": "姓名", "id_number": "身份证号", "phone": "手机号", "position": "报考岗位"}
_FIELD_BY_HEADER = {label: field for field, label in FIELD_LABELS.items()} | {
    field: field for field in FIELD_LABELS
}
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 is a superset of GBK, what Excel writes in China

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a file entry, or an empty archive
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx
_XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
_CSV_EXTENSIONS = {".csv", ".txt"}
# What Excel writes into a CSV for a long number: a typed ID number ends up like 1.10105E+17.
_EXCEL_NUMBER_TEXT = re.compile(r"[0-9](\.[0-9]+)?E\+?[0-9]+")
_SAVE_AS_HINT = _l('In Excel, "Save As" .xlsx or CSV UTF-8 and upload again')
NUMERIC_ID_NUMBER_PROBLEM = _l(
    "the ID number was stored as a number and its last digits are lost; format the column as"
    ' "Text" and enter the ID numbers again'
)

Cell = str | int | float


class FileProblem(Exception):
    """The file as a whole cannot be read; the message is for HR, in HR's language."""


def _with_hint(problem: str) -> FileProblem:
    """A problem HR fixes by saving the file again from Excel."""
    return FileProblem(_("%(p)s. %(h)s", p=problem, h=_SAVE_AS_HINT))


def _not_xlsx() -> str:
    return _("The file is not a valid .xlsx file (it may be damaged)")


def _joined_list(items) -> str:
    """Column names or row numbers as one list ("姓名、手机号"); the names stay as the file's header
    must spell them, only the separator follows the language."""
    return functools.reduce(
        lambda earlier, item: _("%(a)s, %(b)s", a=earlier, b=item),
        map(str, items),
    )


def _joined_problems(problems) -> str:
    return functools.reduce(lambda earlier, item: _("%(a)s; %(b)s", a=earlier, b=item), problems)


@dataclass(frozen=True)
class CandidateRow:
    row_number: int
    name: str
    id_number: str
    phone: str
    position: str


@dataclass
class ImportReport:
    """`rows` holds every candidate of a clean file and nothing at all when there are errors.

    `errors`: file-level problems first, then one line per bad row in row order, e.g.
    "第 3 行：身份证号校验位不正确；手机号为空".
    """

    rows: list[CandidateRow]
    errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_candidates(
    filename: str, data: bytes, existing_id_numbers: set[str] | frozenset[str] = frozenset()
) -> ImportReport:
    """Check every row of an uploaded list; `existing_id_numbers` are those already in the exam."""
    try:
        table = read_table(filename, data)
    except FileProblem as problem:
        return ImportReport(rows=[], errors=[str(problem)])
    return check_rows(table, existing_id_numbers)


# Reading ---------------------------------------------------------------------------------------


def read_table(filename: str, data: bytes) -> list[tuple[int, dict[str, Cell]]]:
    """Non-blank data rows as (Excel row number, {field: cell}); raises FileProblem.

    Cells are stripped strings, except that XLSX numbers stay int or float so that an ID number
    Excel stored as a number can be told apart from one typed as text.
    """
    if len(data) > MAX_FILE_BYTES:
        raise FileProblem(
            _(
                "The file is larger than %(size)s MB; split it and import the parts one by one",
                size=MAX_FILE_BYTES // (1024 * 1024),
            )
        )
    if not data.strip():
        raise FileProblem(_("The file is empty"))
    raw_rows = _read_raw_rows(filename, data)
    if all(_is_blank(row) for row in raw_rows):
        raise FileProblem(_("The file is empty"))
    columns = _field_columns(raw_rows[0])
    table = [
        (row_number, {field: _cell(row, index) for field, index in columns.items()})
        for row_number, row in enumerate(raw_rows[1:], start=2)
        if not _is_blank(row)
    ]
    if not table:
        raise FileProblem(
            _("The file holds no candidates (row 1 is the header, the candidates start in row 2)")
        )
    return table


def _read_raw_rows(filename: str, data: bytes) -> list[tuple]:
    extension = os.path.splitext(filename)[1].lower()
    # The bytes decide over the name: Excel files are often renamed, and a zip is never a CSV.
    if data.startswith(_ZIP_MAGIC):
        return _xlsx_rows(data)
    if data.startswith(_OLE_MAGIC):
        raise _with_hint(_("Old .xls files and password-protected Excel files are not supported"))
    if extension in _XLSX_EXTENSIONS:
        raise _with_hint(_not_xlsx())
    if extension in _CSV_EXTENSIONS:
        return _csv_rows(data)
    raise FileProblem(_("Unsupported file type; upload a CSV or XLSX file"))


def _csv_rows(data: bytes) -> list[tuple]:
    text = _decode_csv(data)
    try:
        return _take_rows(tuple(row) for row in csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        # Non-strict csv only fails on an over-long cell, which is usually an unpaired quote
        # that swallowed the rest of the file.
        raise _with_hint(
            _("The CSV file is malformed (a cell is too long, or a quote is unpaired)")
        ) from error


def _decode_csv(data: bytes) -> str:
    # UTF-16 ("Unicode 文本" in Excel) would decode as GB18030 full of NULs: say so plainly.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise _with_hint(_("Text files in UTF-16 and similar encodings are not supported"))
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _with_hint(_("The file's encoding is not recognised (UTF-8 and GBK are supported)"))


def _xlsx_rows(data: bytes) -> list[tuple]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_xlsx_parts(archive)
    except FileProblem:
        raise
    except Exception as error:  # BadZipFile mostly, NotImplementedError for odd zip versions
        raise _with_hint(_not_xlsx()) from error
    try:
        # openpyxl warns about styles and extensions it ignores; they do not affect values, and
        # the test suite (and any caller running with -W error) must not turn them into failures.
        # Note: catch_warnings changes process-wide state for the duration of the read.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="openpyxl")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if not workbook.worksheets:
                    raise FileProblem(_("The Excel file has no worksheet"))
                # The first sheet, not the active one: which tab was open when saved is invisible.
                return _take_rows(workbook.worksheets[0].iter_rows(values_only=True))
            finally:
                workbook.close()
    except FileProblem:
        raise
    except Exception as error:
        # A damaged or foreign zip fails deep inside openpyxl with KeyError, XML parse errors,
        # TypeError...; whichever it is, HR's answer is the same: save the file again.
        raise _with_hint(_("The Excel file cannot be read (it may be damaged)")) from error


def check_xlsx_parts(archive: zipfile.ZipFile) -> None:
    """Refuse (FileProblem) a workbook too big to hand to openpyxl, from its zip directory and its
    shared strings, before openpyxl reads any of it.

    The sizes in the directory are what zipfile will inflate at most (it stops there and fails
    the CRC), so they can be trusted; the shared strings are counted in their raw XML.
    """
    members = archive.infolist()
    if len(members) > MAX_XLSX_PARTS:
        raise FileProblem(str(_TOO_LARGE))
    if sum(m.file_size for m in members) > MAX_XLSX_UNPACKED_BYTES:
        raise FileProblem(str(_TOO_LARGE))
    for member in _shared_strings_parts(archive):
        if member.file_size > MAX_SHARED_STRINGS_BYTES:
            raise FileProblem(_too_many_strings())
        strings = _SHARED_STRING_RE.finditer(archive.read(member))
        if sum(1 for _ in itertools.islice(strings, MAX_SHARED_STRINGS + 1)) > MAX_SHARED_STRINGS:
            raise FileProblem(_too_many_strings())
    if any(m.file_size > MAX_XLSX_PART_BYTES for m in members):
        raise FileProblem(str(_TOO_LARGE))


def _shared_strings_parts(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The shared-strings part wherever [Content_Types].xml puts it (as openpyxl finds it), and
    anything named like one."""
    names = {m.filename.lower(): m for m in archive.infolist()}
    found = {name for name in names if name.rsplit("/", 1)[-1] == "sharedstrings.xml"}
    types = names.get(_CONTENT_TYPES.lower())
    if types is not None and types.file_size <= 1024 * 1024:
        text = archive.read(types).decode("utf-8", "replace")
        for match in re.finditer(r"<Override\b[^>]*>", text):
            tag = match.group(0)
            part = re.search(r'PartName="/?([^"]+)"', tag)
            if part and SHARED_STRINGS_TYPE in tag:
                found.add(part.group(1).lower())
    return [names[name] for name in sorted(found) if name in names]


def _take_rows(rows) -> list[tuple]:
    """All rows, refusing the file as soon as it holds more candidates than one import may."""
    taken: list[tuple] = []
    non_blank = 0
    for row in rows:
        taken.append(row)
        non_blank += not _is_blank(row)
        if non_blank > MAX_DATA_ROWS + 1:  # + 1 for the header
            raise FileProblem(
                _(
                    "More than %(limit)s candidates; split the file and import the parts one by"
                    " one",
                    limit=MAX_DATA_ROWS,
                )
            )
    return taken


def _is_blank(row: tuple) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in row)


def _header_key(value) -> str:
    return _text(value).replace("\ufeff", "").strip().lower()


def _field_columns(header: tuple) -> dict[str, int]:
    """Column index of each field in the header row; extra columns are ignored."""
    positions: dict[str, list[int]] = defaultdict(list)
    for index, value in enumerate(header):
        field = _FIELD_BY_HEADER.get(_header_key(value))
        if field:
            positions[field].append(index)
    repeated = [FIELD_LABELS[field] for field in FIELD_LABELS if len(positions[field]) > 1]
    if repeated:
        raise FileProblem(
            _(
                "These columns appear more than once in the header (row 1): %(columns)s",
                columns=_joined_list(repeated),
            )
        )
    missing = [label for field, label in FIELD_LABELS.items() if not positions[field]]
    if missing:
        raise FileProblem(
            _(
                "Required columns are missing: %(missing)s (row 1 must be the header: %(header)s)",
                missing=_joined_list(missing),
                header=_joined_list(FIELD_LABELS.values()),
            )
        )
    return {field: indexes[0] for field, indexes in positions.items()}


def _cell(row: tuple, index: int) -> Cell:
    value = row[index] if index < len(row) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return _text(value)


def _text(value) -> str:
    """A cell as the text HR sees, e.g. 13800138000 rather than 13800138000.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


# Checking --------------------------------------------------------------------------------------


def check_rows(
    table: list[tuple[int, dict[str, Cell]]], existing_id_numbers: set[str] | frozenset[str]
) -> ImportReport:
    """Every row's problems, including ID numbers repeated in the file or already in the exam."""
    existing = {normalise_id_number(id_number) for id_number in existing_id_numbers}
    checked = [(row_number, *_check_fields(row_number, cells)) for row_number, cells in table]

    rows_by_id: dict[str, list[int]] = defaultdict(list)
    for row_number, row, problems in checked:
        if "id_number" not in problems:
            rows_by_id[row.id_number].append(row_number)

    candidates: list[CandidateRow] = []
    errors: list[str] = []
    for row_number, row, problems in checked:
        if "id_number" not in problems:
            id_problems = _id_number_conflicts(row_number, rows_by_id[row.id_number])
            if row.id_number in existing:
                id_problems.append(
                    _("a candidate with this ID number is already on this exam's list")
                )
            if id_problems:
                problems["id_number"] = _joined_problems(id_problems)
        if problems:
            # Reasons in column order, the order HR reads the row in.
            reasons = [problems[field] for field in FIELD_LABELS if field in problems]
            errors.append(
                _("Row %(row)s: %(problems)s", row=row_number, problems=_joined_problems(reasons))
            )
        else:
            candidates.append(row)
    return ImportReport(rows=[] if errors else candidates, errors=errors)


def _id_number_conflicts(row_number: int, rows_with_same_id: list[int]) -> list[str]:
    if len(rows_with_same_id) < 2:
        return []
    first, *later = rows_with_same_id
    # The first of the rows names the later ones; each later row names the first.
    rows = _joined_list(later) if row_number == first else str(first)
    return [_("the ID number repeats that of row %(rows)s", rows=rows)]


def _check_fields(row_number: int, cells: dict[str, Cell]) -> tuple[CandidateRow, dict[str, str]]:
    """The row with normalised values, and at most one problem per field."""
    problems: dict[str, str] = {}

    name = _text(cells["name"])
    if not name:
        problems["name"] = _("the name is empty")
    elif len(name) > MAX_NAME_LENGTH:
        problems["name"] = _("the name is longer than %(limit)s characters", limit=MAX_NAME_LENGTH)

    raw_id_number = cells["id_number"]
    id_number = normalise_id_number(_text(raw_id_number))
    if isinstance(raw_id_number, (int, float)) or _EXCEL_NUMBER_TEXT.fullmatch(id_number):
        problems["id_number"] = str(NUMERIC_ID_NUMBER_PROBLEM)
    elif problem := id_number_problem(id_number):
        problems["id_number"] = problem

    phone = normalise_mobile(_text(cells["phone"]))
    if problem := mobile_problem(phone):
        problems["phone"] = problem

    position = _text(cells["position"])
    if not position:
        problems["position"] = _("the position applied for is empty")
    elif len(position) > MAX_POSITION_LENGTH:
        problems["position"] = _(
            "the position applied for is longer than %(limit)s characters",
            limit=MAX_POSITION_LENGTH,
        )

    row = CandidateRow(
        row_number=row_number, name=name, id_number=id_number, phone=phone, position=position
    )
    return row, problems
