"""The examiner console over HTTP: queue, the chief's buttons, the clock, questions, notices,
who may do what, and that no examiner page ever shows who a candidate is."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app import db
from app.journey import Actor, Refused, assign_missing_lots, perform
from app.models import (
    AuditEvent,
    Broadcast,
    Call,
    Candidate,
    Panel,
    PanelMember,
    QuestionSet,
    Role,
)
from app.models.candidate import CandidateState as S
from tests.candidate_client import CandidateBrowser
from tests.conftest import StaffActions, at_once, csrf_token_from
from tests.factories import World, gen_user
from tests.static_urls import static_url

HX = {"HX-Request": "true"}
QUESTION = "第一题：谈谈你对“一网通办”的看法。"
GUIDE = "好：辩证分析，建议可行。"


class ExaminerBrowser:
    """One signed-in examiner on the console of a panel; keeps every page it was shown."""

    def __init__(self, app, username, panel_id, shown):
        self.client = app.test_client()
        assert StaffActions(self.client).login(username).status_code == 302
        self.panel_id = panel_id
        self.token = None
        self.shown = shown

    def _keep(self, response):
        self.shown.append(response.get_data(as_text=True))
        return response

    def get(self, path="", htmx=False, **kw):
        return self._keep(
            self.client.get(
                f"/examiner/panels/{self.panel_id}{path}", headers=HX if htmx else {}, **kw
            )
        )

    def page(self):
        response = self.get()
        if response.status_code == 200:
            self.token = csrf_token_from(response.get_data(as_text=True))
        return response

    def post(self, path, data=None, htmx=True, panel_id=None):
        if self.token is None:
            self.token = csrf_token_from(
                self.client.get("/staff/login", follow_redirects=True).get_data(as_text=True)
            )
        headers = {"X-CSRFToken": self.token, **(HX if htmx else {})}
        url = f"/examiner/panels/{panel_id or self.panel_id}{path}"
        return self._keep(self.client.post(url, data=data or {}, headers=headers))

    def act(self, candidate, action, htmx=True):
        return self.post(f"/candidates/{candidate.id}/{action}", htmx=htmx)


@pytest.fixture
def world(app):
    w = World()
    db.session.add(
        QuestionSet(exam_id=w.exam.id, title="题本 A", body=QUESTION, scoring_guide=GUIDE)
    )
    db.session.commit()
    return w


@pytest.fixture
def shown():
    """Every body an examiner browser received; checked for names at the end of each test."""
    return []


@pytest.fixture
def chief(app, world, shown):
    return ExaminerBrowser(app, "chief", world.panel.id, shown)


@pytest.fixture
def examiner(app, world, shown):
    return ExaminerBrowser(app, "examiner2", world.panel.id, shown)


@pytest.fixture(autouse=True)
def _no_identity_on_examiner_pages(request, world, shown):
    """Names, ID numbers, phones and positions never reach an examiner (考生 07 only)."""
    yield
    secrets = []
    for c in db.session.scalars(select(Candidate)):
        secrets += [c.name, c.id_number, c.masked_id_number, c.phone, c.position]
    for body in shown:
        for secret in secrets:
            assert secret not in body, f"{secret!r} shown to an examiner"


def reload(c):
    return db.session.get(Candidate, c.id, populate_existing=True)


def after_cutoff(world, seconds=0):
    return world.now + timedelta(minutes=30, seconds=seconds)


def queue_up(world, n=3):
    """Everyone waiting with a lot; returns them in lot order."""
    for c in world.candidates[:n]:
        world.to_waiting(c)
    assign_missing_lots(world.exam.id, after_cutoff(world))
    return sorted((reload(c) for c in world.candidates[:n]), key=lambda c: c.lot_number)


def in_room(world, chief_user_id=None, at=None):
    """The lowest lot called and accepted; returns the candidate."""
    at = at or after_cutoff(world)
    first = queue_up(world)[0]
    perform(first.id, "call_interview", Actor.staff(world.chief), at)
    perform(first.id, "accept_interview", world.as_candidate(first), at + timedelta(seconds=5))
    return reload(first)


# --- pages and access -----------------------------------------------------------------------------


def test_home_goes_straight_to_the_only_current_panel(chief, world):
    response = chief.client.get("/examiner/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/examiner/panels/{world.panel.id}"


def test_home_lists_panels_when_there_are_several(app, world, chief):
    other = Panel(
        exam_id=world.exam.id,
        name="第二考场",
        interview_room="ir-e1-cccc",
        rest_room="ir-e1-dddd",
        rest_room_code="888888",
    )
    db.session.add(other)
    db.session.flush()
    db.session.add(PanelMember(panel_id=other.id, user_id=world.chief.id, role="examiner"))
    db.session.commit()
    html = chief.client.get("/examiner/").get_data(as_text=True)
    assert f"/examiner/panels/{world.panel.id}" in html and f"/examiner/panels/{other.id}" in html


def test_console_shows_room_queue_questions_sheet_board_for_chief(world, chief):
    queue_up(world)
    html = chief.page().get_data(as_text=True)
    assert "主考官" in html and "候考队列" in html and "考生 01" in html and "考生 03" in html
    assert QUESTION in html and GUIDE in html
    assert "评分" in html and "成绩公布" in html and "通知候考考生" in html
    assert 'id="broadcast-form"' in html
    assert (
        static_url("js/staff.js") in html
        and static_url("js/examiner.js") in html
        and 'data-etag="p' in html
    )
    # Before the cut-off the lot order is not final: no call button yet.
    assert "入场截止" in html and "call-next" not in html
    with time_machine.travel(after_cutoff(world), tick=False):
        html = chief.page().get_data(as_text=True)
    assert "呼叫下一位：考生 01" in html


def test_a_chief_who_chose_english_gets_the_console_in_english_and_nothing_else_changes(
    world, chief
):
    world.chief.language = "en"
    db.session.commit()
    first = queue_up(world)[0]
    with time_machine.travel(after_cutoff(world), tick=False):
        html = chief.page().get_data(as_text=True)
        assert '<html lang="en">' in html
        assert "Call next: 考生 01" in html and "Queue" in html and "Result board" in html
        assert "呼叫下一位" not in html and "候考队列" not in html
        answer = chief.post("/call-next").get_data(as_text=True)
        assert f"{first.display_name_for_examiners} called, waiting for the candidate" in answer
    assert reload(first).state == S.INTERVIEW_CALLED


def test_the_console_is_laid_out_as_one_screen_with_views_one_click_away(world, chief):
    """The page's structure that examiner.css lays out for a laptop (the browser test checks the
    pixels): the room band and the call, the questions above my sheet, and a tab for each of the
    other views, each naming the panel it shows."""
    in_room(world)
    html = chief.page().get_data(as_text=True)
    assert (
        static_url("css/examiner.css") in html and 'data-console-workspace data-view="work"' in html
    )
    work = html.index('id="console-work"')
    assert html.index('id="questions"', work) < html.index('id="scoring"', work)
    for view, panel in (
        ("work", "console-work"),
        ("queue", "room-queue"),
        ("board", "result-board"),
        ("notices", "console-notices"),
        ("guard", "room-guard"),
    ):
        assert f'data-view-button="{view}" aria-controls="{panel}"' in html
        assert f'id="{panel}"' in html
    assert 'class="room-now card"' in html and 'id="interview-call"' in html


def test_a_plain_examiner_sees_everything_but_no_buttons(world, examiner):
    queue_up(world)
    with time_machine.travel(after_cutoff(world), tick=False):
        html = examiner.page().get_data(as_text=True)
    assert "考生 01" in html and QUESTION in html and GUIDE in html
    assert "call-next" not in html and 'id="broadcast-form"' not in html
    assert 'data-jitsi-role="examiner"' in html and 'data-jitsi-record="false"' in html


@pytest.mark.parametrize("path", ["", "/room", "/call-status", "/scoring", "/board"])
def test_examiner_pages_need_sign_in_the_role_and_the_panel(app, world, path):
    anonymous = app.test_client().get(f"/examiner/panels/{world.panel.id}{path}")
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.headers["Location"]
    htmx_anonymous = app.test_client().get(f"/examiner/panels/{world.panel.id}{path}", headers=HX)
    assert (
        htmx_anonymous.status_code == 200
        and "/staff/login" in htmx_anonymous.headers["HX-Redirect"]
    )
    assistant = app.test_client()
    StaffActions(assistant).login("assistant")
    assert assistant.get(f"/examiner/panels/{world.panel.id}{path}").status_code == 403
    gen_user("stranger", role=Role.EXAMINER)
    stranger = app.test_client()
    StaffActions(stranger).login("stranger")
    assert stranger.get(f"/examiner/panels/{world.panel.id}{path}").status_code == 403
    assert stranger.get(f"/examiner/panels/9999{path}").status_code == 404


def test_an_examiner_of_another_panel_cannot_act_here(app, world, shown):
    c = in_room(world)
    other = world.add_other_panel("chief-b")
    browser = ExaminerBrowser(app, "chief-b", other.id, shown)
    assert browser.page().status_code == 200
    # Their own panel in the URL, our candidate: no such candidate there.
    assert browser.act(c, "start-timer").status_code == 404
    # Our panel in the URL: not theirs.
    browser.panel_id = world.panel.id
    assert browser.post("/call-next").status_code == 403
    assert browser.act(c, "start-timer").status_code == 403
    assert browser.post("/broadcast", {"message": "x"}).status_code == 403
    assert reload(c).timer_started_at is None


@pytest.mark.parametrize("action", ["call-next", "send-back", "start-timer", "finish", "broadcast"])
def test_a_plain_examiner_is_refused_every_chief_move(world, examiner, action):
    c = in_room(world)
    examiner.page()
    path = f"/{action}" if action in ("call-next", "broadcast") else f"/candidates/{c.id}/{action}"
    version = reload(c).version
    assert examiner.post(path, {"message": "推迟"}).status_code == 403
    assert reload(c).version == version
    assert db.session.scalar(select(func.count(Broadcast.id))) == 0


def test_an_unknown_action_is_404(world, chief):
    c = in_room(world)
    assert chief.act(c, "disqualify").status_code == 404


# --- calling, accepting, lapsing, sending back ----------------------------------------------------


def test_call_next_calls_the_lowest_lot_and_the_room_shows_the_ring(world, chief):
    ordered = queue_up(world)
    chief.page()
    with time_machine.travel(after_cutoff(world), tick=False):
        response = chief.post("/call-next")
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and response.headers["HX-Trigger"] == "console-refresh"
        assert "已呼叫考生 01" in html and "hx-swap-oob" in html
        assert (
            "等待考生接受" in html and "取消呼叫" in html and 'data-countdown-simple="60"' in html
        )
        assert reload(ordered[0]).state == S.INTERVIEW_CALLED
        # A second call while the room is busy is refused with the journey's reason.
        refused = chief.post("/call-next")
        assert refused.status_code == 409 and "面试间内还有考生" in refused.get_data(as_text=True)
    call = db.session.scalars(select(Call).filter_by(kind="interview")).one()
    assert call.candidate_id == ordered[0].id and call.room == world.panel.interview_room


def test_call_next_before_the_cutoff_or_with_nobody_waiting_is_refused(world, chief):
    queue_up(world, 1)
    chief.page()
    early = chief.post("/call-next")
    assert early.status_code == 409 and "入场截止后方可呼叫" in early.get_data(as_text=True)
    for c in world.candidates[1:]:
        perform(c.id, "confirm", world.as_candidate(c), world.now)
    with time_machine.travel(after_cutoff(world), tick=False):
        chief.post("/call-next")  # the only one waiting
        c = reload(world.candidates[0])
        perform(c.id, "accept_interview", world.as_candidate(c), after_cutoff(world, 3))
        perform(c.id, "start_timer", Actor.staff(world.chief), after_cutoff(world, 10))
        perform(c.id, "finish", Actor.staff(world.chief), after_cutoff(world, 60))
        empty = chief.post("/call-next")
    assert empty.status_code == 409 and "没有候考的考生" in empty.get_data(as_text=True)


def test_a_call_not_accepted_in_60_seconds_goes_to_the_back_of_the_queue_and_counts(world, chief):
    """A candidate who has left must not hold up the panel: a missed call defers them (顺延)."""
    first, second, third = queue_up(world)
    chief.page()
    with time_machine.travel(after_cutoff(world), tick=False):
        chief.post("/call-next")
    with time_machine.travel(after_cutoff(world, 61), tick=False):
        html = chief.get("/room", htmx=True).get_data(as_text=True)
    first = reload(first)
    assert first.state == S.WAITING and first.missed_calls == 1
    assert "面试间空闲" in html and 'class="badge warn">1<' in html and "已顺延" in html
    assert db.session.scalars(select(Call.outcome).filter_by(kind="interview")).one() == "lapsed"
    assert f"呼叫下一位：{second.display_name_for_examiners}" in html
    # The next call rings the next lot; the deferred candidate comes after everyone else.
    with time_machine.travel(after_cutoff(world, 62), tick=False):
        chief.post("/call-next")
    assert reload(second).state == S.INTERVIEW_CALLED and reload(first).state == S.WAITING
    refused = perform_refusal(first.id, "call_interview", world, after_cutoff(world, 63))
    assert refused == "room_busy"
    for c, start in ((second, 70), (third, 200)):
        if c is third:
            perform(c.id, "call_interview", Actor.staff(world.chief), after_cutoff(world, start))
        perform(c.id, "accept_interview", world.as_candidate(c), after_cutoff(world, start + 1))
        perform(c.id, "start_timer", Actor.staff(world.chief), after_cutoff(world, start + 2))
        perform(c.id, "finish", Actor.staff(world.chief), after_cutoff(world, start + 60))
    with time_machine.travel(after_cutoff(world, 400), tick=False):
        chief.post("/call-next")
    assert reload(first).state == S.INTERVIEW_CALLED


def perform_refusal(candidate_id, move, world, at):
    try:
        perform(candidate_id, move, Actor.staff(world.chief), at)
    except Refused as refused:
        return refused.code
    return None


def test_the_chief_records_a_candidate_who_never_came_as_absent(app, world, chief, examiner):
    first, second, _ = queue_up(world)
    chief.page()
    # Nobody who has not missed a call can be recorded absent, not even by URL.
    with time_machine.travel(after_cutoff(world, 1), tick=False):
        response = chief.act(first, "no-show")
    assert response.status_code == 409 and "尚未错过面试呼叫" in response.get_data(as_text=True)
    assert reload(first).state == S.WAITING
    with time_machine.travel(after_cutoff(world, 2), tick=False):
        chief.post("/call-next")
    with time_machine.travel(after_cutoff(world, 63), tick=False):
        html = chief.get("/room", htmx=True).get_data(as_text=True)
        assert ">记为缺考</button>" in html
        response = chief.act(first, "no-show")
    assert response.status_code == 200 and "已记为缺考" in response.get_data(as_text=True)
    first = reload(first)
    assert first.state == S.ABSENT
    (event,) = db.session.scalars(select(AuditEvent).filter_by(kind="journey.mark_no_show")).all()
    assert event.candidate_id == first.id
    # The candidate, if they come back, is told why.
    me = CandidateBrowser(app.test_client())
    me.enter_code(first.code)
    assert "主考官呼叫后您未进入面试间，已按缺考处理" in me.html()
    # Only the chief records it.
    examiner.page()
    with time_machine.travel(after_cutoff(world, 64), tick=False):
        assert examiner.act(second, "no-show").status_code == 403
    assert reload(second).state == S.WAITING


def test_a_wrongly_called_candidate_is_sent_back_before_the_timer_only(world, chief):
    c = in_room(world)
    chief.page()
    with time_machine.travel(after_cutoff(world, 20), tick=False):
        response = chief.act(c, "send-back")
    assert response.status_code == 200 and "已退回候考" in response.get_data(as_text=True)
    assert reload(c).state == S.WAITING
    perform(c.id, "call_interview", Actor.staff(world.chief), after_cutoff(world, 30))
    perform(c.id, "accept_interview", world.as_candidate(c), after_cutoff(world, 35))
    perform(c.id, "start_timer", Actor.staff(world.chief), after_cutoff(world, 40))
    with time_machine.travel(after_cutoff(world, 50), tick=False):
        refused = chief.act(c, "send-back")
    assert refused.status_code == 409 and "计时已开始" in refused.get_data(as_text=True)
    assert reload(c).state == S.INTERVIEWING


def test_the_room_shows_the_rest_room_code_to_tell_the_candidate_before_the_end(world, chief):
    """SEED 003: 面试结束前…会再次告知考生的休息室邀请码."""
    c = in_room(world)
    chief.page()
    with time_machine.travel(after_cutoff(world, 20), tick=False):
        chief.act(c, "start-timer")
        html = chief.get("/room", htmx=True).get_data(as_text=True)
    assert "休息室邀请码" in html and '<strong class="rest-room-code">999999</strong>' in html


def test_without_htmx_the_buttons_are_plain_forms_answered_with_a_flash(world, chief):
    c = in_room(world)
    chief.page()
    with time_machine.travel(after_cutoff(world, 20), tick=False):
        response = chief.act(c, "start-timer", htmx=False)
        assert response.status_code == 302
        page = chief.page().get_data(as_text=True)
        assert "已开始计时" in page
        again = chief.act(c, "start-timer", htmx=False)
        assert again.status_code == 302
        assert "计时已开始" in chief.page().get_data(as_text=True)


# --- the clock ------------------------------------------------------------------------------------


def test_start_timer_records_from_then_and_the_end_button_ends(world, chief, examiner):
    c = in_room(world)
    chief.page()
    with time_machine.travel(after_cutoff(world, 20), tick=False):
        html = chief.get().get_data(as_text=True)
        assert 'data-jitsi-role="chief"' in html and 'data-jitsi-record="false"' in html
        assert "请宣读考生须知" in html and ">开始计时</button>" in html
        response = chief.act(c, "start-timer")
        html = response.get_data(as_text=True)
    assert response.status_code == 200
    # The running call is asked to record (issue 6), not re-rendered: a rejoin would drop video.
    assert 'id="interview-call"' not in html
    assert json.loads(response.headers["HX-Trigger"]) == {
        "console-refresh": None,
        "ir:start-recording": {"room": world.panel.interview_room},
    }
    c = reload(c)
    assert c.deadline_at == after_cutoff(world, 20) + timedelta(minutes=10)
    with time_machine.travel(after_cutoff(world, 80), tick=False):
        assert 'data-jitsi-record="true"' in chief.get().get_data(as_text=True)
        assert 'data-jitsi-record="false"' in examiner.get().get_data(as_text=True)
        ended = chief.act(c, "finish")
    assert ended.status_code == 200 and "面试已结束" in ended.get_data(as_text=True)
    c = reload(c)
    assert c.state == S.FINISHED and c.finished_at == after_cutoff(world, 80)
    kinds = list(
        db.session.scalars(
            select(AuditEvent.kind).where(AuditEvent.candidate_id == c.id).order_by(AuditEvent.id)
        )
    )
    assert kinds[-2:] == ["journey.start_timer", "journey.finish"]


def test_every_examiner_sees_the_clock_turn_amber_at_3_and_red_at_1_minute(world, chief, examiner):
    c = in_room(world)
    started = after_cutoff(world, 20)
    perform(c.id, "start_timer", Actor.staff(world.chief), started)

    def room_at(seconds, who=examiner):
        with time_machine.travel(started + timedelta(seconds=seconds), tick=False):
            response = who.get("/room", htmx=True)
        return response, response.get_data(as_text=True)

    _response, html = room_at(60)
    assert 'data-examiner-countdown="540"' in html and ">09:00<" in html
    assert "countdown-warn" not in html and "countdown-danger" not in html
    # No reminder said yet (the words wait in data-warn-text for examiner.js).
    assert 'data-alert-value="0"' in html and 'data-examiner-reminder data-alert="reminder-' in html
    assert re.search(r"data-examiner-reminder[^>]*>\s*</p>", html)
    # The first second of a 15 s re-sync bucket, and the next one: the same version.
    bucket_start = 60 + (-int((started + timedelta(seconds=60)).timestamp())) % 15
    etag = room_at(bucket_start)[0].headers["ETag"].strip('"')
    _, html = room_at(600 - 180, chief)
    assert 'class="countdown countdown-warn"' in html and "还剩 3 分钟" in html
    assert f'data-alert="reminder-{c.id}" data-alert-value="1"' in html
    _, html = room_at(600 - 181)
    assert "countdown-warn" not in html
    _, html = room_at(600 - 60)
    assert 'class="countdown countdown-danger"' in html and "还剩 1 分钟" in html
    assert 'data-alert-value="2"' in html
    # The poll: unchanged within the same level and 15 s bucket answers 304 without a body.
    with time_machine.travel(started + timedelta(seconds=bucket_start + 1), tick=False):
        cached = examiner.client.get(
            f"/examiner/panels/{world.panel.id}/room", headers={**HX, "If-None-Match": f'"{etag}"'}
        )
    assert cached.status_code == 304 and cached.get_data() == b""
    # A new level is a new version at once, even inside the same 15 s bucket.
    with time_machine.travel(started + timedelta(seconds=419), tick=False):
        before = examiner.get("/room", htmx=True).headers["ETag"]
    with time_machine.travel(started + timedelta(seconds=420), tick=False):
        after = examiner.get("/room", htmx=True).headers["ETag"]
    assert before != after
    # At zero the candidate is out, whoever looks.
    _, html = room_at(601)
    assert reload(c).state == S.FINISHED and "面试间空闲" in html


def test_reading_time_comes_before_the_answer_clock(world, chief):
    world.exam.reading_minutes = 2  # 看题时间, per exam
    db.session.commit()
    c = in_room(world)
    chief.page()
    started = after_cutoff(world, 20)
    with time_machine.travel(started, tick=False):
        chief.act(c, "start-timer")
    with time_machine.travel(started + timedelta(seconds=30), tick=False):
        html = chief.get("/room", htmx=True).get_data(as_text=True)
    assert "看题时间" in html and 'data-examiner-countdown="90"' in html and "结束面试" in html
    with time_machine.travel(started + timedelta(seconds=150), tick=False):
        html = chief.get("/room", htmx=True).get_data(as_text=True)
    assert "答题剩余时间" in html and 'data-examiner-countdown="570"' in html
    assert reload(c).deadline_at == started + timedelta(minutes=12)


# --- notices and the call badges ------------------------------------------------------------------


def test_the_chief_posts_a_notice_to_everyone_waiting(world, chief, examiner):
    chief.page()
    response = chief.post("/broadcast", {"message": "面试推迟10分钟开始，请耐心等候。"})
    assert response.status_code == 200 and "通知已发布" in response.get_data(as_text=True)
    notice = db.session.scalars(select(Broadcast)).one()
    assert notice.panel_id == world.panel.id and notice.created_by_id == world.chief.id
    assert "面试推迟10分钟开始" in examiner.page().get_data(as_text=True)
    empty = chief.post("/broadcast", {"message": "  "})
    assert empty.status_code == 422 and "请填写通知内容" in empty.get_data(as_text=True)


def test_call_status_fragment_shows_who_is_in_the_call(world, chief):
    from app.day.call_status import record_event

    record_event(world.panel.interview_room, "videoConferenceJoined", who="candidate:c1")
    html = chief.get("/call-status", htmx=True).get_data(as_text=True)
    assert "考生已入会" in html and "no-store" in chief.get("/call-status").headers["Cache-Control"]


# --- the race ---------------------------------------------------------------------------------------


def test_two_clicks_on_call_next_at_once_call_exactly_one_candidate(app, world, shown):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite allows one writer at a time)")
    queue_up(world)
    browsers = [ExaminerBrowser(app, "chief", world.panel.id, shown) for _ in range(2)]
    for browser in browsers:
        browser.page()
    # The clock is moved once for both threads (time-machine's travel is process-wide).
    with time_machine.travel(after_cutoff(world), tick=False):
        results = at_once(app, 2, lambda i: browsers[i].post("/call-next").status_code)
    assert sorted(results) == [200, 409], results
    assert db.session.scalar(select(func.count(Call.id)).where(Call.kind == "interview")) == 1
    called = db.session.scalars(select(Candidate).filter_by(state=S.INTERVIEW_CALLED)).all()
    assert len(called) == 1 and called[0].lot_number == 1


def test_examiners_see_the_questions_before_the_candidate_who_gets_them_with_the_clock(
    app, world, chief
):
    from tests.candidate_client import CandidateBrowser

    c = in_room(world)
    candidate = CandidateBrowser(app.test_client())
    with time_machine.travel(after_cutoff(world, 10), tick=False):
        assert candidate.enter_code(c.code).status_code in (302, 303)
        assert QUESTION in chief.page().get_data(as_text=True)
        assert QUESTION not in candidate.html()
        chief.act(c, "start-timer")
        assert QUESTION in candidate.html()
