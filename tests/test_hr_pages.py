"""HR pages: exams, panels, candidate import, panel assignment, codes and slips, live list,
notices and question sets; each change audited. Who may open each page: test_access_matrix.py."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from app import db
from app.models import (
    AuditEvent,
    Candidate,
    CandidateState,
    Exam,
    ExamKind,
    Notice,
    NoticeAck,
    Panel,
    PanelMember,
    QuestionSet,
    Role,
)
from app.routes.hr import codes as hr_routes
from app.setup.panels import set_panel_staff
from app.setup.slips import SLIP_HEADER_FOR_HR
from app.timeutil import format_beijing, utcnow
from tests.conftest import csrf_token_from
from tests.factories import gen_candidate, gen_exam, gen_panel, gen_user, id_number
from tests.static_urls import static_url

CODE = re.compile(r"^\d{6}$")


# --- helpers ----------------------------------------------------------------------------------


class HR:
    """A signed-in HR officer posting forms with the session's CSRF token."""

    def __init__(self, client):
        self.client = client
        self._token = None

    def token(self) -> str:
        if self._token is None:
            self._token = csrf_token_from(self.client.get("/hr/exams").get_data(as_text=True))
        return self._token

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, **kw):
        return self.client.post(url, data={**(data or {}), "csrf_token": self.token()}, **kw)


@pytest.fixture
def hr(app, client, staff):
    gen_user("hr1", role=Role.HR)
    assert staff.login("hr1").status_code == 302
    return HR(client)


def exam_form(**overrides) -> dict:
    data = {
        "name": "2026年市直事业单位面试",
        "kind": "formal",
        "formal_exam_id": "0",
        "starts_at": "2026-06-20T08:00",
        "login_opens_at": "2026-06-20T07:30",
        "login_closes_at": "2026-06-20T18:00",
        "entry_cutoff_at": "2026-06-20T08:10",
        "waiting_opens_minutes": "10",
        "confirm_deadline_at": "2026-06-18T17:00",
        "minutes_per_candidate": "10",
        "reading_minutes": "0",
        "call_accept_seconds": "60",
        "scoring_rule": "trimmed",
        "trim_min_examiners": "5",
        "score_decimals": "2",
        "publish_mode": "instant",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def events(kind: str) -> list[AuditEvent]:
    query = sa.select(AuditEvent).filter_by(kind=kind).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def roster_csv(rows, header=("姓名", "身份证号", "手机号", "报考岗位")) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def upload(hr, exam, data: bytes, filename: str):
    return hr.post(
        f"/hr/exams/{exam.id}/import",
        {"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


# --- exams ------------------------------------------------------------------------------------


def test_create_exam_stores_beijing_times_as_utc_and_audits(hr):
    page = hr.get("/hr/exams/new")
    assert page.status_code == 200
    assert 'type="datetime-local"' in page.get_data(as_text=True)

    response = hr.post("/hr/exams/new", exam_form(requires_id_photo="y"))
    assert response.status_code == 302
    exam = db.session.scalars(sa.select(Exam)).one()
    assert response.headers["Location"] == f"/hr/exams/{exam.id}"
    assert exam.login_opens_at == datetime(2026, 6, 19, 23, 30, tzinfo=UTC)
    assert exam.entry_cutoff_at == datetime(2026, 6, 20, 0, 10, tzinfo=UTC)
    assert exam.kind == ExamKind.FORMAL and exam.requires_id_photo
    assert not exam.requires_second_camera
    assert exam.score_decimals == 2
    (event,) = events("exam.created")
    assert event.exam_id == exam.id and event.actor_label == "hr1"

    detail = hr.get(f"/hr/exams/{exam.id}").get_data(as_text=True)
    assert "2026-06-20 07:30" in detail  # shown in Beijing time again

    edit = hr.get(f"/hr/exams/{exam.id}/edit").get_data(as_text=True)
    assert 'value="2026-06-20T07:30"' in edit


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"login_closes_at": "2026-06-20T07:00"}, "须晚于开考时间"),
        ({"login_closes_at": "2026-06-20T08:00"}, "须晚于开考时间"),
        ({"entry_cutoff_at": "2026-06-20T07:00"}, "入场截止"),
        ({"entry_cutoff_at": "2026-06-20T18:30"}, "入场截止"),
        ({"confirm_deadline_at": "2026-06-20T18:00"}, "须早于登录结束"),
        ({"login_opens_at": "tomorrow"}, "请按 年-月-日 时:分 填写。"),
        ({"login_opens_at": ""}, "必填"),
        ({"entry_cutoff_at": ""}, "入场截止时尚未进入设备调试者按缺考处理"),
        ({"minutes_per_candidate": "0"}, "每人面试时长（分钟）"),
        ({"call_accept_seconds": "100000"}, "呼叫接受时限（秒）"),
        ({"trim_min_examiners": "2"}, "考官不少于几人时去高去低"),
        ({"score_decimals": "3"}, "保留小数"),
        ({"name": ""}, "名称"),
    ],
)
def test_invalid_exam_is_refused_and_nothing_created(hr, overrides, message):
    response = hr.post("/hr/exams/new", exam_form(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Exam.id))) == 0
    assert events("exam.created") == []


def test_cutoff_may_equal_closing_and_the_confirm_deadline_may_be_empty(hr):
    response = hr.post(
        "/hr/exams/new", exam_form(entry_cutoff_at="2026-06-20T18:00", confirm_deadline_at="")
    )
    assert response.status_code == 302
    exam = db.session.scalars(sa.select(Exam)).one()
    assert exam.confirm_deadline_at is None


def test_mock_exam_links_its_formal_exam(hr):
    formal = gen_exam("正式面试")
    response = hr.post(
        "/hr/exams/new", exam_form(name="模拟面试", kind="mock", formal_exam_id=str(formal.id))
    )
    assert response.status_code == 302
    mock = db.session.scalars(sa.select(Exam).filter_by(name="模拟面试")).one()
    assert mock.is_mock and mock.formal_exam_id == formal.id

    # A formal exam links to nothing, whatever the form says.
    form = exam_form(name="模拟面试", kind="formal", formal_exam_id=str(formal.id))
    assert hr.post(f"/hr/exams/{mock.id}/edit", form).status_code == 302
    db.session.refresh(mock)
    assert mock.kind == ExamKind.FORMAL and mock.formal_exam_id is None


def test_edit_exam_records_before_and_after(hr):
    exam = gen_exam("面试", minutes_per_candidate=10)
    response = hr.post(
        f"/hr/exams/{exam.id}/edit",
        exam_form(name="面试（修订）", minutes_per_candidate="12", publish_mode="hold"),
    )
    assert response.status_code == 302
    db.session.refresh(exam)
    assert exam.name == "面试（修订）" and exam.minutes_per_candidate == 12
    assert exam.publish_mode == "hold"
    (event,) = events("exam.updated")
    assert event.exam_id == exam.id
    assert event.data["before"]["name"] == "面试" and event.data["after"]["name"] == "面试（修订）"
    assert event.data["before"]["minutes_per_candidate"] == 10
    assert event.data["after"]["minutes_per_candidate"] == 12
    assert event.data["after"]["login_opens_at"] == "2026-06-19T23:30:00+00:00"
    assert "requires_id_photo" not in event.data["after"]  # unchanged fields are left out


def test_window_edit_that_makes_codes_collide_is_refused(hr):
    now = utcnow().replace(second=0, microsecond=0)
    today = gen_exam("今天", login_opens_at=now, login_closes_at=now + timedelta(hours=8))
    next_week = now + timedelta(days=7)
    later = gen_exam(
        "下周", login_opens_at=next_week, login_closes_at=next_week + timedelta(hours=8)
    )
    gen_candidate(today, "甲", code="123456", index=1)
    gen_candidate(later, "乙", code="123456", index=2)
    fmt = "%Y-%m-%dT%H:%M"
    response = hr.post(
        f"/hr/exams/{later.id}/edit",
        exam_form(
            name="下周",
            starts_at=format_beijing(now + timedelta(hours=1), fmt),
            login_opens_at=format_beijing(now + timedelta(hours=1), fmt),
            login_closes_at=format_beijing(now + timedelta(hours=9), fmt),
            entry_cutoff_at=format_beijing(now + timedelta(hours=2), fmt),
            confirm_deadline_at="",
        ),
    )
    assert response.status_code == 400
    assert "邀请码相同" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Exam, later.id).login_opens_at == next_week
    assert events("exam.updated") == []

    # Moving the window elsewhere, clear of the other exam, is fine.
    response = hr.post(
        f"/hr/exams/{later.id}/edit",
        exam_form(
            name="下周",
            starts_at=format_beijing(now + timedelta(days=8), fmt),
            login_opens_at=format_beijing(now + timedelta(days=8), fmt),
            login_closes_at=format_beijing(now + timedelta(days=8, hours=8), fmt),
            entry_cutoff_at=format_beijing(now + timedelta(days=8, hours=1), fmt),
            confirm_deadline_at="",
        ),
    )
    assert response.status_code == 302
    assert len(events("exam.updated")) == 1


def test_exam_detail_lists_panels_staff_and_counts(hr):
    exam = gen_exam()
    panel = gen_panel(exam, "第一考场")
    chief = gen_user("chief", role=Role.EXAMINER, display_name="张主考")
    set_panel_staff(panel, [chief], [], chief)
    db.session.commit()
    gen_candidate(exam, "甲", panel=panel)
    gen_candidate(exam, "乙", state=CandidateState.WAITING)
    page = hr.get(f"/hr/exams/{exam.id}").get_data(as_text=True)
    for text in (
        "第一考场",
        "张主考",
        panel.rest_room_code,
        panel.interview_room,
        "已邀请",
        "面试等待",
    ):
        assert text in page
    for endpoint in ("import", "assign", "candidates", "codes", "notices", "questions", "edit"):
        assert f"/hr/exams/{exam.id}/{endpoint}" in page


# --- panels -----------------------------------------------------------------------------------


def test_create_panel_makes_rooms_and_rest_code(hr):
    exam = gen_exam()
    response = hr.post(f"/hr/exams/{exam.id}/panels/new", {"name": "第一考场"})
    assert response.status_code == 302
    panel = db.session.scalars(sa.select(Panel)).one()
    assert panel.name == "第一考场" and panel.exam_id == exam.id
    assert panel.interview_room == panel.interview_room.lower() != ""
    assert panel.rest_room == panel.rest_room.lower() and panel.rest_room != panel.interview_room
    assert CODE.match(panel.rest_room_code)
    assert len(events("panel.created")) == 1

    page = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert panel.rest_room_code in page and panel.interview_room in page

    again = hr.post(f"/hr/exams/{exam.id}/panels/new", {"name": "第一考场"})
    assert again.status_code == 400 and "同名" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Panel.id))) == 1


def test_staff_a_panel(hr):
    exam = gen_exam()
    panel = gen_panel(exam)
    e1 = gen_user("e1", role=Role.EXAMINER)
    e2 = gen_user("e2", role=Role.EXAMINER)
    e3 = gen_user("e3", role=Role.EXAMINER)
    a1 = gen_user("a1", role=Role.ASSISTANT)
    gen_user("gone", role=Role.EXAMINER, active=False)
    url = f"/hr/exams/{exam.id}/panels/{panel.id}"

    page = hr.get(url).get_data(as_text=True)
    assert 'type="checkbox"' in page and "e1" in page and "gone" not in page

    # The chief must be one of the examiners: refused, nothing stored.
    response = hr.post(url, {"name": panel.name, "examiners": [e1.id, e2.id], "chief": e3.id})
    assert response.status_code == 400
    assert "主考官必须是本组考官之一" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(PanelMember.id))) == 0

    # An assistant is not offered as an examiner.
    response = hr.post(url, {"name": panel.name, "examiners": [a1.id], "chief": "0"})
    assert response.status_code == 400

    response = hr.post(
        url,
        {
            "name": "一号考场",
            "examiners": [e1.id, e2.id, e3.id],
            "assistants": [a1.id],
            "chief": e2.id,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    panel = db.session.get(Panel, panel.id)
    assert panel.name == "一号考场" and panel.chief_examiner_id == e2.id
    assert sorted((m.user_id, m.role) for m in panel.members) == sorted(
        [(e1.id, "examiner"), (e2.id, "examiner"), (e3.id, "examiner"), (a1.id, "assistant")]
    )
    (staffed,) = events("panel.staffed")
    assert staffed.data["before"]["examiners"] == [] and staffed.data["after"]["chief"] == e2.id
    (renamed,) = events("panel.renamed")
    assert renamed.data["after"] == {"name": "一号考场"}

    # An examiner sits on one panel per exam.
    other = gen_panel(exam, "第二考场")
    response = hr.post(
        f"/hr/exams/{exam.id}/panels/{other.id}",
        {"name": "第二考场", "examiners": [e1.id], "chief": e1.id},
    )
    assert response.status_code == 400 and "其他考场" in response.get_data(as_text=True)


# --- import -----------------------------------------------------------------------------------


GOOD_ROWS = [
    ["王晓明", id_number(1), "13800000001", "综合管理"],
    ["李婷", id_number(2), "13800000002", "综合管理"],
    ["张伟", id_number(3), "13800000003", "财务会计"],
]


def test_import_good_csv_gives_unique_codes(hr):
    exam = gen_exam()
    response = upload(hr, exam, roster_csv(GOOD_ROWS).encode("utf-8"), "名单.csv")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/hr/exams/{exam.id}/candidates"
    candidates = db.session.scalars(sa.select(Candidate).order_by(Candidate.id)).all()
    assert [c.name for c in candidates] == ["王晓明", "李婷", "张伟"]
    codes = [c.code for c in candidates]
    assert all(CODE.match(code) for code in codes) and len(set(codes)) == 3
    assert all(c.state == CandidateState.INVITED and c.exam_id == exam.id for c in candidates)
    assert "已导入 3 名考生" in hr.get(response.headers["Location"]).get_data(as_text=True)


def test_bad_gbk_csv_lists_every_row_and_imports_nothing_then_fixed_file_imports(hr):
    exam = gen_exam()
    good_id = id_number(2)
    wrong_check_digit = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")
    bad = roster_csv(
        [
            GOOD_ROWS[0],
            ["李婷", wrong_check_digit, "13800000002", "综合管理"],
            [*GOOD_ROWS[2][:2], "12345", "财务会计"],
            ["", id_number(4), "13800000004", "财务会计"],
        ]
    ).encode("gbk")
    response = upload(hr, exam, bad, "名单.csv")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "未导入任何考生" in page
    for row in (3, 4, 5):
        assert f"第 {row} 行" in page
    assert "第 2 行" not in page
    assert db.session.scalar(sa.select(sa.func.count(Candidate.id))) == 0
    assert events("candidates.imported") == []

    fixed = roster_csv([*GOOD_ROWS, ["赵磊", id_number(4), "13800000004", "财务会计"]]).encode(
        "gbk"
    )
    response = upload(hr, exam, fixed, "名单.csv")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Candidate.id))) == 4
    finance = sa.select(Candidate.name).filter_by(position="财务会计").order_by(Candidate.id)
    assert db.session.scalars(finance).all() == ["张伟", "赵磊"]


def test_import_xlsx(hr):
    exam = gen_exam()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "身份证号", "手机号", "报考岗位"])
    for row in GOOD_ROWS:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    response = upload(hr, exam, out.getvalue(), "名单.xlsx")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Candidate.id))) == 3


def test_empty_and_missing_and_too_large_uploads_are_refused(app, hr):
    exam = gen_exam()
    response = upload(hr, exam, b"", "名单.csv")
    assert response.status_code == 400 and "文件是空的" in response.get_data(as_text=True)
    response = hr.post(f"/hr/exams/{exam.id}/import", {}, content_type="multipart/form-data")
    assert response.status_code == 400 and "请选择文件" in response.get_data(as_text=True)

    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = upload(hr, exam, b"x" * 20_000, "名单.csv")
    assert response.status_code == 413 and "文件太大" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Candidate.id))) == 0


# --- panels for candidates ----------------------------------------------------------------------


def test_assign_candidates_by_hand_and_refuse_those_on_their_way(hr):
    exam = gen_exam()
    p1, p2 = gen_panel(exam, "一"), gen_panel(exam, "二")
    fresh = gen_candidate(exam, "甲")
    busy = gen_candidate(exam, "乙", state=CandidateState.DEBUG_WAITING, panel=p1)
    url = f"/hr/exams/{exam.id}/assign"
    page = hr.get(url).get_data(as_text=True)
    assert f'name="panel-{fresh.id}"' in page and f'name="panel-{busy.id}"' not in page

    response = hr.post(url, {f"panel-{fresh.id}": str(p2.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Candidate, fresh.id).panel_id == p2.id
    (event,) = events("candidate.panel_assigned")
    assert event.candidate_id == fresh.id and event.data["after"] == {"panel": p2.id}

    # Moving someone already in the day's rooms is refused, and nothing else is saved with it.
    response = hr.post(url, {f"panel-{fresh.id}": "", f"panel-{busy.id}": str(p2.id)})
    assert response.status_code == 302
    assert "不能再调整考场" in hr.get(url).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Candidate, busy.id).panel_id == p1.id
    assert db.session.get(Candidate, fresh.id).panel_id == p2.id
    assert len(events("candidate.panel_assigned")) == 1

    assert hr.post(url, {f"panel-{fresh.id}": "999999"}).status_code == 400


def test_distribute_spreads_every_position_evenly(hr):
    exam = gen_exam()
    panels = [gen_panel(exam, "一"), gen_panel(exam, "二"), gen_panel(exam, "三")]
    for i in range(6):
        gen_candidate(exam, f"综{i}", position="综合管理")
    for i in range(3):
        gen_candidate(exam, f"财{i}", position="财务会计")
    started = gen_candidate(exam, "已开始", position="财务会计", state=CandidateState.WAITING)

    response = hr.post(f"/hr/exams/{exam.id}/assign/distribute")
    assert response.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Candidate).where(Candidate.id != started.id)).all()
    assert all(c.panel_id is not None for c in rows)
    assert db.session.get(Candidate, started.id).panel_id is None
    for panel in panels:
        mine = [c for c in rows if c.panel_id == panel.id]
        assert len(mine) == 3
        assert sum(c.position == "财务会计" for c in mine) == 1
    assert len(events("candidate.panel_assigned")) == 9

    # Newcomers go to the panels with fewest candidates first.
    late = gen_candidate(exam, "晚到", position="综合管理")
    db.session.get(Candidate, rows[0].id).panel_id = None
    db.session.commit()
    hr.post(f"/hr/exams/{exam.id}/assign/distribute")
    db.session.expire_all()
    per_panel = (
        sa.select(sa.func.count(Candidate.id))
        .where(Candidate.panel_id.is_not(None))
        .group_by(Candidate.panel_id)
    )
    counts = sorted(db.session.scalars(per_panel))
    assert counts == [3, 3, 4]
    assert db.session.get(Candidate, late.id).panel_id is not None


def test_distribute_without_panels_says_so(hr):
    exam = gen_exam()
    gen_candidate(exam, "甲")
    hr.post(f"/hr/exams/{exam.id}/assign/distribute")
    assert "请先创建考场" in hr.get(f"/hr/exams/{exam.id}/assign").get_data(as_text=True)


# --- codes and slips --------------------------------------------------------------------------


def test_slips_csv_has_bom_header_and_one_row_per_candidate(hr):
    exam = gen_exam()
    panel = gen_panel(exam)
    gen_candidate(exam, "王晓明", code="012345", panel=panel)
    gen_candidate(exam, "=HYPERLINK(1)", code="543210")
    response = hr.get(f"/hr/exams/{exam.id}/slips.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f"slips-exam-{exam.id}.csv" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == SLIP_HEADER_FOR_HR and rows[0][:2] == ["姓名 name", "邀请码 code"]
    assert len(rows) == 3
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["王晓明"][1] == "012345" and by_name["王晓明"][3] == panel.name
    assert "'=HYPERLINK(1)" in by_name  # no formula in Excel


def test_slips_xlsx_opens_with_codes_as_text(hr):
    exam = gen_exam()
    gen_candidate(exam, "王晓明", code="012345")
    gen_candidate(exam, "=HYPERLINK(1)", code="543210")
    response = hr.get(f"/hr/exams/{exam.id}/slips.xlsx")
    assert response.status_code == 200
    assert f"slips-exam-{exam.id}.xlsx" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert list(rows[0]) == SLIP_HEADER_FOR_HR
    assert workbook.active["A1"].font.bold  # a bold, frozen header
    assert workbook.active.freeze_panes == "A2"
    assert rows[1][0] == "王晓明" and rows[1][1] == "012345"
    assert len(rows) == 3
    sheet = workbook.active
    assert sheet["A3"].value == "=HYPERLINK(1)" and sheet["A3"].data_type == "s"  # text, no formula


def test_printable_slips_page(hr):
    exam = gen_exam(
        "市直面试",
        login_opens_at=datetime(2026, 6, 19, 23, 30, tzinfo=UTC),
        login_closes_at=datetime(2026, 6, 20, 10, 0, tzinfo=UTC),
    )
    gen_candidate(exam, "王晓明", code="012345")
    gen_candidate(exam, "李婷", code="222222")
    page = hr.get(f"/hr/exams/{exam.id}/slips").get_data(as_text=True)
    assert page.count('class="card slip"') == 2
    for text in (
        "王晓明",
        "012345",
        "李婷",
        "222222",
        "市直面试",
        "2026-06-20 07:30",
        "2026-06-20 18:00",
    ):
        assert text in page


def test_regenerate_code_only_before_first_sign_in(hr):
    exam = gen_exam()
    candidate = gen_candidate(exam, "甲", code="111111")
    url = f"/hr/exams/{exam.id}/candidates/{candidate.id}/code"
    assert "重新生成" in hr.get(f"/hr/exams/{exam.id}/codes").get_data(as_text=True)
    assert hr.post(url).status_code == 302
    db.session.expire_all()
    candidate = db.session.get(Candidate, candidate.id)
    assert CODE.match(candidate.code) and candidate.code != "111111"
    (event,) = events("candidate.code_regenerated")
    assert event.candidate_id == candidate.id and event.data["before"] == {"code_tail": "11"}

    candidate.session_nonce = "a" * 32
    db.session.commit()
    code = candidate.code
    assert hr.post(url).status_code == 302
    assert "不能再更换" in hr.get(f"/hr/exams/{exam.id}/codes").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).code == code
    assert len(events("candidate.code_regenerated")) == 1


def test_regenerate_code_refused_when_the_candidate_signs_in_meanwhile(hr, monkeypatch):
    exam = gen_exam()
    candidate = gen_candidate(exam, "甲", code="111111")
    real_allocate = hr_routes.allocate_codes

    def allocate_while_candidate_signs_in(*args):
        # Another connection, as the candidate's own request would be.
        with db.engine.begin() as other:
            other.execute(
                sa.update(Candidate)
                .where(Candidate.id == candidate.id)
                .values(session_nonce="b" * 32, version=Candidate.version + 1)
            )
        return real_allocate(*args)

    monkeypatch.setattr(hr_routes, "allocate_codes", allocate_while_candidate_signs_in)
    assert hr.post(f"/hr/exams/{exam.id}/candidates/{candidate.id}/code").status_code == 302
    assert "刚刚发生变化" in hr.get(f"/hr/exams/{exam.id}/codes").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).code == "111111"
    assert events("candidate.code_regenerated") == []


# --- live list --------------------------------------------------------------------------------


def test_live_list_full_page_and_polled_fragment(hr):
    exam = gen_exam()
    panel = gen_panel(exam)
    gen_candidate(
        exam,
        "王晓明",
        panel=panel,
        id_number=id_number(7),
        phone="13912345678",
        state=CandidateState.WAITING,
        lot_number=3,
        missed_calls=2,
    )
    url = f"/hr/exams/{exam.id}/candidates"

    full = hr.get(url)
    html = full.get_data(as_text=True)
    assert "<html" in html and 'hx-trigger="every 5s' in html and f'hx-get="{url}"' in html
    assert (
        static_url("js/staff.js") in html and "data-poll" in html
    )  # staff.js sends the version back
    for text in ("王晓明", id_number(7), "13912345678", panel.name, "面试等待", "03"):
        assert text in html
    assert "HX-Request" in full.headers["Vary"]

    fragment = hr.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="candidate-table"' in fragment
    assert "王晓明" in fragment


def test_live_list_filters_by_state_and_panel(hr):
    exam = gen_exam()
    p1, p2 = gen_panel(exam, "一"), gen_panel(exam, "二")
    gen_candidate(exam, "甲甲", panel=p1, state=CandidateState.WAITING)
    gen_candidate(exam, "乙乙", panel=p2, state=CandidateState.WAITING)
    gen_candidate(exam, "丙丙", state=CandidateState.INVITED)
    url = f"/hr/exams/{exam.id}/candidates"

    def names(query):
        html = hr.get(url + query, headers={"HX-Request": "true"}).get_data(as_text=True)
        return {n for n in ("甲甲", "乙乙", "丙丙") if n in html}

    assert names("") == {"甲甲", "乙乙", "丙丙"}
    assert names("?state=waiting") == {"甲甲", "乙乙"}
    assert names(f"?state=waiting&panel={p2.id}") == {"乙乙"}
    assert names("?panel=none") == {"丙丙"}
    assert names("?state=nonsense") == {"甲甲", "乙乙", "丙丙"}
    # The polled URL keeps the filter.
    html = hr.get(url + f"?state=waiting&panel={p2.id}").get_data(as_text=True)
    assert f'hx-get="{url}?state=waiting&amp;panel={p2.id}"' in html


def test_live_list_poll_is_304_until_a_row_an_import_or_a_panel_name_changes(hr):
    """Every HR browser polls the list every 5 s: at 2,000 candidates it is 700 kB of HTML,
    sent only when something it shows changed."""
    exam = gen_exam()
    panel = gen_panel(exam, "第一考场")
    candidate = gen_candidate(exam, "王晓明", panel=panel)
    url = f"/hr/exams/{exam.id}/candidates"
    etag = re.search(r'data-etag="([^"]+)"', hr.get(url).get_data(as_text=True)).group(1)

    def poll(version):
        return hr.get(url, headers={"HX-Request": "true", "If-None-Match": f'"{version}"'})

    unchanged = poll(etag)
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert unchanged.headers["Cache-Control"] == "no-store"

    def changed(text):
        response = poll(etag)
        assert response.status_code == 200 and text in response.get_data(as_text=True)
        new = response.headers["ETag"].strip('"')
        assert new != etag and f'data-etag="{new}"' in response.get_data(as_text=True)
        assert poll(new).status_code == 304
        return new

    candidate.state = CandidateState.CONFIRMED
    db.session.commit()
    etag = changed("已确认")
    gen_candidate(exam, "李四")  # imported
    etag = changed("李四")
    panel.name = "第九考场"
    db.session.commit()
    etag = changed("第九考场")
    db.session.delete(candidate)
    db.session.commit()
    response = poll(etag)
    assert response.status_code == 200 and "王晓明" not in response.get_data(as_text=True)


def test_live_list_queries_do_not_grow_with_candidates(app, hr):
    exam = gen_exam()
    panels = [gen_panel(exam, "一"), gen_panel(exam, "二")]
    url = f"/hr/exams/{exam.id}/candidates"
    hr.get(url)  # sign-in and first-request work out of the way

    def count_queries() -> int:
        statements = []

        def listener(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert hr.get(url, headers={"HX-Request": "true"}).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    gen_candidate(exam, "一号", panel=panels[0])
    few = count_queries()
    for i in range(8):
        gen_candidate(exam, f"考生{i}", panel=panels[i % 2])
    assert count_queries() == few


# --- notices and question sets ----------------------------------------------------------------


def test_notice_crud_and_no_delete_once_read(hr):
    exam = gen_exam()
    base = f"/hr/exams/{exam.id}/notices"
    form = {"title": "考生须知", "body": "第一条\r\n<b>第二条</b>", "position": "1"}
    response = hr.post(base + "/new", form)
    assert response.status_code == 302
    notice = db.session.scalars(sa.select(Notice)).one()
    notice_id = notice.id
    assert notice.body == "第一条\n<b>第二条</b>"
    page = hr.get(base).get_data(as_text=True)
    assert "第一条<br>" in page and "&lt;b&gt;第二条&lt;/b&gt;" in page

    assert hr.post(base + "/new", {"title": "", "body": "x", "position": "0"}).status_code == 400

    response = hr.post(
        f"{base}/{notice.id}", {"title": "考生须知（修订）", "body": "新内容", "position": "2"}
    )
    assert response.status_code == 302
    (event,) = events("notice.updated")
    assert event.data["before"]["title"] == "考生须知" and event.data["after"]["body"] == "新内容"

    candidate = gen_candidate(exam, "甲")
    db.session.add(NoticeAck(notice_id=notice.id, candidate_id=candidate.id))
    db.session.commit()
    assert hr.post(f"{base}/{notice.id}/delete").status_code == 302
    assert "不能删除" in hr.get(base).get_data(as_text=True)
    assert db.session.get(Notice, notice.id) is not None

    db.session.execute(sa.delete(NoticeAck))
    db.session.commit()
    assert hr.post(f"{base}/{notice.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Notice, notice_id) is None
    assert len(events("notice.deleted")) == 1


def test_notice_of_another_exam_is_not_found(hr):
    exam, other = gen_exam(), gen_exam("别的考试")
    notice = Notice(exam_id=exam.id, title="须知", body="…")
    db.session.add(notice)
    db.session.commit()
    assert hr.get(f"/hr/exams/{exam.id}/notices/{notice.id}").status_code == 200
    assert hr.get(f"/hr/exams/{other.id}/notices/{notice.id}").status_code == 404
    assert hr.post(f"/hr/exams/{other.id}/notices/{notice.id}/delete").status_code == 404


def test_an_unknown_exam_is_not_found_for_hr_and_a_login_for_a_stranger(app, hr):
    # The exam is loaded once per request for every HR blueprint, after the role guard.
    for url in ("/hr/exams/9999", "/hr/exams/9999/overview", "/hr/exams/9999/score-sheet"):
        assert hr.get(url).status_code == 404
        stranger = app.test_client().get(url)
        assert stranger.status_code == 302 and "/login" in stranger.headers["Location"]


def test_question_set_crud(hr):
    exam = gen_exam()
    panel = gen_panel(exam)
    base = f"/hr/exams/{exam.id}/questions"
    response = hr.post(
        base + "/new",
        {
            "title": "题本 A",
            "panel_id": str(panel.id),
            "body": "第一题\r\n第二题",
            "scoring_guide": "要点",
            "position": "0",
        },
    )
    assert response.status_code == 302
    question_set = db.session.scalars(sa.select(QuestionSet)).one()
    question_set_id = question_set.id
    assert question_set.panel_id == panel.id and question_set.body == "第一题\n第二题"
    assert len(events("question_set.created")) == 1
    page = hr.get(base).get_data(as_text=True)
    assert "第一题<br>" in page and "要点" in page and panel.name in page

    response = hr.post(
        f"{base}/{question_set.id}",
        {
            "title": "题本 A",
            "panel_id": "0",
            "body": "第一题",
            "scoring_guide": "",
            "position": "0",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(QuestionSet, question_set.id).panel_id is None
    (event,) = events("question_set.updated")
    assert event.data["before"]["panel"] == panel.id and event.data["after"]["panel"] is None

    # Once a candidate's timer has started the questions were shown: no deleting them.
    gen_candidate(exam, "甲", state=CandidateState.INTERVIEWING, timer_started_at=utcnow())
    assert hr.post(f"{base}/{question_set.id}/delete").status_code == 302
    assert "不能删除" in hr.get(base).get_data(as_text=True)
    assert db.session.get(QuestionSet, question_set.id) is not None

    db.session.execute(sa.update(Candidate).values(timer_started_at=None))
    db.session.commit()
    assert hr.post(f"{base}/{question_set.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(QuestionSet, question_set_id) is None
    assert len(events("question_set.deleted")) == 1


# Who may open the HR pages (every /hr route, per role): tests/test_access_matrix.py.
