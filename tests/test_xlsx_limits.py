"""An XLSX that would hold a worker for minutes is refused before openpyxl reads it (issue 14,
finding 10): a 223 KiB file of 89 MiB of shared strings took 132 s and 609 MiB.

The files are built small here, the way an attacker builds them: a workbook whose shared strings
are a huge, highly compressible XML part. "Refused fast" is proved by the refusal path, not a
clock: openpyxl's loader is replaced by one that fails the test if it is ever called.
"""

import io
import zipfile

import pytest

from app.setup import candidate_file
from app.setup.candidate_file import (
    MAX_SHARED_STRINGS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_XLSX_PART_BYTES,
    MAX_XLSX_PARTS,
    parse_candidates,
)
from tests.test_candidate_import import gen_id_number

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
HEADER = ["姓名", "身份证号", "手机号", "报考岗位"]
ZHANG_SAN = ["张三", gen_id_number(), "13800138000", "综合岗"]


def xlsx_with_shared_strings(
    extra: bytes = b"", strings_at: str = "xl/sharedStrings.xml", parts: int = 0
) -> bytes:
    """A workbook as Excel writes it: every text cell an index into the shared strings; `extra`
    is appended to them (unreferenced strings cost openpyxl just as much)."""
    texts = HEADER + ZHANG_SAN
    cells = "".join(
        f'<row r="{r + 1}">'
        + "".join(f'<c r="{"ABCD"[c]}{r + 1}" t="s"><v>{r * 4 + c}</v></c>' for c in range(4))
        + "</row>"
        for r in range(2)
    )
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            f'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.'
            'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
            f'{CT}.worksheet+xml"/><Override PartName="/{strings_at}" ContentType="'
            f'{CT}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{NS}" xmlns:r="{REL}"><sheets><sheet name="Sheet1" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" '
            f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" '
            f'Target="/{strings_at}"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{NS}"><sheetData>{cells}</sheetData></worksheet>',
    }
    shared = (
        f'<sst xmlns="{NS}">'.encode()
        + "".join(f"<si><t>{t}</t></si>" for t in texts).encode()
        + extra
        + b"</sst>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode())
        archive.writestr(strings_at, shared)
        for n in range(parts):
            archive.writestr(f"docProps/custom{n}.xml", b"<x/>")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _in_the_app(app):
    """HR's messages come in the app's default language (Chinese)."""
    yield


@pytest.fixture
def openpyxl_must_not_run(monkeypatch):
    def refuse(*args, **kwargs):
        # pytest.fail, a BaseException: the reader's `except Exception` cannot turn it into a refusal.
        pytest.fail("openpyxl was asked to parse a file the guard should have refused")

    monkeypatch.setattr(candidate_file.openpyxl, "load_workbook", refuse)


def test_a_workbook_with_shared_strings_is_read():
    """The builder makes a file openpyxl reads: the refusals below are the guard's, not a
    broken file's."""
    report = parse_candidates("list.xlsx", xlsx_with_shared_strings(b"<si><t>x</t></si>" * 1000))
    assert report.ok, report.errors
    assert report.rows[0].name == "张三"


def test_the_89_mib_shared_strings_bomb_is_refused_before_openpyxl(openpyxl_must_not_run):
    bomb = b"<si><t>" + b"a" * 1000 + b"</t></si>"
    data = xlsx_with_shared_strings(bomb * (89 * 1024 * 1024 // len(bomb)))
    assert len(data) < 300 * 1024  # small, as the attack's file was
    report = parse_candidates("list.xlsx", data)
    assert not report.ok
    assert report.errors == [
        f"Excel 文件中的文字内容过多（超过 {MAX_SHARED_STRINGS} 条不同的文字），请只保留考生名单后重试"
    ]


def test_shared_strings_just_over_the_size_limit_are_refused(openpyxl_must_not_run):
    big = b"<si><t>" + b"b" * (MAX_SHARED_STRINGS_BYTES + 1) + b"</t></si>"
    report = parse_candidates("list.xlsx", xlsx_with_shared_strings(big))
    assert "文字内容过多" in report.errors[0]


def test_too_many_small_shared_strings_are_refused(openpyxl_must_not_run):
    """Small in bytes, expensive in count: openpyxl's time grows with the square of it."""
    many = b"<si><t>1</t></si>" * MAX_SHARED_STRINGS
    report = parse_candidates("list.xlsx", xlsx_with_shared_strings(many))
    assert "文字内容过多" in report.errors[0]


def test_shared_strings_found_where_the_content_types_put_them(openpyxl_must_not_run):
    many = b'<x:si xml:space="preserve"><x:t>1</x:t></x:si>' * (MAX_SHARED_STRINGS + 1)
    data = xlsx_with_shared_strings(many, strings_at="xl/strings/words.xml")
    assert "文字内容过多" in parse_candidates("list.xlsx", data).errors[0]


def test_the_limit_leaves_room_for_a_full_list(monkeypatch):
    """Up to MAX_SHARED_STRINGS strings the file goes on to openpyxl."""
    just = b"<si><t>1</t></si>" * (MAX_SHARED_STRINGS - 8)
    assert parse_candidates("list.xlsx", xlsx_with_shared_strings(just)).ok


def test_any_part_too_large_is_refused(openpyxl_must_not_run):
    data = io.BytesIO(xlsx_with_shared_strings())
    with zipfile.ZipFile(data, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/image1.xml", b" " * (MAX_XLSX_PART_BYTES + 1))
    report = parse_candidates("list.xlsx", data.getvalue())
    assert report.errors == ["Excel 文件内容过大，请删除多余的工作表、格式和空行后重试"]


def test_too_many_parts_are_refused(openpyxl_must_not_run):
    report = parse_candidates("list.xlsx", xlsx_with_shared_strings(parts=MAX_XLSX_PARTS))
    assert report.errors == ["Excel 文件内容过大，请删除多余的工作表、格式和空行后重试"]
