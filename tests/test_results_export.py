import csv
import io
from decimal import Decimal as D

from openpyxl import load_workbook

from app import db
from app.models import Candidate, Panel, Role
from app.models.candidate import CandidateState as S
from app.scoring.results import results_csv, results_table, results_xlsx
from app.scoring.service import confirm, recuse, submit
from tests.test_scoring import Panel5


def _add(p, name, position, lot, state=S.FINISHED, id_suffix="0000"):
    c = Candidate(
        exam_id=p.exam.id,
        panel_id=p.panel.id,
        name=name,
        id_number=f"11010519900101{id_suffix}",
        phone="13900139000",
        position=position,
        code=f"{lot:06d}",
        state=state,
        lot_number=lot,
    )
    db.session.add(c)
    db.session.commit()
    return c


def _score(p, candidate, totals):
    for examiner, total in zip(p.examiners, totals, strict=True):
        submit(
            candidate,
            examiner,
            p.form(20, 20, 15, 15, total - 80, 10)
            if total >= 80
            else p.form(total - 60, 20, 15, 15, 0, 10),
        )
    confirm(candidate, p.chief)


def test_export_ranks_per_position_and_marks_absent(app):
    p = Panel5()  # p.candidate 王晓明 is 综合管理岗, lot 7
    b = _add(p, "李婷", "综合管理岗", 2, id_suffix="0011")
    c = _add(p, "张伟", "信息技术岗", 3, id_suffix="0022")
    _add(p, "刘洋", "综合管理岗", 4, state=S.ABSENT, id_suffix="0033")
    _score(p, p.candidate, (85, 85, 85, 85, 85))
    _score(p, b, (90, 90, 90, 90, 90))
    recuse(c, p.examiners[4], "同一单位")
    for examiner in p.examiners[:4]:
        submit(c, examiner, p.form(20, 20, 15, 15, 0, 10))
    confirm(c, p.chief)

    header, rows = results_table(p.exam)
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert by_name["李婷"]["岗位排名 rank"] == 1 and by_name["王晓明"]["岗位排名 rank"] == 2
    assert by_name["张伟"]["岗位排名 rank"] == 1  # ranked within 信息技术岗 alone
    assert by_name["刘洋"]["状态 state"] == "缺考" and by_name["刘洋"]["岗位排名 rank"] == ""
    assert by_name["王晓明"]["最终成绩 final"] == "85.00"
    assert by_name["张伟"]["考官5总分 examiner 5"] == "回避"
    assert by_name["张伟"]["考官1总分 examiner 1"] == "80.0"

    data = results_csv(p.exam)
    assert data.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[0] == header and len(parsed) == 5

    sheet = load_workbook(io.BytesIO(results_xlsx(p.exam))).active
    values = list(sheet.values)
    assert list(values[0]) == header
    xlsx_by_name = {r[0]: r for r in values[1:]}
    assert xlsx_by_name["李婷"][1] == "110105199001010011"  # text, all 18 characters
    rank, final = header.index("岗位排名 rank"), header.index("最终成绩 final")
    assert xlsx_by_name["李婷"][rank] == 1 and xlsx_by_name["王晓明"][rank] == 2
    assert D(xlsx_by_name["王晓明"][final]) == D("85.00")


def test_ties_share_a_rank_or_follow_the_first_dimension(app):
    p = Panel5()
    b = _add(p, "李婷", "综合管理岗", 2, id_suffix="0011")
    # same totals (85), different first dimension: 王晓明 20 vs 李婷 15
    for examiner in p.examiners:
        submit(p.candidate, examiner, p.form(20, 20, 15, 15, 5, 10))
        submit(b, examiner, p.form(15, 20, 15, 15, 10, 10))
    confirm(p.candidate, p.chief)
    confirm(b, p.chief)
    header, rows = results_table(p.exam)
    rank = header.index("岗位排名 rank")
    assert [r[rank] for r in rows] == [1, 1]
    p.exam.tie_rule = "first_dimension"
    db.session.commit()
    _, rows = results_table(p.exam)
    assert {r[0]: r[rank] for r in rows} == {"王晓明": 1, "李婷": 2}


def test_cli_exports_csv_to_stdout_and_xlsx_to_a_file(app, runner, tmp_path):
    p = Panel5()
    _score(p, p.candidate, (85, 85, 85, 85, 85))
    result = runner.invoke(args=["results", "export", str(p.exam.id), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "王晓明" in result.output and "85.00" in result.output
    out = tmp_path / "r.xlsx"
    result = runner.invoke(
        args=["results", "export", str(p.exam.id), "--format", "xlsx", "-o", str(out)]
    )
    assert result.exit_code == 0
    assert load_workbook(out).active.cell(2, 1).value == "王晓明"


def _ranked_panel(p):
    """Three candidates of Panel5's panel scored (one with a recusal) and one of another panel."""
    b = _add(p, "李婷", "综合管理岗", 2, id_suffix="0011")
    c = _add(p, "张伟", "信息技术岗", 3, id_suffix="0022")
    _score(p, p.candidate, (85, 85, 85, 85, 85))
    _score(p, b, (90, 90, 90, 90, 90))
    recuse(c, p.examiners[4], "同一单位")
    for examiner in p.examiners[:4]:
        submit(c, examiner, p.form(20, 20, 15, 15, 0, 10))
    confirm(c, p.chief)
    other = Panel(
        exam_id=p.exam.id,
        name="二",
        interview_room="ir-c",
        rest_room="ir-d",
        rest_room_code="666666",
    )
    db.session.add(other)
    db.session.commit()
    elsewhere = _add(p, "赵六", "综合管理岗", 1, id_suffix="0044")
    elsewhere.panel_id = other.id
    db.session.commit()
    return other


def test_results_xlsx_is_numeric_names_every_seat_and_prints_as_the_summary(app):
    """What HR works with: numbers Excel sums with the exam's decimals, the examiners named on
    a legend sheet, a bold frozen header, landscape A4 with the header on every page."""
    p = Panel5()
    for i, examiner in enumerate(p.examiners, start=1):
        examiner.display_name = f"考官{'甲乙丙丁戊'[i - 1]}老师"
    db.session.commit()
    _ranked_panel(p)
    book = load_workbook(io.BytesIO(results_xlsx(p.exam)))
    assert book.sheetnames == ["成绩", "考官席位"]
    sheet = book["成绩"]
    header = [cell.value for cell in sheet[1]]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    final = rows["王晓明"][header.index("最终成绩 final")]
    assert final.data_type == "n" and final.value == 85 and final.number_format == "0.00"
    seat1 = rows["王晓明"][header.index("考官1总分 examiner 1")]
    assert seat1.data_type == "n" and seat1.number_format == "0.0"
    assert rows["王晓明"][header.index("岗位排名 rank")].value == 2
    assert all(cell.font.bold for cell in sheet[1]) and sheet.freeze_panes == "A2"
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
    assert "成绩汇总表" in sheet.oddHeader.center.text
    assert sheet.column_dimensions["B"].width >= 18  # the ID number fits
    legend = [[cell.value for cell in row] for row in book["考官席位"].iter_rows()]
    assert legend[0] == ["考场 panel", "席位 seat", "考官 examiner", "身份 role"]
    assert legend[1] == ["一", "考官1", "考官甲老师", "主考官 chief"]
    assert [r[2] for r in legend[1:]] == [f"考官{c}老师" for c in "甲乙丙丁戊"]


def test_the_panel_summary_pdf_lists_every_candidate_of_the_panel_with_signature_lines(app, client):
    from pypdf import PdfReader

    from app.scoring.summary_pdf import panel_summary_pdf

    p = Panel5()
    for i, examiner in enumerate(p.examiners, start=1):
        examiner.display_name = f"考官{'甲乙丙丁戊'[i - 1]}老师"
    db.session.commit()
    other = _ranked_panel(p)
    data = panel_summary_pdf(p.exam, p.panel)
    assert data.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    compact = text.replace(" ", "").replace("\n", "")
    assert "成绩汇总表" in compact and p.exam.name.replace(" ", "") in compact
    for name in ("王晓明", "李婷", "张伟"):
        assert name in compact
    assert "赵六" not in compact  # of the other panel
    assert "85.00" in compact and "回避" in compact
    for name in ("考官乙老师", "考官丙老师", "考官丁老师", "考官戊老师"):
        assert f"{name}签名" in compact
    assert "主考官考官甲老师签名" in compact
    assert "11010519900101" not in compact and "13900139000" not in compact  # not on paper
    empty = PdfReader(io.BytesIO(panel_summary_pdf(p.exam, other))).pages[0].extract_text()
    assert "赵六" in empty.replace(" ", "")


def test_the_summary_pdf_route_is_hr_only_and_of_its_own_exam(app):
    from tests.conftest import signed_in_staff
    from tests.factories import gen_exam, gen_user

    p = Panel5()
    _ranked_panel(p)
    hr = signed_in_staff(app, "hr")
    url = f"/hr/exams/{p.exam.id}/panels/{p.panel.id}/summary.pdf"
    response = hr.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert (
        f"summary-exam-{p.exam.id}-panel-{p.panel.id}.pdf"
        in response.headers["Content-Disposition"]
    )
    page = hr.get(f"/hr/exams/{p.exam.id}/results").get_data(as_text=True)
    assert url in page
    other_exam = gen_exam(name="另一场")
    assert hr.get(f"/hr/exams/{other_exam.id}/panels/{p.panel.id}/summary.pdf").status_code == 404
    gen_user("ex-only", role=Role.EXAMINER)
    examiner = signed_in_staff(app, "ex-only")
    assert examiner.get(url).status_code in (302, 403)


def test_hr_who_chose_english_still_downloads_the_files_in_chinese(app):
    """The files are worded as they always were: an English page, Chinese files."""
    from pypdf import PdfReader

    from app.models import User
    from tests.conftest import signed_in_staff

    p = Panel5()
    _add(p, "刘洋", "综合管理岗", 4, state=S.ABSENT, id_suffix="0033")
    _add(p, "李婷", "综合管理岗", 2, state=S.RESTING, id_suffix="0011")
    hr_user = db.session.scalar(db.select(User).filter_by(username="hr"))
    hr_user.language = "en"
    db.session.commit()
    hr = signed_in_staff(app, "hr")
    page = hr.get(f"/hr/exams/{p.exam.id}/results").get_data(as_text=True)
    assert "In the rest room" in page and "休息室" not in page

    xlsx = hr.get(f"/hr/exams/{p.exam.id}/results.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data))["成绩"]
    header = [cell.value for cell in sheet[1]]
    assert header[:7] == [
        "姓名 name",
        "身份证号 id_number",
        "手机号 phone",
        "报考岗位 position",
        "考场 panel",
        "签号 lot",
        "状态 state",
    ]
    assert header[-2:] == ["考生确认 candidate confirmed", "确认时间 confirmed at (北京时间)"]
    states = {
        row[0].value: row[header.index("状态 state")].value for row in sheet.iter_rows(min_row=2)
    }
    assert states["刘洋"] == "缺考" and states["李婷"] == "休息室"

    csv_text = hr.get(f"/hr/exams/{p.exam.id}/results.csv").data.decode("utf-8-sig")
    assert "缺考" in csv_text and "休息室" in csv_text and "Absent" not in csv_text

    pdf = hr.get(f"/hr/exams/{p.exam.id}/panels/{p.panel.id}/summary.pdf")
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "计分规则" in text and "rounded" not in text and "Absent" not in text


def test_the_results_page_reads_in_the_hr_officers_language(app):
    from app.models import User
    from tests.conftest import signed_in_staff

    p = Panel5()
    recuse(p.candidate, p.examiners[4], "同一单位")
    for examiner in p.examiners[:4]:
        submit(p.candidate, examiner, p.form(20, 20, 15, 15, 0, 10))
    confirm(p.candidate, p.chief)
    url = f"/hr/exams/{p.exam.id}/results"

    chinese = signed_in_staff(app, "hr").get(url).get_data(as_text=True)
    assert "<th>考官5总分</th>" in chinese and "<td>回避</td>" in chinese

    db.session.get(User, p.hr.id).language = "en"
    db.session.commit()
    english = signed_in_staff(app, "hr").get(url).get_data(as_text=True)
    table = english[english.index('id="results"') :]
    assert "<th>Examiner 5 total</th>" in table and "<td>recused</td>" in table
    assert "回避" not in table and "考官" not in table
