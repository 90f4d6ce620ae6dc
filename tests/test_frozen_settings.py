"""Issue 15 Deliver 5: the settings interviews run by are frozen once the first interview clock
has started (Exam.interviews_started_at), and 允许提前结束面试 (allow_early_finish).

"What was tried": minutes per candidate were changed from 10 to 1 while an interview was
running, and saved.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app import db
from app.day.controls import close_entry_now
from app.journey import Actor, perform, settle
from app.models import AuditEvent, Call, Candidate, Exam, QuestionSet
from app.models.candidate import CandidateState as S
from app.setup.exams import EXAM_FIELDS, FROZEN_ONCE_STARTED, SCORING_FIELDS, frozen_fields
from app.timeutil import format_beijing
from tests.candidate_client import CandidateBrowser
from tests.conftest import at_once, csrf_token_of, signed_in_staff
from tests.factories import World
from tests.refusal_checks import refusal

STARTED = "面试已开始，此项不能再改"


@pytest.fixture
def world(app):
    return World()


@pytest.fixture
def hr(app, world):
    client = signed_in_staff(app, "hr")
    client.token = csrf_token_of(client)
    return client


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": client.token})


def in_room(world, panel=None, lot=1) -> Candidate:
    """A candidate in the interview room, the clock not yet started."""
    panel = panel or world.panel
    c = Candidate(
        exam_id=world.exam.id,
        panel_id=panel.id,
        name=f"面试中{lot}",
        id_number=f"1101051990020200{lot:02d}",
        phone="13800138001",
        position="综合管理岗",
        code=f"{300000 + lot + panel.id * 100}",
        state=S.INTERVIEWING,
        lot_number=lot,
    )
    db.session.add(c)
    db.session.flush()
    db.session.add(
        Call(
            candidate_id=c.id,
            panel_id=panel.id,
            kind="interview",
            room=panel.interview_room,
            called_at=world.now,
            accept_by=world.now + timedelta(minutes=1),
            accepted_at=world.now,
            outcome="accepted",
        )
    )
    db.session.commit()
    return c


def start_first_interview(world, at=None) -> Candidate:
    c = in_room(world)
    perform(c.id, "start_timer", Actor.staff(world.chief), at or world.now)
    return c


def fresh_exam(world) -> Exam:
    db.session.expire_all()
    return db.session.get(Exam, world.exam.id)


def _typed(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if hasattr(value, "tzinfo"):
        return format_beijing(value, "%Y-%m-%dT%H:%M")
    return str(value)


def form_of(exam: Exam, **changes) -> dict:
    """The exam form as the browser posts it, unchanged but for `changes`."""
    data = {name: _typed(getattr(exam, name)) for name in EXAM_FIELDS}
    data["formal_exam_id"] = "0"
    for name in ("requires_second_camera", "requires_id_photo", "requires_mock", "face_checks"):
        if not getattr(exam, name):
            data.pop(name)  # an unticked box is not posted
    data["allow_early_finish"] = "y" if exam.allow_early_finish else None
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def updates() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).filter_by(kind="exam.updated")))


# --- the freeze -------------------------------------------------------------------------------


def test_minutes_changed_from_10_to_1_while_an_interview_runs_is_refused(world, hr):
    """The case from the issue: refused with the reason on the field, nothing saved."""
    c = start_first_interview(world)
    exam = fresh_exam(world)
    assert exam.interviews_started_at == world.now
    url = f"/hr/exams/{exam.id}/edit"
    response = post(hr, url, form_of(exam, minutes_per_candidate="1", name="改名"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert STARTED in page and "未保存任何修改" in page
    exam = fresh_exam(world)
    assert exam.minutes_per_candidate == 10 and exam.name != "改名" and updates() == []
    # The running interview keeps its 10 minutes.
    assert db.session.get(Candidate, c.id).deadline_at == world.now + timedelta(minutes=10)


# Each frozen field of the form: a change made before the first start, and one tried after.
FORM_FROZEN = [
    ("minutes_per_candidate", "12", "1"),
    ("reading_minutes", "3", "0"),
    ("entry_cutoff_at", "+5", "+10"),
    ("scoring_rule", "plain", "trimmed"),
    ("trim_min_examiners", "3", "5"),
    ("trim_per_dimension", "1", "0"),
    ("score_decimals", "1", "2"),
]


def _typed_change(exam, value):
    if value.startswith("+"):
        return _typed(exam.entry_cutoff_at + timedelta(minutes=int(value[1:])))
    return value


@pytest.mark.parametrize("name, before_start, after_start", FORM_FROZEN)
def test_each_frozen_setting_changes_before_the_first_start_and_not_after(
    world, hr, name, before_start, after_start
):
    exam = fresh_exam(world)
    url = f"/hr/exams/{exam.id}/edit"
    response = post(hr, url, form_of(exam, **{name: _typed_change(exam, before_start)}))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert name in updates()[-1].data["after"]
    saved = _typed(getattr(fresh_exam(world), name))

    start_first_interview(world)
    exam = fresh_exam(world)
    response = post(hr, url, form_of(exam, **{name: _typed_change(exam, after_start)}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert STARTED in page.split(f'id="{name}"')[0][-600:], "the reason is beside the field"
    assert _typed(getattr(fresh_exam(world), name)) == saved and len(updates()) == 1


def test_other_settings_still_change_after_the_start_and_the_form_says_why(world, hr):
    start_first_interview(world)
    exam = fresh_exam(world)
    url = f"/hr/exams/{exam.id}/edit"
    page = hr.get(url).get_data(as_text=True)
    assert "面试已于北京时间" in page and "已固定" in page
    assert page.count(STARTED) == len([n for n in FROZEN_ONCE_STARTED if n in EXAM_FIELDS]), (
        "every frozen field says why"
    )
    assert 'name="minutes_per_candidate"' in page and "readonly" in page
    assert '<select disabled id="scoring_rule"' in page or 'disabled id="scoring_rule"' in page
    # The page as shown (read-only values, hidden copies of the selects) saves the free fields.
    response = post(
        hr, url, form_of(exam, name="改名", call_accept_seconds="90", allow_early_finish=None)
    )
    assert response.status_code == 302
    exam = fresh_exam(world)
    assert exam.name == "改名" and exam.call_accept_seconds == 90
    assert exam.allow_early_finish is False


def test_the_frozen_list_names_the_schedule_columns_and_skips_those_not_on_the_form(world):
    assert {"starts_at", "entry_cutoff_at", "entry_cutoff_minutes"} <= set(FROZEN_ONCE_STARTED)
    assert set(SCORING_FIELDS) <= set(FROZEN_ONCE_STARTED)
    assert frozen_fields(world.exam) == {}
    start_first_interview(world)
    frozen = frozen_fields(fresh_exam(world))
    assert set(frozen) == {n for n in FROZEN_ONCE_STARTED if n in EXAM_FIELDS}
    assert "name" not in frozen and "call_accept_seconds" not in frozen


def test_closing_entry_now_still_moves_the_cut_off_and_the_form_keeps_it(world, hr):
    start_first_interview(world)
    moment = world.now + timedelta(minutes=5, seconds=17)
    close_entry_now(world.exam.id, world.hr, moment)
    exam = fresh_exam(world)
    assert exam.entry_cutoff_at == moment
    # The form shows the minute; saving it unchanged must neither be refused nor cut the seconds.
    response = post(hr, f"/hr/exams/{exam.id}/edit", form_of(exam, name="改名"))
    assert response.status_code == 302
    exam = fresh_exam(world)
    assert exam.entry_cutoff_at == moment and exam.name == "改名"


def test_entry_closed_before_the_start_still_lets_the_form_save(world, hr):
    """Found on the demo in a browser: everyone in early, HR closed entry before the 开考时间;
    the form then refused every save ("入场截止须不早于开考时间") for the cut-off it had not
    typed. The stored cut-off stays allowed; a new one before the start is still refused."""
    exam = fresh_exam(world)
    exam.starts_at = world.now + timedelta(minutes=10)
    db.session.commit()
    close_entry_now(world.exam.id, world.hr, world.now + timedelta(seconds=30))
    exam = fresh_exam(world)
    assert exam.entry_cutoff_at < exam.starts_at
    response = post(hr, f"/hr/exams/{exam.id}/edit", form_of(exam, name="改名"))
    assert response.status_code == 302
    assert fresh_exam(world).name == "改名"
    earlier = exam.entry_cutoff_at - timedelta(minutes=5)
    response = post(hr, f"/hr/exams/{exam.id}/edit", form_of(exam, entry_cutoff_at=_typed(earlier)))
    assert response.status_code == 400
    assert "入场截止须不早于开考时间" in response.get_data(as_text=True)


def test_a_later_start_never_moves_the_moment_interviews_started(world):
    other = world.add_other_panel("chief2")
    start_first_interview(world, world.now)
    second = in_room(world, other, lot=2)
    from app.models import User

    chief2 = db.session.scalar(sa.select(User).filter_by(username="chief2"))
    perform(second.id, "start_timer", Actor.staff(chief2), world.now + timedelta(minutes=3))
    assert fresh_exam(world).interviews_started_at == world.now


def test_two_panels_starting_at_once_set_the_start_once(app, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite allows one writer at a time)")
    other = world.add_other_panel("chief2")
    first, second = in_room(world), in_room(world, other, lot=2)
    from app.models import User

    chiefs = [world.chief.id, db.session.scalar(sa.select(User.id).filter_by(username="chief2"))]
    ids = [first.id, second.id]
    moments = [world.now, world.now + timedelta(seconds=1)]

    def start(i):
        perform(ids[i], "start_timer", Actor.staff(db.session.get(User, chiefs[i])), moments[i])
        return "ok"

    assert at_once(app, 2, start) == ["ok", "ok"]
    db.session.expire_all()
    started = fresh_exam(world).interviews_started_at
    assert started in moments
    # Both clocks run, each by the frozen minutes.
    for cid, moment in zip(ids, moments, strict=True):
        c = db.session.get(Candidate, cid)
        assert c.deadline_at == moment + timedelta(minutes=10)


# --- question sets ------------------------------------------------------------------------------


def question_form(title="题本 A", body="第一题：谈谈你的看法。"):
    return {"title": title, "panel_id": "0", "body": body, "scoring_guide": "", "position": "1"}


def test_question_sets_change_until_the_first_start_then_are_refused(world, hr):
    base = f"/hr/exams/{world.exam.id}/questions"
    assert post(hr, f"{base}/new", question_form()).status_code == 302
    (qs,) = db.session.scalars(sa.select(QuestionSet)).all()
    assert post(hr, f"{base}/{qs.id}", question_form(title="题本 A1")).status_code == 302
    assert post(hr, f"{base}/new", question_form(title="备用")).status_code == 302
    spare = db.session.scalar(sa.select(QuestionSet.id).filter_by(title="备用"))
    assert post(hr, f"{base}/{spare}/delete", {}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(QuestionSet.id).filter_by(title="备用")) is None

    start_first_interview(world)
    frozen = "面试已开始，题本不能再添加、修改或删除"
    response = post(hr, f"{base}/new", question_form(title="新题本"))
    assert response.status_code == 400 and frozen in response.get_data(as_text=True)
    response = post(hr, f"{base}/{qs.id}", question_form(title="改了", body="泄露"))
    assert response.status_code == 400 and frozen in response.get_data(as_text=True)
    response = post(hr, f"{base}/{qs.id}/delete", {})
    assert response.status_code == 302
    db.session.expire_all()
    titles = [q.title for q in db.session.scalars(sa.select(QuestionSet))]
    assert titles == ["题本 A1"]
    assert frozen in hr.get(base).get_data(as_text=True)
    listing = hr.get(base).get_data(as_text=True)
    assert "添加题本</a>" not in listing and ">删除</button>" not in listing
    assert 'value="保存"' not in hr.get(f"{base}/{qs.id}").get_data(as_text=True)
    kinds = {e.kind for e in db.session.scalars(sa.select(AuditEvent))}
    assert "question_set.deleted" in kinds  # the one before the start only
    deleted = db.session.scalars(sa.select(AuditEvent).filter_by(kind="question_set.deleted"))
    assert len(list(deleted)) == 1


# --- 允许提前结束面试 -----------------------------------------------------------------------------


def early_finish(world, allowed: bool):
    world.exam.allow_early_finish = allowed
    db.session.commit()
    c = in_room(world)
    perform(c.id, "start_timer", Actor.staff(world.chief), world.now)
    return c


def test_with_early_finish_off_neither_candidate_nor_chief_may_end_before_zero(world):
    c = early_finish(world, allowed=False)
    almost = world.now + timedelta(minutes=9, seconds=59)
    with refusal("early_finish_off"):
        perform(c.id, "finish", Actor.of_candidate(c), almost)
    with refusal("early_finish_off"):
        perform(c.id, "finish", Actor.staff(world.chief), almost)
    assert db.session.get(Candidate, c.id).state == S.INTERVIEWING
    # At zero the system ends it, at the deadline itself.
    zero = world.now + timedelta(minutes=10)
    settle(db.session.get(Candidate, c.id), zero)
    db.session.expire_all()
    done = db.session.get(Candidate, c.id)
    assert done.state == S.FINISHED and done.finished_at == zero


def test_with_early_finish_on_the_candidate_and_the_chief_may_end_early(world):
    c = early_finish(world, allowed=True)
    perform(c.id, "finish", Actor.of_candidate(c), world.now + timedelta(minutes=4))
    assert db.session.get(Candidate, c.id).state == S.FINISHED
    other = in_room(world, lot=2)
    later = world.now + timedelta(minutes=20)
    perform(other.id, "start_timer", Actor.staff(world.chief), later)
    perform(other.id, "finish", Actor.staff(world.chief), later + timedelta(minutes=1))
    assert db.session.get(Candidate, other.id).state == S.FINISHED


@pytest.mark.parametrize("allowed", [True, False])
def test_the_finish_buttons_are_offered_only_when_early_finish_is_on(app, world, allowed):
    c = early_finish(world, allowed)
    me = CandidateBrowser(app.test_client())
    chief = signed_in_staff(app, "chief")
    with time_machine.travel(world.now + timedelta(minutes=3), tick=False):
        assert me.enter_code(c.code).status_code in (302, 303)
        html = me.html()
        room = chief.get(f"/examiner/panels/{world.panel.id}").get_data(as_text=True)
    assert ("面试结束</button>" in html) is allowed
    assert ("本场考试不允许提前结束面试" in html) is not allowed
    assert (">结束面试</button>" in room) is allowed
    assert ("本场不允许提前结束面试" in room) is not allowed
    with time_machine.travel(world.now + timedelta(minutes=3), tick=False):
        response = me.post("/me/finish")
    if not allowed:
        assert "本场考试不允许提前结束面试" in response.get_data(as_text=True)
        assert db.session.get(Candidate, c.id).state == S.INTERVIEWING


def test_the_exam_form_offers_early_finish_ticked_for_a_new_exam(world, hr):
    page = hr.get("/hr/exams/new").get_data(as_text=True)
    assert "允许提前结束面试" in page
    assert 'checked id="allow_early_finish"' in page or (
        'id="allow_early_finish"' in page
        and "checked" in page.split('id="allow_early_finish"')[0][-80:]
    )
