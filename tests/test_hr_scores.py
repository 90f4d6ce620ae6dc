"""HR's score pages through HTTP: the score sheet, paper entry, results, publication, exports."""

import csv
import io
from decimal import Decimal as D
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app import db
from app.models import AuditEvent, Candidate, CandidateResult, ExaminerScore, Role, ScoreDimension
from app.models.candidate import CandidateState as S
from app.scoring.service import confirm, recuse, save_draft, sheet_of, submit
from tests.conftest import csrf_token_from
from tests.factories import gen_exam, gen_user
from tests.refusal_checks import refusal
from tests.test_candidate_login import enter_code
from tests.test_scoring import Panel5


class HR:
    def __init__(self, client):
        self.client = client
        self._token = None

    def token(self):
        if self._token is None:
            self._token = csrf_token_from(
                self.client.get("/staff/login", follow_redirects=True).get_data(as_text=True)
            )
        return self._token

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, **kw):
        return self.client.post(url, data={**(data or {}), "csrf_token": self.token()}, **kw)


def sign_in(client, staff, username):
    assert staff.login(username).status_code == 302
    return HR(client)


@pytest.fixture
def p5(app):
    return Panel5()


@pytest.fixture
def hr(p5, client, staff):
    return sign_in(client, staff, "hr")


def events(kind):
    return list(
        db.session.scalars(sa.select(AuditEvent).filter_by(kind=kind).order_by(AuditEvent.id))
    )


def dims_of(exam):
    return list(
        db.session.scalars(
            sa.select(ScoreDimension)
            .filter_by(exam_id=exam.id)
            .order_by(ScoreDimension.position, ScoreDimension.id)
        )
    )


def paper_form(p, *values, reason=None):
    data = {f"dim-{d.id}": str(v) for d, v in zip(p.dims, values, strict=False)}
    if reason is not None:
        data["reason"] = reason
    return data


# --- score sheet ------------------------------------------------------------------------------


def test_dimensions_add_edit_reorder_remove_with_total_warning(app, client, staff):
    gen_user("hr1", role=Role.HR)
    hr = sign_in(client, staff, "hr1")
    exam = gen_exam()
    url = f"/hr/exams/{exam.id}/score-sheet"
    page = hr.get(url).get_data(as_text=True)
    assert "尚未设置评分要素" in page and "常用评分表" in page

    assert (
        hr.post(
            url, {"name": "综合分析能力", "max_score": "30", "guidance": "分析全面\r\n有条理"}
        ).status_code
        == 302
    )
    assert hr.post(url, {"name": "言语表达能力", "max_score": "20.5"}).status_code == 302
    page = hr.get(url).get_data(as_text=True)
    assert "50.5" in page and "不是 100" in page  # warned, not forbidden
    first, second = dims_of(exam)
    assert (first.name, first.max_score, first.guidance, first.position) == (
        "综合分析能力",
        D("30.0"),
        "分析全面\n有条理",
        0,
    )
    assert second.position == 1

    response = hr.post(
        f"{url}/{second.id}", {"name": "言语表达能力", "max_score": "70", "guidance": "口齿清晰"}
    )
    assert response.status_code == 302
    assert "合计 100 分" in hr.get(url).get_data(as_text=True)
    (changed,) = events("score_sheet.dimension_changed")
    assert (
        changed.data["before"]["max_score"] == "20.5"
        and changed.data["after"]["max_score"] == "70.0"
    )

    assert hr.post(f"{url}/{second.id}/move", {"direction": "up"}).status_code == 302
    assert [d.name for d in dims_of(exam)] == ["言语表达能力", "综合分析能力"]
    assert (
        hr.post(f"{url}/{second.id}/move", {"direction": "up"}).status_code == 302
    )  # already first
    assert [d.name for d in dims_of(exam)] == ["言语表达能力", "综合分析能力"]
    assert hr.post(f"{url}/{second.id}/move", {"direction": "sideways"}).status_code == 400

    assert hr.post(f"{url}/{second.id}/delete").status_code == 302
    remaining = dims_of(exam)
    assert [(d.name, d.position) for d in remaining] == [("综合分析能力", 0)]
    (removed,) = events("score_sheet.dimension_removed")
    assert removed.data["before"]["name"] == "言语表达能力"
    assert (
        len(events("score_sheet.dimension_added")) == 2
        and len(events("score_sheet.reordered")) == 1
    )


@pytest.mark.parametrize(
    "form, message",
    [
        ({"name": "", "max_score": "20"}, "请填写评分要素名称"),
        ({"name": "应变能力", "max_score": "abc"}, "不是数字"),
        ({"name": "应变能力", "max_score": "0"}, "大于 0 且不超过 100"),
        ({"name": "应变能力", "max_score": "101"}, "大于 0 且不超过 100"),
        ({"name": "应变能力", "max_score": "10.25"}, "一位小数"),
        ({"name": "综合分析能力", "max_score": "10"}, "同名"),
    ],
)
def test_bad_dimension_is_refused_with_what_was_typed(app, client, staff, form, message):
    gen_user("hr1", role=Role.HR)
    hr = sign_in(client, staff, "hr1")
    exam = gen_exam()
    db.session.add(
        ScoreDimension(exam_id=exam.id, name="综合分析能力", max_score=D(20), position=0)
    )
    db.session.commit()
    response = hr.post(f"/hr/exams/{exam.id}/score-sheet", form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and f'value="{form["max_score"]}"' in page
    assert len(dims_of(exam)) == 1


def test_usual_sheet_fills_an_empty_sheet_with_100_points(app, client, staff):
    gen_user("hr1", role=Role.HR)
    hr = sign_in(client, staff, "hr1")
    exam = gen_exam()
    assert hr.post(f"/hr/exams/{exam.id}/score-sheet/usual").status_code == 302
    dims = dims_of(exam)
    assert len(dims) == 6 and sum(d.max_score for d in dims) == D(100)
    assert dims[0].name == "综合分析能力" and dims[-1].name == "举止仪表"
    response = hr.post(f"/hr/exams/{exam.id}/score-sheet/usual")
    assert response.status_code == 400 and "只能用于空表" in response.get_data(as_text=True)
    assert len(dims_of(exam)) == 6


def test_sheet_is_frozen_once_any_score_exists(p5, hr):
    url = f"/hr/exams/{p5.exam.id}/score-sheet"
    assert "言语表达能力" in hr.get(url).get_data(as_text=True)
    save_draft(p5.candidate, p5.examiners[1], {str(p5.dims[0].id): "12"})  # a draft is enough
    dim = p5.dims[0]
    page = hr.get(url).get_data(as_text=True)
    assert "评分表不能再修改" in page and ">删除</button>" not in page
    attempts = [
        (url, {"name": "新要素", "max_score": "5"}),
        (f"{url}/{dim.id}", {"name": "改名", "max_score": "20"}),
        (f"{url}/{dim.id}/delete", {}),
        (f"{url}/{dim.id}/move", {"direction": "down"}),
    ]
    for target, form in attempts:
        response = hr.post(target, form)
        assert response.status_code == 400, target
        assert "已有考官评分" in response.get_data(as_text=True)
    assert [(d.name, d.max_score, d.position) for d in dims_of(p5.exam)] == [
        (d.name, d.max_score, i) for i, d in enumerate(p5.dims)
    ]


# --- exam form: the configurable parts of the rule ---------------------------------------------


def test_exam_form_sets_trim_basis_and_tie_rule(hr, p5):
    from tests.test_hr_pages import exam_form

    url = f"/hr/exams/{p5.exam.id}/edit"
    page = hr.get(url).get_data(as_text=True)
    assert "各评分要素分别去高去低" in page and "同分同名次" in page
    response = hr.post(
        url, exam_form(trim_per_dimension="1", tie_rule="first_dimension", publish_mode="hold")
    )
    assert response.status_code == 302
    db.session.refresh(p5.exam)
    assert p5.exam.trim_per_dimension is True and p5.exam.tie_rule == "first_dimension"
    (event,) = events("exam.updated")
    assert (
        event.data["before"]["trim_per_dimension"] is False
        and event.data["after"]["trim_per_dimension"] is True
    )
    assert event.data["after"]["tie_rule"] == "first_dimension"
    assert hr.post(url, exam_form(tie_rule="coin")).status_code == 400
    assert hr.post(url, exam_form(trim_per_dimension="2")).status_code == 400
    db.session.refresh(p5.exam)
    assert p5.exam.tie_rule == "first_dimension" and p5.exam.trim_per_dimension is True


@pytest.mark.parametrize(
    "change",
    [
        {"scoring_rule": "plain"},
        {"trim_min_examiners": "3"},
        {"trim_per_dimension": "1"},
        {"score_decimals": "1"},
    ],
)
def test_the_scoring_rule_is_fixed_once_scoring_has_begun(hr, p5, change):
    """Confirmed results keep the rule they were computed by: changing it afterwards would score
    one exam's candidates by two rules."""
    from tests.test_hr_pages import exam_form

    url = f"/hr/exams/{p5.exam.id}/edit"
    save_draft(p5.candidate, p5.examiners[1], {str(p5.dims[0].id): "12"})
    assert "计分规则、去高去低与小数位已固定" in hr.get(url).get_data(as_text=True)
    before = {
        name: getattr(p5.exam, name)
        for name in ("scoring_rule", "trim_min_examiners", "trim_per_dimension", "score_decimals")
    }
    response = hr.post(url, exam_form(name="改名也不保存", **change))
    assert response.status_code == 400
    assert "已有考官评分，计分规则不能再改" in response.get_data(as_text=True)
    db.session.expire_all()
    exam = db.session.get(type(p5.exam), p5.exam.id)
    assert {name: getattr(exam, name) for name in before} == before
    assert exam.name != "改名也不保存" and events("exam.updated") == []
    # Everything else still changes, the ties and the publishing included.
    response = hr.post(url, exam_form(name="改名", tie_rule="first_dimension", publish_mode="hold"))
    assert response.status_code == 302
    db.session.refresh(exam)
    assert exam.name == "改名" and exam.tie_rule == "first_dimension"


# --- paper entry ------------------------------------------------------------------------------


def entry_url(p, examiner):
    return f"/hr/exams/{p.exam.id}/paper-entry/{p.candidate.id}/{examiner.id}"


@pytest.mark.parametrize(
    "values, message",
    [
        ((21, 18, 12, 12, 16, 8), "综合分析能力：应在 0 至 20.0 之间"),
        ((18, 18, 12, 12, 16, -1), "举止仪表：应在 0 至 10.0 之间"),
        ((18.25, 18, 12, 12, 16, 8), "综合分析能力：最多保留一位小数"),
        ((18, 18, 12, 12, 16), "举止仪表：未评分"),
        ((18, "八", 12, 12, 16, 8), "不是数字"),
    ],
)
def test_paper_entry_out_of_bounds_is_refused_and_nothing_saved(p5, hr, values, message):
    examiner = p5.examiners[2]
    response = hr.post(entry_url(p5, examiner), paper_form(p5, *values))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert f'value="{values[1]}"' in page  # what was typed stays on the page
    assert sheet_of(p5.candidate.id, examiner.id) is None
    assert events("score.submitted") == []


@pytest.mark.parametrize(
    "who, message",
    [
        ("recused", "该考官已对此考生回避"),
        ("not_interviewed", "该考生尚未面试，不能录入评分"),
    ],
)
def test_paper_entry_for_someone_who_may_not_score_says_why_to_hr(p5, hr, who, message):
    examiner = p5.examiners[3]
    if who == "recused":
        recuse(p5.candidate, examiner, "亲属关系")
    else:
        p5.candidate.state = S.WAITING
        db.session.commit()
    response = hr.post(entry_url(p5, examiner), paper_form(p5, 18, 18, 12, 12, 16, 8))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert sheet_of(p5.candidate.id, examiner.id) is None
    assert events("score.submitted") == []


def test_paper_entry_for_an_examiner_of_another_panel_is_not_offered_nor_taken(p5, hr):
    from app.scoring.paper_entry import enter_from_paper
    from app.scoring.service import ScoreError

    outsider = gen_user("outsider", role=Role.EXAMINER)
    assert (
        hr.post(entry_url(p5, outsider), paper_form(p5, 18, 18, 12, 12, 16, 8)).status_code == 404
    )
    with refusal("paper_not_on_panel", kind=ScoreError):
        enter_from_paper(p5.candidate, outsider, p5.form(18, 18, 12, 12, 16, 8), p5.hr)
    assert sheet_of(p5.candidate.id, outsider.id) is None


def test_paper_entry_submits_as_the_examiner_and_audits_hr(p5, hr):
    examiner = p5.examiners[2]
    save_draft(p5.candidate, examiner, {str(p5.dims[0].id): "5"})  # an online draft, overwritten
    page = hr.get(
        f"/hr/exams/{p5.exam.id}/paper-entry?candidate={p5.candidate.id}&examiner={examiner.id}"
    )
    assert page.status_code == 200 and ">草稿</span>" in page.get_data(as_text=True)

    response = hr.post(entry_url(p5, examiner), paper_form(p5, 18, 17.5, 12, 12, 16, 8))
    assert response.status_code == 302
    sheet = sheet_of(p5.candidate.id, examiner.id)
    assert sheet.status == "submitted" and sheet.entered_by_id == p5.hr.id and sheet.submitted_at
    assert {i.dimension_id: i.value for i in sheet.items}[p5.dims[1].id] == D("17.5")
    (event,) = events("score.submitted")
    assert (
        event.actor_id == p5.hr.id
        and event.actor_label == "hr"
        and event.candidate_id == p5.candidate.id
    )
    assert event.data["on_behalf_of"] == examiner.id and event.data["paper"] is True
    assert event.data["total"] == "83.5" and event.data["replaced_draft"] == {
        str(p5.dims[0].id): "5.0"
    }
    page = hr.get(f"/hr/exams/{p5.exam.id}/paper-entry?candidate={p5.candidate.id}").get_data(
        as_text=True
    )
    assert ">纸质录入</span>" in page and page.count(">已提交</span>") == 1


def test_change_after_submission_needs_a_reason_and_keeps_before_and_after(p5, hr):
    examiner = p5.examiners[3]
    submit(
        p5.candidate, examiner, p5.form(16, 15, 12, 12, 16, 8)
    )  # submitted online by the examiner
    page = hr.get(
        f"/hr/exams/{p5.exam.id}/paper-entry?candidate={p5.candidate.id}&examiner={examiner.id}"
    )
    assert "修改须填写原因" in page.get_data(as_text=True)

    response = hr.post(entry_url(p5, examiner), paper_form(p5, 18, 15, 12, 12, 16, 8, reason="  "))
    assert response.status_code == 400 and "需要填写原因" in response.get_data(as_text=True)
    assert {i.dimension_id: i.value for i in sheet_of(p5.candidate.id, examiner.id).items}[
        p5.dims[0].id
    ] == D(16)
    assert events("score.changed") == []

    reason = "纸质评分表第一项为18分，录入有误"
    response = hr.post(
        entry_url(p5, examiner), paper_form(p5, 18, 15, 12, 12, 16, 8, reason=reason)
    )
    assert response.status_code == 302
    sheet = sheet_of(p5.candidate.id, examiner.id)
    assert {i.dimension_id: i.value for i in sheet.items}[p5.dims[0].id] == D(18)
    assert sheet.entered_by_id == p5.hr.id
    (event,) = events("score.changed")
    assert event.actor_id == p5.hr.id and event.data["examiner"] == examiner.id
    assert event.data["reason"] == reason and event.data["paper"] is True
    first = str(p5.dims[0].id)
    assert event.data["before"][first] == "16.0" and event.data["after"][first] == "18.0"


def test_paper_entry_refuses_recused_examiner_and_uninterviewed_candidate(p5, hr):
    recuse(p5.candidate, p5.examiners[4], "亲属关系")
    response = hr.post(entry_url(p5, p5.examiners[4]), paper_form(p5, 18, 15, 12, 12, 16, 8))
    assert response.status_code == 400 and "回避" in response.get_data(as_text=True)
    p5.candidate.state = S.WAITING
    db.session.commit()
    response = hr.post(entry_url(p5, p5.examiners[1]), paper_form(p5, 18, 15, 12, 12, 16, 8))
    assert response.status_code == 400 and "尚未面试" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ExaminerScore.id))) == 0
    stranger = gen_user("stranger", role=Role.EXAMINER)
    assert hr.post(entry_url(p5, stranger), paper_form(p5, 1, 1, 1, 1, 1, 1)).status_code == 404


def test_paper_entry_page_for_a_candidate_without_panel_says_so(p5, hr):
    loose = Candidate(
        exam_id=p5.exam.id,
        name="未分配",
        id_number="110105199001010099",
        phone="13900139001",
        position="综合管理岗",
        code="654321",
        state=S.INVITED,
    )
    db.session.add(loose)
    db.session.commit()
    url = f"/hr/exams/{p5.exam.id}/paper-entry?candidate={loose.id}"
    page = hr.get(url)
    assert page.status_code == 200 and "未分配考场" in page.get_data(as_text=True)
    assert hr.get(f"{url}&examiner={p5.examiners[1].id}").status_code == 404


# --- results, publication, exports -------------------------------------------------------------


def _add(p, name, position, lot, state=S.FINISHED, suffix="0000"):
    c = Candidate(
        exam_id=p.exam.id,
        panel_id=p.panel.id,
        name=name,
        id_number=f"11010519900101{suffix}",
        phone="13900139000",
        position=position,
        code=f"{lot:06d}",
        state=state,
        lot_number=lot,
    )
    db.session.add(c)
    db.session.commit()
    return c


def _score_all(p, candidate, first_dimension):
    for examiner in p.examiners:
        submit(candidate, examiner, p.form(first_dimension, 20, 15, 15, 10, 10))
    confirm(candidate, p.chief)


@pytest.fixture
def held(app, client, staff):
    """Five examiners, HR holds publication: 王晓明 85, 李婷 90 (综合管理岗), 张伟 waiting on one
    examiner (信息技术岗), 刘洋 absent."""
    p = Panel5(publish_mode="hold")
    p.b = _add(p, "李婷", "综合管理岗", 2, suffix="0011")
    p.c = _add(p, "张伟", "信息技术岗", 3, suffix="0022")
    p.absent = _add(p, "刘洋", "综合管理岗", 4, state=S.ABSENT, suffix="0033")
    _score_all(p, p.candidate, 15)
    _score_all(p, p.b, 20)
    for examiner in p.examiners[:3]:
        submit(p.c, examiner, p.form(10, 20, 15, 15, 10, 10))
    recuse(p.c, p.examiners[3], "同一单位")
    p.hr_client = sign_in(client, staff, "hr")
    return p


def test_results_page_shows_scores_ranks_marks_and_who_has_not_submitted(held):
    page = held.hr_client.get(f"/hr/exams/{held.exam.id}/results").get_data(as_text=True)
    rows = {
        name: page.split(f"<td>{name}</td>", 1)[1].split("</tr>", 1)[0]
        for name in ("王晓明", "李婷", "张伟", "刘洋")
    }
    assert "85.00" in rows["王晓明"] and "<td>2</td>" in rows["王晓明"]
    assert "90.00" in rows["李婷"] and "<td>1</td>" in rows["李婷"]
    assert "缺考" in rows["刘洋"] and "<td>—</td>" in rows["刘洋"]
    assert "回避" in rows["张伟"] and "ex4" in rows["张伟"] and "ex3" not in rows["张伟"]
    assert "80.0" in rows["张伟"]  # an examiner's total
    assert ">待公布</span>" in rows["王晓明"]
    assert "已确认 2 · 已公布 0 · 待公布 2" in page
    assert "立即公布 2 名考生的成绩" in page
    assert "一：考官1 = ex0" in page


def test_publish_now_publishes_held_scores_and_is_audited(held):
    hr = held.hr_client
    response = hr.post(f"/hr/exams/{held.exam.id}/results/publish")
    assert response.status_code == 302
    results = list(db.session.scalars(sa.select(CandidateResult)))
    assert len(results) == 2 and all(r.published_at is not None for r in results)
    (event,) = events("score.published")
    assert event.actor_id == held.hr.id and event.data["count"] == 2
    page = hr.get(f"/hr/exams/{held.exam.id}/results").get_data(as_text=True)
    assert "已公布 2 · 待公布 0" in page and "立即公布" not in page
    hr.post(f"/hr/exams/{held.exam.id}/results/publish")
    assert "没有待公布的成绩" in hr.get(f"/hr/exams/{held.exam.id}/results").get_data(as_text=True)


def test_exports_download_with_the_exam_name_and_ranks(held):
    hr = held.hr_client
    encoded = quote(f"{held.exam.name}-成绩", safe="")

    response = hr.get(f"/hr/exams/{held.exam.id}/results.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="results-exam-{held.exam.id}.csv"' in disposition
    assert f"filename*=UTF-8''{encoded}.csv" in disposition
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert {r["姓名 name"]: r["岗位排名 rank"] for r in rows} == {
        "李婷": "1",
        "王晓明": "2",
        "刘洋": "",
        "张伟": "",
    }

    response = hr.get(f"/hr/exams/{held.exam.id}/results.xlsx")
    assert response.status_code == 200
    assert f"filename*=UTF-8''{encoded}.xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.get_data()))
    values = list(workbook.active.values)
    workbook.close()
    header = list(values[0])
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in values[1:]}
    assert by_name["李婷"]["岗位排名 rank"] == 1 and by_name["王晓明"]["岗位排名 rank"] == 2
    assert by_name["王晓明"]["最终成绩 final"] == 85  # a numeric cell HR can sum, no longer text
    assert by_name["刘洋"]["状态 state"] == "缺考" and by_name["刘洋"]["岗位排名 rank"] in (
        None,
        "",
    )


# --- access -----------------------------------------------------------------------------------


def _urls(p):
    base = f"/hr/exams/{p.exam.id}"
    gets = [
        f"{base}/score-sheet",
        f"{base}/score-sheet/{p.dims[0].id}",
        f"{base}/paper-entry",
        f"{base}/paper-entry?candidate={p.candidate.id}&examiner={p.examiners[1].id}",
        f"{base}/results",
        f"{base}/results.csv",
        f"{base}/results.xlsx",
    ]
    posts = [
        f"{base}/score-sheet",
        f"{base}/score-sheet/usual",
        f"{base}/score-sheet/{p.dims[0].id}",
        f"{base}/score-sheet/{p.dims[0].id}/delete",
        f"{base}/score-sheet/{p.dims[0].id}/move",
        entry_url(p, p.examiners[1]),
        f"{base}/results/publish",
    ]
    return gets, posts


@pytest.mark.parametrize("role", [Role.EXAMINER, Role.ASSISTANT])
def test_examiners_and_assistants_are_refused(p5, client, staff, role):
    gen_user("someone", role=role)
    other = sign_in(client, staff, "someone")
    gets, posts = _urls(p5)
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    for url in gets:
        assert other.get(url).status_code == 403, url
    for url in posts:
        assert (
            other.post(
                url, {"name": "x", "max_score": "5", **paper_form(p5, 1, 1, 1, 1, 1, 1)}
            ).status_code
            == 403
        ), url
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before
    assert sheet_of(p5.candidate.id, p5.examiners[1].id) is None and len(dims_of(p5.exam)) == 6


def test_candidates_and_anonymous_are_sent_to_the_staff_login(p5, client):
    assert enter_code(client, p5.candidate.code).status_code == 303  # a signed-in candidate
    gets, posts = _urls(p5)
    token = csrf_token_from(client.get("/staff/login").get_data(as_text=True))
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith(
            "/staff/login"
        ), url
    for url in posts:
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"].startswith(
            "/staff/login"
        ), url


def test_hr_pages_link_the_score_pages(p5, hr):
    page = hr.get(f"/hr/exams/{p5.exam.id}").get_data(as_text=True)
    for path in ("score-sheet", "paper-entry", "results"):
        assert f"/hr/exams/{p5.exam.id}/{path}" in page
