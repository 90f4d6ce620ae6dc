"""The exam's schedule (issue 15, Deliver 1): start, login lead, cut-off as minutes or a time,
the waiting room's opening, the confirmation period days before, and every time a candidate
reads shown with its date when it is not today. A moved clock throughout."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask_babel import force_locale
from werkzeug.datastructures import ETags

from app import db
from app.day.poll import quick_not_modified
from app.day.schedule import next_opening, reachable_from, waiting_opens_at
from app.day.session import find_candidate_by_code
from app.journey import Actor, perform
from app.models import AuditEvent, Candidate, Exam, ExamKind, Notice, NoticeAck, Panel, Role
from app.models.candidate import CandidateState as S
from app.refusals import Refused
from app.setup.codes import allocate_codes, overlapping_exam_ids
from app.setup.demo import seed_demo
from app.setup.exams import derive_schedule, schedule_problems
from app.timeutil import BEIJING, bj_when, parse_beijing
from tests.candidate_client import CandidateBrowser
from tests.factories import World, gen_candidate, gen_exam, gen_user
from tests.test_hr_pages import exam_form


def bj(text: str) -> datetime:
    return parse_beijing(text)


# --- bj_when ----------------------------------------------------------------------------------


def test_bj_when_gives_the_date_only_when_it_is_not_today_in_beijing():
    now = bj("2026-06-20 09:00")
    assert bj_when(bj("2026-06-20 05:30"), now) == "05:30"
    assert bj_when(bj("2026-06-20 23:59"), now) == "23:59"
    assert bj_when(bj("2026-07-20 05:30"), now) == "7月20日 05:30"
    assert bj_when(bj("2026-06-21 00:00"), now) == "6月21日 00:00"
    assert bj_when(bj("2027-01-03 08:00"), now) == "2027年1月3日 08:00"
    assert bj_when(None, now) == ""
    # Beijing's date, not UTC's: 07:30 in Beijing on the 21st is still the 20th in UTC.
    late = datetime(2026, 6, 20, 23, 30, tzinfo=UTC)  # 6/21 07:30 Beijing
    assert late.astimezone(BEIJING).day == 21
    assert bj_when(late, bj("2026-06-21 06:00")) == "07:30"
    assert bj_when(late, bj("2026-06-20 20:00")) == "6月21日 07:30"


# --- the schedule's rules ---------------------------------------------------------------------


def schedule(**overrides) -> dict:
    values = {
        "starts_at": bj("2026-06-20 08:00"),
        "login_lead_minutes": 45,
        "login_opens_at": None,
        "login_closes_at": bj("2026-06-20 18:00"),
        "entry_cutoff_minutes": 3,
        "entry_cutoff_at": None,
        "waiting_opens_minutes": 10,
        "confirm_opens_at": bj("2026-06-17 09:00"),
        "confirm_deadline_at": bj("2026-06-17 17:00"),
    }
    values.update(overrides)
    return values


def test_a_well_formed_schedule_has_no_problems():
    assert schedule_problems(schedule()) == {}
    explicit = schedule(
        login_lead_minutes=None,
        login_opens_at=bj("2026-06-20 07:30"),
        entry_cutoff_minutes=None,
        entry_cutoff_at=bj("2026-06-20 08:10"),
    )
    assert schedule_problems(explicit) == {}


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"login_lead_minutes": None}, "login_opens_at", "二选一"),
        ({"login_opens_at": bj("2026-06-20 07:00")}, "login_opens_at", "请只填一项"),
        (
            {"login_lead_minutes": None, "login_opens_at": bj("2026-06-20 08:30")},
            "login_opens_at",
            "登录开始不能晚于开考时间",
        ),
        ({"entry_cutoff_minutes": None}, "entry_cutoff_at", "二选一"),
        ({"entry_cutoff_at": bj("2026-06-20 08:10")}, "entry_cutoff_at", "请只填一项"),
        (
            {"entry_cutoff_minutes": None, "entry_cutoff_at": bj("2026-06-20 07:50")},
            "entry_cutoff_at",
            "不早于开考时间",
        ),
        ({"entry_cutoff_minutes": 900}, "entry_cutoff_at", "不晚于登录结束"),
        ({"login_closes_at": bj("2026-06-20 08:00")}, "login_closes_at", "须晚于开考时间"),
        ({"confirm_deadline_at": None}, "confirm_deadline_at", "确认截止"),
        ({"confirm_opens_at": bj("2026-06-17 17:00")}, "confirm_opens_at", "须早于确认截止"),
        (
            {
                "confirm_opens_at": bj("2026-06-20 07:20"),
                "confirm_deadline_at": bj("2026-06-20 07:40"),
            },
            "confirm_opens_at",
            "须在登录开始之前开始",
        ),
        ({"confirm_deadline_at": bj("2026-06-20 18:00")}, "confirm_deadline_at", "须早于登录结束"),
    ],
)
def test_each_schedule_problem_is_named_in_both_languages(app, overrides, field, words):
    problems = schedule_problems(schedule(**overrides))
    assert words in problems[field], problems
    # The same problem for a staff member who reads English (issue 17).
    with app.test_request_context(), force_locale("en"):
        english = schedule_problems(schedule(**overrides))[field]
    assert english.isascii() and english != problems[field], english


def test_derived_times_move_with_the_start():
    exam = Exam(
        starts_at=bj("2026-06-20 08:00"),
        login_lead_minutes=30,
        entry_cutoff_minutes=3,
        waiting_opens_minutes=10,
        login_closes_at=bj("2026-06-20 18:00"),
    )
    derive_schedule(exam)
    assert exam.login_opens_at == bj("2026-06-20 07:30")
    assert exam.entry_cutoff_at == bj("2026-06-20 08:03")
    assert waiting_opens_at(exam) == bj("2026-06-20 07:50")
    exam.starts_at = bj("2026-06-20 14:00")
    derive_schedule(exam)
    assert exam.login_opens_at == bj("2026-06-20 13:30")
    assert exam.entry_cutoff_at == bj("2026-06-20 14:03")
    assert waiting_opens_at(exam) == bj("2026-06-20 13:50")


# --- the HR form ------------------------------------------------------------------------------


@pytest.fixture
def hr(app, client, staff):
    gen_user("hr1", role=Role.HR)
    assert staff.login("hr1").status_code == 302
    from tests.test_hr_pages import HR

    return HR(client)


def the_exam() -> Exam:
    db.session.expire_all()
    return db.session.scalars(sa.select(Exam)).one()


def test_the_form_stores_minutes_and_moving_the_start_moves_the_derived_times(hr):
    form = exam_form(
        starts_at="2026-06-20T08:00",
        login_lead_minutes="45",
        login_opens_at="",
        entry_cutoff_minutes="3",
        entry_cutoff_at="",
        waiting_opens_minutes="10",
        confirm_opens_at="2026-06-17T09:00",
        confirm_deadline_at="2026-06-17T17:00",
    )
    assert hr.post("/hr/exams/new", form).status_code == 302
    exam = the_exam()
    assert (exam.login_lead_minutes, exam.entry_cutoff_minutes) == (45, 3)
    assert exam.starts_at == bj("2026-06-20 08:00")
    assert exam.login_opens_at == bj("2026-06-20 07:15")
    assert exam.entry_cutoff_at == bj("2026-06-20 08:03")
    assert exam.confirm_opens_at == bj("2026-06-17 09:00")

    # The edit page shows the minutes and leaves the derived times blank (re-saving as it is
    # must not find both filled in).
    page = hr.get(f"/hr/exams/{exam.id}/edit").get_data(as_text=True)
    assert 'name="login_lead_minutes" type="number" value="45"' in page
    assert 'id="entry_cutoff_at" name="entry_cutoff_at" type="datetime-local" value=""' in page

    moved = {**form, "starts_at": "2026-06-20T14:00"}
    assert hr.post(f"/hr/exams/{exam.id}/edit", moved).status_code == 302
    exam = the_exam()
    assert exam.login_opens_at == bj("2026-06-20 13:15")
    assert exam.entry_cutoff_at == bj("2026-06-20 14:03")
    updated = db.session.scalars(sa.select(AuditEvent).filter_by(kind="exam.updated")).one()
    assert set(updated.data["after"]) == {"starts_at", "login_opens_at", "entry_cutoff_at"}

    detail = hr.get(f"/hr/exams/{exam.id}").get_data(as_text=True)
    for words in ("确认期", "开考", "登录开放", "入场截止", "等待室开放", "开考前 45 分钟"):
        assert words in detail, words
    assert "开考后 3 分钟" in detail and "开考前 10 分钟" in detail


def test_a_new_exam_form_offers_ten_minutes_for_the_waiting_room(hr):
    page = hr.get("/hr/exams/new").get_data(as_text=True)
    assert 'name="waiting_opens_minutes"' in page and 'value="10"' in page


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"starts_at": ""}, "必填：开考时间"),
        ({"entry_cutoff_minutes": "3"}, "请只填一项：开考后N分钟或入场截止时间"),
        ({"entry_cutoff_at": ""}, "入场截止时尚未进入设备调试者按缺考处理"),
        ({"login_lead_minutes": "45"}, "请只填一项：提前登录分钟数或登录开始时间"),
        ({"login_opens_at": ""}, "必填：提前登录分钟数或登录开始时间"),
        ({"confirm_opens_at": "2026-06-19T09:00"}, "须早于确认截止"),
        ({"entry_cutoff_at": "2026-06-20T07:55"}, "入场截止须不早于开考时间"),
    ],
)
def test_the_form_refuses_a_bad_schedule_and_saves_nothing(hr, overrides, words):
    response = hr.post("/hr/exams/new", exam_form(**overrides))
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Exam.id))) == 0


# --- the confirmation period ------------------------------------------------------------------
# SEED 000: confirm on 1/27 9:00-17:00, the exam on 1/30 8:00-8:10.


@pytest.fixture
def seed000(app):
    exam = gen_exam(
        starts_at=bj("2021-01-30 08:00"),
        login_opens_at=bj("2021-01-30 07:30"),
        login_closes_at=bj("2021-01-30 12:00"),
        entry_cutoff_at=bj("2021-01-30 08:10"),
        confirm_opens_at=bj("2021-01-27 09:00"),
        confirm_deadline_at=bj("2021-01-27 17:00"),
        waiting_opens_minutes=10,
    )
    panel = Panel(
        exam_id=exam.id,
        name="第一考场",
        interview_room="ir-s-aaaa",
        rest_room="ir-s-bbbb",
        rest_room_code="999999",
    )
    db.session.add(panel)
    db.session.flush()
    notice = Notice(exam_id=exam.id, title="考生须知", body="...")
    db.session.add(notice)
    db.session.commit()
    candidate = gen_candidate(exam, "考生甲", code="123456", panel=panel)
    return exam, candidate, notice


def test_the_code_works_in_the_confirmation_period_days_before_the_exam_day(seed000):
    exam, candidate, _ = seed000
    before = find_candidate_by_code("123456", bj("2021-01-27 08:59"))
    assert before.candidate is None
    assert before.message == "尚未到登录时间，请于北京时间 09:00 后登录。"
    assert find_candidate_by_code("123456", bj("2021-01-26 12:00")).message == (
        "尚未到登录时间，请于北京时间 1月27日 09:00 后登录。"
    )
    assert find_candidate_by_code("123456", bj("2021-01-27 09:00")).candidate.id == candidate.id
    assert find_candidate_by_code("123456", bj("2021-01-27 16:59")).candidate.id == candidate.id
    # Between the confirmation period and the exam day: the next window is named, dated.
    between = find_candidate_by_code("123456", bj("2021-01-27 17:00"))
    assert between.candidate is None
    assert between.message == "尚未到登录时间，请于北京时间 1月30日 07:30 后登录。"
    assert find_candidate_by_code("123456", bj("2021-01-30 07:30")).candidate is not None
    assert next_opening(exam, bj("2021-01-28 00:00")) == exam.login_opens_at
    assert reachable_from(exam) == exam.confirm_opens_at


def test_in_the_confirmation_period_she_confirms_but_the_debug_room_waits(seed000, client):
    _, candidate, notice = seed000
    me = Actor.of_candidate(candidate)
    at = bj("2021-01-27 10:00")
    with time_machine.travel(at, tick=False):
        browser = CandidateBrowser(client)
        assert browser.enter_code("123456").status_code == 303
        page = browser.html()
        assert "确认参加" in page and "1月30日 07:30" in page  # the exam day, dated
        assert browser.post("/me/confirm", htmx=False).status_code in (302, 303)
        db.session.add(NoticeAck(notice_id=notice.id, candidate_id=candidate.id))
        db.session.commit()
        page = browser.html()
        assert "调试等候间将于考试当天登录时间开始后开放（北京时间 1月30日 07:30）" in page
        assert "disabled>下一步：进入调试等候间" in page
    with pytest.raises(Refused) as refused:
        perform(candidate.id, "enter_debug", me, at)
    assert refused.value.code == "debug_room_not_open"
    assert "北京时间 1月30日 07:30" in refused.value.message
    assert db.session.get(Candidate, candidate.id).state == S.CONFIRMED
    # On the exam day, once the login opens, the same move goes through.
    assert perform(candidate.id, "enter_debug", me, bj("2021-01-30 07:30")).state == (
        S.DEBUG_WAITING
    )


def test_in_the_confirmation_period_she_uploads_her_photo_and_may_decline(seed000, client):
    exam, candidate, _ = seed000
    exam.requires_id_photo = True
    db.session.commit()
    with time_machine.travel(bj("2021-01-27 16:00"), tick=False):
        browser = CandidateBrowser(client)
        browser.enter_code("123456")
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
        response = browser.client.post(
            "/me/id-photo",
            data={"photo": (io.BytesIO(png), "id.png"), "csrf_token": browser.token()},
            content_type="multipart/form-data",
            environ_base=browser.environ,
        )
        assert response.status_code in (302, 303), response.get_data(as_text=True)
        assert db.session.get(Candidate, candidate.id).id_photo_path
        assert browser.post("/me/decline", htmx=False).status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).state == S.DECLINED


def test_the_confirmed_page_enables_the_debug_room_when_the_login_opens(seed000, client):
    """The page polls: its ETag changes when the clock alone opens the debug room, and the
    quick poll does not hide it."""
    _, candidate, notice = seed000
    browser = CandidateBrowser(client)
    with time_machine.travel(bj("2021-01-27 10:00"), tick=False):
        browser.enter_code("123456")
        perform(candidate.id, "confirm", Actor.of_candidate(candidate), bj("2021-01-27 10:00"))
        db.session.add(NoticeAck(notice_id=notice.id, candidate_id=candidate.id))
        db.session.commit()
        etag = browser.poll("confirmed").headers["ETag"].strip('"')
        assert browser.poll("confirmed", etag).status_code == 304
    db.session.expire_all()
    nonce = db.session.get(Candidate, candidate.id).session_nonce
    opens = bj("2021-01-30 07:30")
    assert quick_not_modified(candidate.id, nonce, "confirmed", ETags([etag]), opens) is None
    with time_machine.travel(opens, tick=False):
        browser.enter_code("123456")  # the exam day: she signs in again
        response = browser.poll("confirmed", etag)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'id="continue" hx-swap-oob="true"' in html
        assert "disabled>下一步" not in html


# --- the waiting room's opening ---------------------------------------------------------------


def test_enter_waiting_is_refused_before_the_waiting_room_opens(app):
    world = World()
    now = world.now
    world.exam.starts_at = now + timedelta(minutes=30)
    world.exam.waiting_opens_minutes = 10
    db.session.commit()
    c = world.candidates[0]
    world.to_debug_waiting(c, now)
    perform(c.id, "call_debug", Actor.staff(world.assistant), now)
    perform(c.id, "accept_debug", world.as_candidate(c), now)
    perform(c.id, "check_identity", Actor.staff(world.assistant), now)
    perform(c.id, "mark_debugged", Actor.staff(world.assistant), now)
    opens = now + timedelta(minutes=20)
    with pytest.raises(Refused) as refused:
        perform(c.id, "enter_waiting", world.as_candidate(c), opens - timedelta(seconds=1))
    assert refused.value.code == "waiting_room_not_open"
    assert refused.value.message.startswith(f"面试等待室将于北京时间 {bj_when(opens, now)} 开放")
    assert perform(c.id, "enter_waiting", world.as_candidate(c), opens).state == S.WAITING


def test_no_waiting_minutes_means_no_gate(app):
    world = World()
    world.exam.starts_at = world.now + timedelta(hours=3)
    db.session.commit()
    c = world.candidates[0]
    assert world.to_waiting(c).state == S.WAITING


def test_the_debugged_page_shows_when_the_waiting_room_opens_and_enables_itself(app, client):
    world = World()
    now = world.now
    world.exam.starts_at = now + timedelta(minutes=30)
    world.exam.waiting_opens_minutes = 10
    db.session.commit()
    c = world.candidates[0]
    browser = CandidateBrowser(client)
    opens = now + timedelta(minutes=20)
    with time_machine.travel(now, tick=False):
        browser.enter_code(c.code)
        world.to_debug_waiting(c, now)
        perform(c.id, "call_debug", Actor.staff(world.assistant), now)
        perform(c.id, "accept_debug", world.as_candidate(c), now)
        perform(c.id, "check_identity", Actor.staff(world.assistant), now)
        perform(c.id, "mark_debugged", Actor.staff(world.assistant), now)
        page = browser.html()
        assert f"面试等待室将于北京时间 {bj_when(opens, now)} 开放" in page
        assert "disabled>确认</button>" in page
        # Entering the code again now is refused with the same words, and she stays debugged.
        response = browser.enter_code(c.code)
        assert response.status_code == 303
        assert "面试等待室将于北京时间" in browser.html()
        assert db.session.get(Candidate, c.id).state == S.DEBUGGED
        etag = browser.poll("debugged").headers["ETag"].strip('"')
        assert browser.poll("debugged", etag).status_code == 304
    db.session.expire_all()
    nonce = db.session.get(Candidate, c.id).session_nonce
    assert quick_not_modified(c.id, nonce, "debugged", ETags([etag]), opens) is None
    with time_machine.travel(opens, tick=False):
        response = browser.poll("debugged", etag)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'id="waiting-gate" hx-swap-oob="true"' in html
        assert "disabled>确认" not in html
        assert browser.enter_code(c.code).status_code == 303
    assert db.session.get(Candidate, c.id).state == S.WAITING


# --- times far away carry their date ----------------------------------------------------------


def test_a_cut_off_a_month_ahead_is_shown_with_its_date(app, client):
    world = World()
    now = world.now
    cutoff = now + timedelta(days=31)
    world.exam.entry_cutoff_at = cutoff
    world.exam.login_closes_at = cutoff + timedelta(hours=1)
    db.session.commit()
    c = world.candidates[0]
    browser = CandidateBrowser(client)
    with time_machine.travel(now, tick=False):
        browser.enter_code(c.code)
        world.to_debug_waiting(c, now)
        perform(c.id, "call_debug", Actor.staff(world.assistant), now)
        perform(c.id, "accept_debug", world.as_candidate(c), now)
        perform(c.id, "check_identity", Actor.staff(world.assistant), now)
        perform(c.id, "mark_debugged", Actor.staff(world.assistant), now)
        page = browser.html()
    shown = bj_when(cutoff, now)
    assert "月" in shown and "日" in shown
    assert f"入场截止（北京时间 {shown}）后进入的，仍可参加面试" in page


# --- the mock's time after confirming ---------------------------------------------------------


def test_after_confirming_she_sees_the_linked_mock_s_time_and_that_it_has_its_own_code(app, client):
    world = World()
    now = world.now
    mock = gen_exam(
        "模拟面试",
        kind=ExamKind.MOCK,
        formal_exam_id=world.exam.id,
        starts_at=now + timedelta(days=2),
        login_opens_at=now + timedelta(days=2) - timedelta(minutes=30),
        login_closes_at=now + timedelta(days=2, hours=2),
    )
    c = world.candidates[0]
    browser = CandidateBrowser(client)
    with time_machine.travel(now, tick=False):
        browser.enter_code(c.code)
        before = browser.html()
        assert "模拟面试时间" not in before  # not before confirming
        perform(c.id, "confirm", world.as_candidate(c), now)
        page = browser.html()
    assert "模拟面试时间" in page
    assert f"开考时间 北京时间 {bj_when(mock.starts_at, now)}" in page
    assert bj_when(mock.login_opens_at, now) in page and "月" in bj_when(mock.starts_at, now)
    assert "模拟测试考号非正式面试考号" in page


# --- codes: the reachable window starts with the confirmation period --------------------------


def test_codes_are_unique_across_a_confirmation_period_that_overlaps_another_exam(app):
    now = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    today = gen_exam("今天", login_opens_at=now, login_closes_at=now + timedelta(hours=8))
    next_week = gen_exam(
        "下周",
        login_opens_at=now + timedelta(days=7),
        login_closes_at=now + timedelta(days=7, hours=8),
        confirm_opens_at=now + timedelta(hours=2),
        confirm_deadline_at=now + timedelta(days=1),
    )
    far = gen_exam(
        "下月", login_opens_at=now + timedelta(days=30), login_closes_at=now + timedelta(days=31)
    )
    assert next_week.id in overlapping_exam_ids(today)
    assert today.id in overlapping_exam_ids(next_week)
    assert far.id not in overlapping_exam_ids(today)
    taken = allocate_codes(today, 50)
    db.session.add_all(
        Candidate(
            exam_id=today.id,
            name="x",
            id_number=f"id{i}",
            phone="1",
            position="p",
            code=code,
        )
        for i, code in enumerate(taken)
    )
    db.session.flush()
    assert not set(allocate_codes(next_week, 200)) & set(taken)


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_has_a_real_schedule_and_works_at_once(app):
    seed_demo()
    now = datetime.now(UTC)
    for exam in db.session.scalars(sa.select(Exam)):
        assert exam.starts_at is not None and exam.login_lead_minutes == 45
        assert exam.login_opens_at == exam.starts_at - timedelta(minutes=45)
        assert exam.login_open_at(now)
        assert waiting_opens_at(exam) <= now
        assert exam.confirm_opens_at < now < exam.confirm_deadline_at
        # As the form would check it (the derived login opening is what a lead gives).
        values = {name: getattr(exam, name) for name in schedule()}
        assert schedule_problems({**values, "login_opens_at": None}) == {}
    formal = db.session.scalars(sa.select(Exam).filter_by(kind=ExamKind.FORMAL)).one()
    c = db.session.scalars(sa.select(Candidate).filter_by(exam_id=formal.id)).first()
    assert find_candidate_by_code(c.code, now).candidate.id == c.id
