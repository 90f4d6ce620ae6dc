"""Candidate import, the pure part: ID and mobile checks, reading CSV/XLSX, all-or-nothing.

`app.setup.candidate_file` and `app.setup.id_checks` need no database; they run in the app's
context only because their messages go through gettext (Chinese by default, as a job or the CLI
reads them).
All people and numbers here are made up; the ID numbers get valid check digits from `gen_id_number`.
"""

import io
import re
import zipfile
from datetime import datetime, timedelta

import openpyxl
import pytest

from app.setup import candidate_file as candidate_import
from app.setup.candidate_file import CandidateRow, ImportReport, parse_candidates, read_table
from app.setup.id_checks import (
    id_number_problem,
    mobile_problem,
    normalise_id_number,
    normalise_mobile,
)
from app.timeutil import BEIJING

HEADER = ["姓名", "身份证号", "手机号", "报考岗位"]


@pytest.fixture(autouse=True)
def _in_the_app(app):
    """HR's messages come in the app's default language (Chinese)."""
    yield


# Test data helpers -----------------------------------------------------------------------------


def check_character(first_17: str) -> str:
    """ISO 7064 MOD 11-2 the recursive way, independent of the weight table in app.setup.id_checks."""
    remainder = 0
    for digit in first_17:
        remainder = (remainder + int(digit)) * 2 % 11
    value = (12 - remainder) % 11
    return "X" if value == 10 else str(value)


def gen_id_number(area: str = "110105", born: str = "19900307", sequence: int = 123) -> str:
    first_17 = f"{area}{born}{sequence:03d}"
    return first_17 + check_character(first_17)


def gen_id_number_ending_in_x(born: str = "19880815") -> str:
    for sequence in range(1000):
        id_number = gen_id_number("320102", born, sequence)
        if id_number.endswith("X"):
            return id_number
    raise AssertionError("one sequence in eleven gives X")


ZHANG_SAN = ["张三", gen_id_number("110105", "19900307", 123), "13800138000", "综合管理岗"]
LI_SI = ["李四", gen_id_number("310104", "19920521", 456), "13912345678", "财务岗"]
WANG_WU = ["王五", gen_id_number("440106", "19951130", 789), "15011112222", "信息技术岗"]
ZHAO_LIU = ["赵六", gen_id_number("510107", "20000229", 21), "18600001111", "综合管理岗"]


def gen_csv(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    """A CSV as Excel saves it: CRLF line ends, in the given encoding."""
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def gen_xlsx(rows: list[list], header: list = HEADER, number_format_text: bool = False) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if number_format_text:
        for cells in sheet.iter_rows():
            for cell in cells:
                cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def errors_of(filename: str, data: bytes, existing: set[str] = frozenset()) -> list[str]:
    report = parse_candidates(filename, data, existing)
    assert not report.ok
    assert report.rows == []  # refused whole: the caller has nothing to import
    return report.errors


# ID numbers ------------------------------------------------------------------------------------


def test_check_character_helper_agrees_with_the_example_in_gb_11643():
    assert gen_id_number("110105", "19491231", 2) == "11010519491231002X"
    assert gen_id_number("440524", "18800101", 1) == "440524188001010014"


@pytest.mark.parametrize(
    "id_number",
    [
        "11010519491231002X",
        "440524188001010014",
        gen_id_number("110105", "19900307", 123),
        gen_id_number("510107", "20000229", 21),  # 2000 is a leap year
        gen_id_number("650102", "19991231", 999),
        gen_id_number_ending_in_x(),
    ],
)
def test_valid_id_numbers_have_no_problem(id_number):
    assert id_number_problem(id_number) is None


def test_id_number_lower_case_x_is_normalised_and_valid():
    id_number = gen_id_number_ending_in_x()
    assert normalise_id_number(id_number.lower()) == id_number
    assert id_number_problem(id_number.lower()) is None


def test_id_number_spaces_and_full_width_digits_are_normalised():
    id_number = gen_id_number()
    full_width = id_number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert normalise_id_number(f" {full_width}\u3000") == id_number
    assert normalise_id_number(f"{id_number[:6]} {id_number[6:14]} {id_number[14:]}") == id_number


def test_wrong_check_digit_is_reported():
    good = gen_id_number()
    wrong_last = "0123456789X".replace(good[-1], "")[0]
    assert id_number_problem(good[:-1] + wrong_last) == "身份证号校验位不正确"


@pytest.mark.parametrize("born", ["19900230", "20010229", "19901301", "19900001", "19900100"])
def test_impossible_birth_date_is_reported_even_with_a_matching_check_digit(born):
    assert (
        id_number_problem(gen_id_number(born=born)) == f"身份证号中的出生日期 {born} 不是有效日期"
    )


def test_birth_date_in_the_future_is_reported():
    today = datetime.now(BEIJING).date()  # the candidates' today, whatever the server's zone
    born = (today + timedelta(days=1)).strftime("%Y%m%d")
    assert id_number_problem(gen_id_number(born=born)) == f"身份证号中的出生日期 {born} 晚于今天"
    # Born today in Beijing is not "in the future", even while the UTC date is still yesterday.
    assert id_number_problem(gen_id_number(born=today.strftime("%Y%m%d"))) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "身份证号为空"),
        ("   ", "身份证号为空"),
        (gen_id_number()[:17], "身份证号应为 18 位，实为 17 位"),
        (gen_id_number() + "1", "身份证号应为 18 位，实为 19 位"),
        ("110105199003071", "身份证号应为 18 位，实为 15 位"),  # first-generation IDs: not accepted
        ("1101051990030712X3", "身份证号格式不正确（前 17 位须为数字，末位为数字或 X）"),
        ("11010519900307123Y", "身份证号格式不正确（前 17 位须为数字，末位为数字或 X）"),
    ],
)
def test_malformed_id_numbers_are_reported(value, problem):
    assert id_number_problem(value) == problem


# Mobile numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "  13800138000 ",
        "138 0013 8000",
        "138-0013-8000",
        "+8613800138000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "8613800138000",
        "86 138-0013-8000",
        "１３８００１３８０００",  # typed with a full-width input method
        13800138000,
    ],
)
def test_accepted_mobile_forms_normalise_to_eleven_digits(raw):
    assert normalise_mobile(raw) == "13800138000"
    assert mobile_problem(raw) is None


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mobile_prefix_from_13_to_19_is_accepted(prefix):
    assert mobile_problem(prefix + "912345678") is None


@pytest.mark.parametrize(
    "raw",
    [
        "12800138000",  # second digit 2
        "10800138000",
        "23800138000",  # not starting with 1
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "1380013800a",
        "+85213800138000",  # not a mainland prefix
        "86138001380",  # 86 with only 9 digits after it is not a prefix
        "010-12345678",  # a landline
        "138.0013.8000",
    ],
)
def test_bad_mobiles_are_reported(raw):
    assert mobile_problem(raw) == "手机号不正确（应为 1 开头、第二位为 3–9 的 11 位数字）"


def test_empty_mobile_is_reported():
    assert mobile_problem("  ") == "手机号为空"


# Reading files ---------------------------------------------------------------------------------


def expected_rows(*people: list[str], first_row: int = 2) -> list[CandidateRow]:
    return [
        CandidateRow(row_number, name, id_number, phone, position)
        for row_number, (name, id_number, phone, position) in enumerate(people, start=first_row)
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_supported_encoding_is_read(encoding):
    report = parse_candidates(
        "考生名单.csv", gen_csv([ZHANG_SAN, LI_SI, WANG_WU], encoding=encoding)
    )
    assert report.ok, report.errors
    assert report.rows == expected_rows(ZHANG_SAN, LI_SI, WANG_WU)


def test_gbk_csv_with_a_rare_character_in_a_name():
    # 喆 and 堃 are in GBK; names with them are common enough to break a Latin-1 guess.
    people = [["王喆", *ZHANG_SAN[1:]], ["李堃", *LI_SI[1:]]]
    report = parse_candidates("名单.CSV", gen_csv(people, encoding="gbk"))
    assert [row.name for row in report.rows] == ["王喆", "李堃"]


def test_values_are_stripped_and_normalised():
    id_number = gen_id_number_ending_in_x()
    data = gen_csv([[" 张三 ", f" {id_number.lower()} ", " +86 138-0013-8000 ", " 综合管理岗 "]])
    report = parse_candidates("a.csv", data)
    assert report.rows == [CandidateRow(2, "张三", id_number, "13800138000", "综合管理岗")]


def test_english_headers_any_case_any_order_with_extra_columns():
    header = ["序号", " Phone ", "NAME", "备注", "Position", "ID_Number"]
    rows = [["1", ZHANG_SAN[2], ZHANG_SAN[0], "应届", ZHANG_SAN[3], ZHANG_SAN[1]]]
    report = parse_candidates("a.csv", gen_csv(rows, header=header))
    assert report.rows == expected_rows(ZHANG_SAN)


def test_quoted_csv_fields_with_commas():
    header = ",".join(HEADER)
    data = f'{header}\r\n张三,{ZHANG_SAN[1]},13800138000,"综合管理岗（一）,A类"\r\n'.encode()
    assert parse_candidates("a.csv", data).rows[0].position == "综合管理岗（一）,A类"


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (["姓名", "身份证号", "报考岗位"], "手机号"),
        (["name", "id_number"], "手机号、报考岗位"),
        (["姓名", "身份证号码", "手机号", "报考岗位"], "身份证号"),  # near misses are not guessed
    ],
)
def test_missing_required_column_is_a_file_error(header, missing):
    data = gen_csv(
        [["张三", ZHANG_SAN[1], "13800138000", "综合管理岗"][: len(header)]], header=header
    )
    assert errors_of("a.csv", data) == [
        f"缺少必需的列：{missing}（第 1 行应为表头：姓名、身份证号、手机号、报考岗位）"
    ]


def test_a_column_given_twice_is_a_file_error():
    data = gen_csv([[*ZHANG_SAN, "13900000000"]], header=[*HEADER, "phone"])
    assert errors_of("a.csv", data) == ["第 1 行表头中这些列出现了不止一次：手机号"]


def test_blank_rows_are_skipped_but_keep_row_numbers_in_csv():
    lines = [",".join(HEADER), ",".join(ZHANG_SAN), "", ",,,", " , ,\t, ", ",".join(LI_SI), ""]
    report = parse_candidates("a.csv", "\r\n".join(lines).encode("utf-8"))
    assert [row.row_number for row in report.rows] == [2, 6]


def test_blank_rows_keep_row_numbers_in_errors():
    lines = [",".join(HEADER), "", "", ",".join(["张三", "123", "13800138000", "综合管理岗"])]
    assert errors_of("a.csv", "\r\n".join(lines).encode("utf-8")) == [
        "第 4 行：身份证号应为 18 位，实为 3 位"
    ]


def test_row_numbers_count_records_not_lines_when_a_cell_spans_lines():
    data = gen_csv([["张三", ZHANG_SAN[1], ZHANG_SAN[2], '"综合\r\n管理岗"'], LI_SI])
    assert [row.row_number for row in parse_candidates("a.csv", data).rows] == [2, 3]


def test_xlsx_with_text_cells():
    report = parse_candidates("名单.xlsx", gen_xlsx([ZHANG_SAN, LI_SI], number_format_text=True))
    assert report.rows == expected_rows(ZHANG_SAN, LI_SI)


def test_xlsx_numeric_phone_cells_become_text():
    rows = [[*ZHANG_SAN[:2], 13800138000, *ZHANG_SAN[3:]], [*LI_SI[:2], 13912345678.0, *LI_SI[3:]]]
    report = parse_candidates("名单.xlsx", gen_xlsx(rows))
    assert [row.phone for row in report.rows] == ["13800138000", "13912345678"]


def test_xlsx_numeric_position_cell_becomes_text():
    report = parse_candidates("名单.xlsx", gen_xlsx([[*ZHANG_SAN[:3], 101]]))
    assert report.rows[0].position == "101"


def test_xlsx_numeric_id_number_is_refused_with_a_text_format_hint():
    # Excel keeps 15 significant digits, so a typed ID number comes back with its tail zeroed.
    truncated = int(ZHANG_SAN[1][:15] + "000")
    rows = [
        ZHANG_SAN,
        [*LI_SI[:1], truncated, *LI_SI[2:]],
        [*WANG_WU[:1], float(truncated), *WANG_WU[2:]],
    ]
    hint = "身份证号被存成了数字，末几位已丢失；请把该列设置为“文本”格式后重新录入身份证号"
    assert errors_of("名单.xlsx", gen_xlsx(rows)) == [f"第 3 行：{hint}", f"第 4 行：{hint}"]


def test_csv_id_number_in_excel_scientific_notation_gets_the_same_hint():
    rows = [["张三", "1.10105E+17", "13800138000", "综合管理岗"]]
    assert errors_of("a.csv", gen_csv(rows)) == [
        "第 2 行：身份证号被存成了数字，末几位已丢失；请把该列设置为“文本”格式后重新录入身份证号"
    ]


def test_xlsx_blank_rows_keep_row_numbers():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(ZHANG_SAN)
    sheet.cell(row=5, column=1, value="   ")  # a cell holding only spaces is still blank
    for column, value in enumerate(LI_SI, start=1):
        sheet.cell(row=7, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = parse_candidates("名单.xlsx", buffer.getvalue())
    assert [row.row_number for row in report.rows] == [2, 7]


def test_xlsx_reads_the_first_sheet_even_when_another_is_active():
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(ZHANG_SAN)
    notes = workbook.create_sheet("说明")
    notes.append(["请勿修改表头"])
    workbook.active = notes
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert parse_candidates("名单.xlsx", buffer.getvalue()).rows == expected_rows(ZHANG_SAN)


def test_xlsx_is_recognised_by_content_whatever_its_name():
    assert parse_candidates("名单.csv", gen_xlsx([ZHANG_SAN])).rows == expected_rows(ZHANG_SAN)


def test_xlsx_that_makes_openpyxl_warn_is_read_without_warnings():
    # Some exporters write a stylesheet without cell styles; openpyxl warns "no default style".
    # The suite runs with -W error, so this also proves the warning does not escape.
    source = zipfile.ZipFile(io.BytesIO(gen_xlsx([ZHANG_SAN])))
    bare_styles = (
        b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<cellXfs count="1"><xf numFmtId="0"/></cellXfs></styleSheet>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            target.writestr(name, bare_styles if name == "xl/styles.xml" else source.read(name))
    assert parse_candidates("名单.xlsx", buffer.getvalue()).rows == expected_rows(ZHANG_SAN)


def test_read_table_keeps_xlsx_numbers_as_numbers():
    table = read_table("a.xlsx", gen_xlsx([["张三", "x", 13800138000, "综合管理岗"]]))
    assert table == [
        (2, {"name": "张三", "id_number": "x", "phone": 13800138000, "position": "综合管理岗"})
    ]


# Row rules and the all-or-nothing report -------------------------------------------------------


def test_required_fields_must_not_be_empty():
    rows = [["", ZHANG_SAN[1], ZHANG_SAN[2], ZHANG_SAN[3]], [LI_SI[0], LI_SI[1], LI_SI[2], "  "]]
    assert errors_of("a.csv", gen_csv(rows)) == ["第 2 行：姓名为空", "第 3 行：报考岗位为空"]


def test_name_at_most_fifty_characters():
    fifty = "阿" * 50
    assert parse_candidates("a.csv", gen_csv([[fifty, *ZHANG_SAN[1:]]])).ok
    assert errors_of("a.csv", gen_csv([[fifty + "阿", *ZHANG_SAN[1:]]])) == [
        "第 2 行：姓名超过 50 个字"
    ]


def test_position_at_most_a_hundred_characters():
    assert errors_of("a.csv", gen_csv([[*ZHANG_SAN[:3], "岗" * 101]])) == [
        "第 2 行：报考岗位超过 100 个字"
    ]


def test_every_reason_of_a_row_is_reported_in_column_order():
    rows = [["", gen_id_number()[:-1] + "Y", "12345", ""]]
    assert errors_of("a.csv", gen_csv(rows)) == [
        (
            "第 2 行：姓名为空；身份证号格式不正确（前 17 位须为数字，末位为数字或 X）；"
            "手机号不正确（应为 1 开头、第二位为 3–9 的 11 位数字）；报考岗位为空"
        )
    ]


def test_one_bad_row_among_good_ones_refuses_the_whole_file():
    bad_phone = [LI_SI[0], LI_SI[1], "1391234567", LI_SI[3]]
    report = parse_candidates("a.csv", gen_csv([ZHANG_SAN, bad_phone, WANG_WU]))
    assert report == ImportReport(
        rows=[], errors=["第 3 行：手机号不正确（应为 1 开头、第二位为 3–9 的 11 位数字）"]
    )
    assert not report.ok


def test_every_bad_row_is_listed_in_row_order():
    wrong_check = ZHANG_SAN[1][:-1] + ("1" if ZHANG_SAN[1][-1] != "1" else "2")
    rows = [
        ["张三", wrong_check, "13800138000", "综合管理岗"],
        LI_SI,
        ["王五", WANG_WU[1], "", "信息技术岗"],
        ZHAO_LIU,
        ["钱七", gen_id_number(born="19900230"), "18600002222", "财务岗"],
    ]
    assert errors_of("a.csv", gen_csv(rows)) == [
        "第 2 行：身份证号校验位不正确",
        "第 4 行：手机号为空",
        "第 6 行：身份证号中的出生日期 19900230 不是有效日期",
    ]


def test_duplicate_id_numbers_in_the_file_name_the_rows_involved():
    same = ZHANG_SAN[1]
    rows = [
        ZHANG_SAN,
        LI_SI,
        ["张叁", same, "13700001111", "财务岗"],
        ["张珊", same.lower(), "13700002222", "财务岗"],  # x/X or not, the same person
    ]
    assert errors_of("a.csv", gen_csv(rows)) == [
        "第 2 行：身份证号与第 4、5 行重复",
        "第 4 行：身份证号与第 2 行重复",
        "第 5 行：身份证号与第 2 行重复",
    ]


def test_duplicate_id_numbers_ending_in_x_are_found_whatever_the_case():
    id_number = gen_id_number_ending_in_x()
    rows = [
        ["张三", id_number, "13800138000", "综合管理岗"],
        ["李四", id_number.lower(), "13912345678", "财务岗"],
    ]
    assert errors_of("a.csv", gen_csv(rows)) == [
        "第 2 行：身份证号与第 3 行重复",
        "第 3 行：身份证号与第 2 行重复",
    ]


def test_id_numbers_already_in_the_exam_are_refused():
    existing = {LI_SI[1], "11010519491231002X"}
    assert errors_of("a.csv", gen_csv([ZHANG_SAN, LI_SI, WANG_WU]), existing) == [
        "第 3 行：该身份证号的考生已在本场考试名单中"
    ]


def test_existing_id_numbers_are_compared_normalised():
    id_number = gen_id_number_ending_in_x()
    rows = [["张三", id_number.lower(), "13800138000", "综合管理岗"]]
    assert errors_of("a.csv", gen_csv(rows), {id_number}) == [
        "第 2 行：该身份证号的考生已在本场考试名单中"
    ]


def test_duplicate_and_already_in_the_exam_are_both_reported():
    rows = [ZHANG_SAN, ["张叁", ZHANG_SAN[1], "13700001111", "财务岗"]]
    assert errors_of("a.csv", gen_csv(rows), {ZHANG_SAN[1]}) == [
        "第 2 行：身份证号与第 3 行重复；该身份证号的考生已在本场考试名单中",
        "第 3 行：身份证号与第 2 行重复；该身份证号的考生已在本场考试名单中",
    ]


def test_clean_file_with_existing_ids_elsewhere_is_ok():
    report = parse_candidates("a.csv", gen_csv([ZHANG_SAN, LI_SI]), {WANG_WU[1]})
    assert report.ok
    assert report.errors == []
    assert report.rows == expected_rows(ZHANG_SAN, LI_SI)


# Unreadable files ------------------------------------------------------------------------------

SAVE_AS = "请在 Excel 中“另存为” .xlsx 或 CSV UTF-8 后重新上传"
NOT_XLSX = f"文件不是有效的 .xlsx 文件（可能已损坏），{SAVE_AS}"
UNREADABLE_XLSX = f"无法读取该 Excel 文件（可能已损坏），{SAVE_AS}"
NO_DATA = "文件中没有考生数据（第 1 行是表头，考生从第 2 行开始）"


def truncated_xlsx() -> bytes:
    data = gen_xlsx([ZHANG_SAN])
    return data[: len(data) // 2]


def zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "不是工作簿")
    return buffer.getvalue()


def xlsx_needing_a_future_zip_version() -> bytes:
    # zipfile raises NotImplementedError, not BadZipFile, for this one.
    data = bytearray(gen_xlsx([ZHANG_SAN]))
    central_entry = data.index(b"PK\x01\x02")
    data[central_entry + 6 : central_entry + 8] = b"\xff\x00"  # "version needed to extract"
    return bytes(data)


def xlsx_with_broken_sheet_xml() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(gen_xlsx([ZHANG_SAN])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "error"),
    [
        ("a.csv", b"", "文件是空的"),
        ("a.xlsx", b"", "文件是空的"),
        ("a.csv", b"\xef\xbb\xbf", "文件是空的"),
        ("a.csv", b"\r\n , \r\n,,,\r\n", "文件是空的"),
        ("a.csv", "姓名,身份证号,手机号,报考岗位\r\n".encode(), NO_DATA),
        ("a.csv", "姓名,身份证号,手机号,报考岗位\r\n,,,\r\n\r\n".encode("gbk"), NO_DATA),
        ("a.xlsx", gen_xlsx([]), NO_DATA),
        (
            "a.csv",
            "姓名,身份证号\r\n张三".encode() + b"\x80\xff,1\r\n",
            f"无法识别文件编码（支持 UTF-8 与 GBK），{SAVE_AS}",
        ),
        (
            "a.csv",
            gen_csv([ZHANG_SAN], encoding="utf-16"),
            f"不支持 UTF-16 等编码的文本文件，{SAVE_AS}",
        ),
        ("a.xlsx", b"\x00\x01not a workbook at all", NOT_XLSX),
        ("a.xlsx", gen_csv([ZHANG_SAN]), NOT_XLSX),
        ("a.xlsx", truncated_xlsx(), NOT_XLSX),
        ("a.xlsx", xlsx_needing_a_future_zip_version(), NOT_XLSX),
        ("a.xlsx", zip_without_workbook(), UNREADABLE_XLSX),
        ("a.xlsx", xlsx_with_broken_sheet_xml(), UNREADABLE_XLSX),
        ("a.docx", zip_without_workbook(), UNREADABLE_XLSX),
        (
            "a.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
            f"不支持旧版 .xls 或设置了密码的 Excel 文件，{SAVE_AS}",
        ),
        ("a.pdf", b"%PDF-1.7\n", "不支持的文件类型，请上传 CSV 或 XLSX 文件"),
        ("名单", gen_csv([ZHANG_SAN]), "不支持的文件类型，请上传 CSV 或 XLSX 文件"),
    ],
)
def test_unreadable_files_are_one_clear_file_error(filename, data, error):
    assert errors_of(filename, data) == [error]


def test_csv_syntax_error_is_a_file_error():
    # An unpaired quote swallows the rest of the file into one cell, past the csv size limit.
    rows = [["张三", ZHANG_SAN[1], "13800138000", '"综合管理岗']] + [LI_SI] * 6000
    assert errors_of("a.csv", gen_csv(rows)) == [
        f"CSV 文件格式有误（单元格过长，或引号不配对），{SAVE_AS}"
    ]


def test_csv_whose_first_column_is_called_pk_is_not_taken_for_a_zip():
    data = gen_csv([["1", *ZHANG_SAN]], header=["PK", *HEADER])
    assert parse_candidates("a.csv", data).rows == expected_rows(ZHANG_SAN)


def test_file_over_five_megabytes_is_refused():
    data = gen_csv([ZHANG_SAN]) + b" " * (5 * 1024 * 1024)
    assert errors_of("a.csv", data) == ["文件超过 5 MB，请拆分后分批导入"]


def test_more_than_twenty_thousand_candidates_are_refused():
    row = ",".join(ZHANG_SAN).encode() + b"\r\n"
    data = gen_csv([]) + row * 20_001
    assert errors_of("a.csv", data) == ["考生超过 20000 人，请拆分后分批导入"]


def test_row_limit_counts_candidates_not_blank_rows(monkeypatch):
    monkeypatch.setattr(candidate_import, "MAX_DATA_ROWS", 3)
    people = [ZHANG_SAN, LI_SI, WANG_WU]
    with_blanks = gen_csv(people[:1] + [["", "", "", ""]] * 5 + people[1:])
    assert parse_candidates("a.csv", with_blanks).ok
    assert errors_of("a.xlsx", gen_xlsx([*people, ZHAO_LIU])) == ["考生超过 3 人，请拆分后分批导入"]


def test_xlsx_that_would_unpack_too_large_is_refused_before_parsing(app, monkeypatch):
    monkeypatch.setattr(candidate_import, "MAX_XLSX_UNPACKED_BYTES", 1000)
    assert errors_of("a.xlsx", gen_xlsx([ZHANG_SAN])) == [
        "Excel 文件内容过大，请删除多余的工作表、格式和空行后重试"
    ]


def test_error_messages_carry_no_full_id_numbers():
    # Errors are shown on screen and printed by the CLI; the row number is enough to find a person.
    rows = [ZHANG_SAN, ["张叁", ZHANG_SAN[1], "1", "财务岗"]]
    for error in errors_of("a.csv", gen_csv(rows), {ZHANG_SAN[1]}):
        assert not re.search(r"[0-9]{17}", error)
