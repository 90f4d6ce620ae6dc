import csv
import io
from decimal import Decimal as D

from openpyxl import load_workbook

from app import db
from app.models import Candidate
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
