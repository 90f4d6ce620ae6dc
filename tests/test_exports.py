"""app.exports: every CSV and XLSX the app writes, and the downloads that carry them."""

import csv
import io
import zipfile
from decimal import Decimal as D
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from app import db
from app.exports import csv_bytes, csv_text, download, starts_formula, xlsx_bytes
from app.scoring.service import confirm, submit
from tests.test_scoring import Panel5

FORMULAS = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    '=HYPERLINK("x")',
    "\tfoo",
    "\rfoo",
    "  =1+1",
    "\u3000@x",
    " \t-2",
]
PLAIN = ["王晓明", "a=b", "13800138000", "110105199001010011", "1-2", "'quoted", "#N/A"]


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _sheet(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_is_text_in_csv_and_xlsx(text):
    assert starts_formula(text)
    (row,) = _csv_rows(csv_bytes(["name"], [[text]]))[1:]
    assert row == ["'" + text]

    data = xlsx_bytes(["name"], [[text]], title="t")
    cell = _sheet(data)["A2"]
    assert cell.data_type == "s"
    # XML turns a bare CR into LF on reading; the point is that it stays text.
    assert cell.value == text.replace("\r", "\n") or cell.value == text
    assert "<f>" not in _sheet_xml(data) and "<f " not in _sheet_xml(data)


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_is_left_as_it_is(text):
    assert not starts_formula(text)
    assert _csv_rows(csv_bytes(["name"], [[text]]))[1] == [text]
    cell = _sheet(xlsx_bytes(["name"], [[text]], title="t"))["A2"]
    assert cell.value == text and cell.data_type == "s"  # "#N/A" is no error cell either


def test_numbers_are_numeric_cells_and_plain_in_csv():
    row = [-1, 3, 1.5, D("84.33"), D("80.0"), None, "-1"]
    parsed = _csv_rows(csv_bytes(list("abcdefg"), [row]))
    assert parsed[1] == ["-1", "3", "1.5", "84.33", "80.0", "", "'-1"]

    sheet = _sheet(xlsx_bytes(list("abcdefg"), [row], title="t"))
    cells = sheet[2]
    assert [c.data_type for c in cells[:5]] == ["n"] * 5
    assert [c.value for c in cells[:5]] == [-1, 3, 1.5, 84.33, 80.0]
    assert cells[3].number_format == "0.00" and cells[4].number_format == "0.0"
    assert cells[5].value is None
    assert cells[6].value == "-1" and cells[6].data_type == "s"  # text "-1" stays text


def test_csv_has_bom_and_crlf_and_the_cli_variant_has_neither():
    data = csv_bytes(["姓名", "分"], [["王晓明", 85], ["李婷", None]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data[3:].decode("utf-8") == "姓名,分\r\n王晓明,85\r\n李婷,\r\n"
    assert csv_text(["a"], [["=1"]], lineterminator="\n") == "a\n'=1\n"


def test_xlsx_freezes_the_header_and_sizes_columns():
    data = xlsx_bytes(["姓名 name", "x"], [["王晓明王晓明王晓明", 1], [None, 2]], title="成绩")
    sheet = _sheet(data)
    assert sheet.title == "成绩" and sheet.freeze_panes == "A2"
    # Nine Chinese characters are about eighteen Latin ones wide; a short column keeps a minimum.
    assert sheet.column_dimensions["A"].width == 20
    assert sheet.column_dimensions["B"].width == 8


def test_xlsx_drops_control_characters_instead_of_failing():
    sheet = _sheet(xlsx_bytes(["h"], [["a\x0bb\x01c"]], title="t"))
    assert sheet["A2"].value == "abc"


def test_download_names_type_and_cache(app):
    with app.test_request_context():
        response = download(b"x,y\r\n", "市直面试-成绩.csv")
        assert response.mimetype == "text/csv"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote('市直面试-成绩.csv')}" in disposition
        assert response.headers["Cache-Control"] == "no-store"
        response.direct_passthrough = False
        assert response.get_data() == b"x,y\r\n"

        response = download(b"PK", "市直面试-成绩.xlsx", ascii_name="results-exam-3.xlsx")
        assert response.mimetype == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        disposition = response.headers["Content-Disposition"]
        assert 'filename="results-exam-3.xlsx"' in disposition
        assert f"filename*=UTF-8''{quote('市直面试-成绩.xlsx', safe='')}" in disposition

        response = download(b"", "slips-exam-3.csv")
        assert "filename=slips-exam-3.csv" in response.headers["Content-Disposition"]


# --- the exports that use it ------------------------------------------------------------------


def test_results_export_of_a_formula_named_candidate_holds_the_text(app, client, staff):
    p = Panel5()
    p.candidate.name = "=1+1"
    db.session.commit()
    for examiner in p.examiners:
        submit(p.candidate, examiner, p.form(20, 20, 15, 15, 5, 10))
    confirm(p.candidate, p.chief)
    assert staff.login("hr").status_code == 302

    response = client.get(f"/hr/exams/{p.exam.id}/results.csv")
    assert response.status_code == 200
    header, row = _csv_rows(response.get_data())
    assert row[0] == "'=1+1" and row[header.index("最终成绩 final")] == "85.00"

    response = client.get(f"/hr/exams/{p.exam.id}/results.xlsx")
    assert response.status_code == 200
    data = response.get_data()
    sheet = _sheet(data)
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == "11010519900101001X"
    columns = [cell.value for cell in sheet[1]]
    final = sheet.cell(2, columns.index("最终成绩 final") + 1)
    assert final.data_type == "n" and D(str(final.value)) == D("85.00")
    assert sheet.cell(2, columns.index("岗位排名 rank") + 1).value == 1  # the rank, a number
    assert "<f>" not in _sheet_xml(data) and "<f " not in _sheet_xml(data)


def test_codes_cli_guards_a_formula_named_candidate(app, runner):
    p = Panel5()
    p.candidate.name = '=HYPERLINK("x")'
    db.session.commit()
    result = runner.invoke(args=["candidates", "codes", str(p.exam.id)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0][:2] == ["name", "code"] and rows[1][:2] == ['\'=HYPERLINK("x")', "123456"]


def test_results_cli_writes_the_same_guarded_bytes(app, runner, tmp_path):
    p = Panel5()
    p.candidate.name = "@SUM(A1)"
    db.session.commit()
    out = tmp_path / "r.xlsx"
    result = runner.invoke(
        args=["results", "export", str(p.exam.id), "--format", "xlsx", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "<f>" not in _sheet_xml(out.read_bytes())
    assert _sheet(out.read_bytes())["A2"].value == "@SUM(A1)"
    result = runner.invoke(args=["results", "export", str(p.exam.id)])
    assert "'@SUM(A1)" in result.output
