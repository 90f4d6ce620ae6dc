"""The candidate's pages: every stage, every action and its refusal, the poll, time edges."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from app import db
from app.journey import Actor, perform
from app.models import AuditEvent, Candidate, CandidateResult, HelpRequest, QuestionSet
from app.models.candidate import CandidateState as S
from tests.candidate_client import CandidateBrowser
from tests.factories import World
from tests.static_urls import static_url

SECRET = "请谈谈你对基层治理中“最后一公里”问题的理解"


@pytest.fixture
def world(app):
    return World()


@pytest.fixture
def me(world, client):
    browser = CandidateBrowser(client)
    assert browser.enter_code(world.candidates[0].code).status_code == 303
    return browser


def fresh(candidate) -> Candidate:
    db.session.expire_all()
    return db.session.get(Candidate, candidate.id)


def events(kind: str, candidate=None) -> list[AuditEvent]:
    query = select(AuditEvent).filter_by(kind=kind).order_by(AuditEvent.id)
    if candidate is not None:
        query = query.filter_by(candidate_id=candidate.id)
    return db.session.scalars(query).all()


def at(world, **delta):
    return time_machine.travel(world.now + timedelta(**delta), tick=False)


def to_interviewing(world, c):
    """Waiting with lot 1, called and accepted after the cut-off (30 min after world.now)."""
    world.to_waiting(c)
    perform(c.id, "draw_lot", world.as_candidate(c), world.now + timedelta(minutes=2))
    after = world.now + timedelta(minutes=31)
    perform(c.id, "call_interview", Actor.staff(world.chief), after)
    perform(c.id, "accept_interview", world.as_candidate(c), after + timedelta(seconds=5))
    return after


# --- every stage renders ---------------------------------------------------------------------


def test_every_stage_of_the_way_renders_its_page(world, me):
    c = world.candidates[0]
    chief, assistant = Actor.staff(world.chief), Actor.staff(world.assistant)

    def shows(*texts):
        html = me.html()
        for text in texts:
            assert text in html, text
        assert "求助" in html and static_url("js/candidate.js") in html
        assert 'hx-get="/me/state?stage=' in html  # every live stage polls
        return html

    shows("确认参加", "放弃参加", "综合管理岗")
    me.post("/me/confirm", htmx=False)
    shows("考前准备", "考试附件", "已阅", "设备检测", "data-device-check", "允许")
    world.read_notices(c)
    perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    shows("调试等候间", "请等待面试助理呼叫")
    perform(c.id, "call_debug", assistant, world.now)
    shows("面试助理正在呼叫您", "接受", 'data-seconds-left="')
    perform(c.id, "accept_debug", world.as_candidate(c), world.now)
    shows("设备调试", "摄像头")
    perform(c.id, "check_identity", assistant, world.now)
    perform(c.id, "mark_debugged", assistant, world.now)
    shows("您已调试完毕，请再次输入邀请码进入面试等待室。", "确认")
    # SEED 003: 点击确认回到初始登录界面，再次输入邀请码 → the waiting room
    code_page = me.client.get("/").get_data(as_text=True)
    assert "您已调试完毕，请再次输入邀请码进入面试等待室。" in code_page
    assert me.enter_code(c.code).headers["Location"] == "/me"
    assert fresh(c).state == S.WAITING
    shows("面试等待室", "抽签")
    me.post("/me/draw-lot", htmx=False)
    lot = fresh(c).lot_number
    shows(f"您的签号：<strong>{lot}</strong>")
    after = world.now + timedelta(minutes=31)
    with time_machine.travel(after, tick=False):
        perform(c.id, "call_interview", chief, after)
        shows("面试考官正在呼叫您", "接受")
        perform(c.id, "accept_interview", world.as_candidate(c), after)
        shows("面试间", "请等待主考官宣读考生须知")
        perform(c.id, "start_timer", chief, after)
        shows("作答剩余时间", "面试结束", 'role="timer"')
        perform(c.id, "finish", chief, after + timedelta(minutes=5))
        html = shows("您的面试已结束!", "休息室邀请码", "999999", "知道了", "成绩待公布")
        assert "确认成绩" not in html
        # 知道了 → the code page, where the rest-room code leads into the rest room
        assert "休息室邀请码" in me.client.get("/").get_data(as_text=True)
        assert me.enter_code("999999").headers["Location"] == "/me"
        assert fresh(c).state == S.RESTING
        shows("休息室", "双手放在桌面上")
        perform(c.id, "release", assistant, after + timedelta(minutes=30))
        html = me.html()
        assert "您已离场" in html


@pytest.mark.parametrize("move,heading", [("decline", "您已放弃参加本场面试"), ("absent", "缺考")])
def test_final_stages_render_without_polling(world, me, move, heading):
    c = world.candidates[0]
    if move == "decline":
        assert me.post("/me/decline", htmx=False).status_code == 303
        html = me.html()
    else:
        perform(c.id, "confirm", world.as_candidate(c), world.now)
        with at(world, minutes=31):  # confirmed but never in the waiting room by the cut-off
            html = me.html()
    assert heading in html and "求助" in html
    assert "hx-get" not in html and "hx-trigger" not in html
    assert fresh(c).state in (S.DECLINED, S.ABSENT)


def test_code_page_for_a_debugged_candidate_after_the_cutoff_still_lets_her_in(world, me):
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    perform(c.id, "accept_debug", world.as_candidate(c), world.now)
    perform(c.id, "check_identity", Actor.staff(world.assistant), world.now)
    perform(c.id, "mark_debugged", Actor.staff(world.assistant), world.now)
    with at(world, minutes=30):
        html = me.html()  # in by the cut-off (debugged): not absent, may still enter (公平截止)
    assert "仍可进入面试等待室" in html and "已按缺考处理" not in html
    assert fresh(c).state == S.DEBUGGED


# --- actions and refusals -------------------------------------------------------------------


def test_a_refused_action_says_why_in_chinese_and_changes_nothing(world, me):
    c = world.candidates[0]
    assert me.post("/me/confirm").headers.get("HX-Redirect") == "/me"
    before = fresh(c).version
    for url, text in [
        ("/me/confirm", "不能"),  # already confirmed
        ("/me/enter-debug", "请先阅读全部考试附件"),
        ("/me/accept", "呼叫已超时或已结束"),
        ("/me/draw-lot", ""),
        ("/me/finish", ""),
    ]:
        response = me.post(url)
        assert response.status_code == 409, url
        body = response.get_data(as_text=True)
        assert re.search(r"[\u4e00-\u9fff]", body) and text in body, (url, body)
    assert fresh(c).version == before and fresh(c).state == S.CONFIRMED


def test_plain_form_refusal_flashes_on_the_page(world, me):
    me.post("/me/confirm")
    response = me.post("/me/enter-debug", htmx=False)
    assert response.status_code == 303
    assert "请先阅读全部考试附件" in me.html()


def test_notices_are_acknowledged_then_the_debug_room_opens(world, me):
    c = world.candidates[0]
    me.post("/me/confirm")
    response = me.post(f"/me/notices/{world.notice.id}/ack")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "已阅" in body and 'hx-swap-oob="true"' in body
    assert "disabled" not in body.split('id="continue"')[1]
    me.post(f"/me/notices/{world.notice.id}/ack")  # twice: still one acknowledgement
    assert len(events("candidate.notice_ack", c)) == 1
    assert me.post("/me/enter-debug").headers.get("HX-Redirect") == "/me"
    assert fresh(c).state == S.DEBUG_WAITING


def test_accepting_the_call_twice_is_harmless(world, me):
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    with at(world, seconds=5):
        perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
        assert me.post("/me/accept").headers.get("HX-Redirect") == "/me"
        assert me.post("/me/accept").headers.get("HX-Redirect") == "/me"
    assert fresh(c).state == S.DEBUGGING
    assert len(events("journey.accept_debug", c)) == 1


def test_finishing_early_needs_the_timer_and_then_works(world, me):
    c = world.candidates[0]
    after = to_interviewing(world, c)
    with time_machine.travel(after + timedelta(minutes=1), tick=False):
        refused = me.post("/me/finish")
        assert refused.status_code == 409 and "计时尚未开始" in refused.get_data(as_text=True)
        perform(c.id, "start_timer", Actor.staff(world.chief), after + timedelta(minutes=1))
        assert me.post("/me/finish").headers.get("HX-Redirect") == "/me"
    assert fresh(c).state == S.FINISHED


# --- the poll --------------------------------------------------------------------------------


def test_poll_answers_304_while_nothing_changed_and_redirects_on_a_stage_change(world, me):
    c = world.candidates[0]
    first = me.poll("invited")
    assert first.status_code == 200 and 'id="status"' in first.get_data(as_text=True)
    assert first.headers["X-Server-Now-Ms"].isdigit()
    etag = first.headers["ETag"].strip('"')
    same = me.poll("invited", etag)
    assert same.status_code == 304 and same.get_data() == b""
    assert same.headers["X-Server-Now-Ms"].isdigit()
    # a reply to a help request changes the fragment, not the stage
    db.session.add(HelpRequest(candidate_id=c.id, message="听不到声音", reply="请检查扬声器"))
    db.session.commit()
    from app.day.poll_versions import bump_candidate

    bump_candidate(c.id)
    changed = me.poll("invited", etag)
    assert changed.status_code == 200 and "工作人员回复：请检查扬声器" in changed.get_data(
        as_text=True
    )
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    moved = me.poll("invited", changed.headers["ETag"].strip('"'))
    assert moved.status_code == 200 and moved.headers["HX-Redirect"] == "/me"


def test_an_unchanged_poll_in_the_waiting_room_is_one_statement(world, me):
    """Thousands poll every 2 s: the candidate, exam and panel come in one SELECT (make bench)."""
    from sqlalchemy import event

    c = world.candidates[0]
    world.to_waiting(c)
    perform(c.id, "draw_lot", world.as_candidate(c), world.now + timedelta(minutes=1))
    with at(world, minutes=2):
        etag = me.poll("waiting").headers["ETag"].strip('"')
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = me.poll("waiting", etag)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 304
    assert "Set-Cookie" not in response.headers  # nothing to re-sign on an unchanged poll
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements


def test_poll_without_htmx_goes_to_the_page_and_signed_out_poll_is_not_swapped(world, client):
    browser = CandidateBrowser(client)
    response = browser.poll("invited")
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/"


def test_takeover_tells_the_first_page(world, app):
    first, second = (
        CandidateBrowser(app.test_client()),
        CandidateBrowser(app.test_client(), "192.0.2.99"),
    )
    first.enter_code("100000")
    assert first.poll("invited").status_code == 200
    second.enter_code("100000")
    response = first.poll("invited")
    assert response.headers["HX-Redirect"] == "/signed-in-elsewhere"
    html = first.client.get("/signed-in-elsewhere").get_data(as_text=True)
    assert "已在其他浏览器登录" in html and "不得多屏登录" in html
    assert second.poll("invited").status_code == 200


# --- the interview: questions, reading time, countdown ---------------------------------------


def test_questions_are_never_sent_before_the_timer_starts(world, me):
    c = world.candidates[0]
    db.session.add(
        QuestionSet(exam_id=world.exam.id, title="第一题", body=SECRET, scoring_guide="要点")
    )
    db.session.commit()
    after = to_interviewing(world, c)
    with time_machine.travel(after + timedelta(seconds=30), tick=False):
        html = me.html()
        assert SECRET not in html and "计时开始后将显示试题" in html
        assert SECRET not in me.poll("interviewing").get_data(as_text=True)
        assert "要点" not in html
        perform(c.id, "start_timer", Actor.staff(world.chief), after + timedelta(seconds=30))
        html = me.html()
    assert SECRET in html and "要点" not in html  # the scoring guide is for examiners only
    assert 'data-seconds-left="600"' in html


def test_reading_time_shows_questions_before_the_answer_clock(app, client):
    world = World(reading_minutes=2)
    c = world.candidates[0]
    db.session.add(QuestionSet(exam_id=world.exam.id, title="第一题", body=SECRET))
    db.session.commit()
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    after = to_interviewing(world, c)
    perform(c.id, "start_timer", Actor.staff(world.chief), after)
    with time_machine.travel(after + timedelta(seconds=30), tick=False):
        html = me.html()
        assert "看题时间" in html and SECRET in html and 'data-seconds-left="90"' in html
        refused = me.post("/me/finish")
        assert refused.status_code == 409 and "看题时间内不能结束面试" in refused.get_data(
            as_text=True
        )
        etag = me.poll("interviewing").headers["ETag"].strip('"')
    with time_machine.travel(after + timedelta(minutes=2, seconds=1), tick=False):
        answering = me.poll("interviewing", etag)  # reading → answering changes the fragment
        assert answering.status_code == 200
        body = answering.get_data(as_text=True)
    assert "作答剩余时间" in body and 'data-seconds-left="599"' in body


def test_countdown_levels_and_zero_moves_the_candidate_out(world, me):
    c = world.candidates[0]
    after = to_interviewing(world, c)
    perform(c.id, "start_timer", Actor.staff(world.chief), after)
    with time_machine.travel(after + timedelta(minutes=7, seconds=30), tick=False):
        assert "countdown-warn" in me.html()
    with time_machine.travel(after + timedelta(minutes=9, seconds=30), tick=False):
        html = me.html()
        assert "countdown-danger" in html and 'data-seconds-left="30"' in html
        etag = me.poll("interviewing").headers["ETag"].strip('"')
    with time_machine.travel(after + timedelta(minutes=10), tick=False):
        response = me.poll("interviewing", etag)
        assert response.headers["HX-Redirect"] == "/me"
        assert "您的面试已结束!" in me.html()
    c = fresh(c)
    assert c.state == S.FINISHED and c.finished_at == after + timedelta(minutes=10)


def test_a_call_not_accepted_in_60_seconds_lapses_and_is_counted(world, me):
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    with at(world, seconds=59):
        assert 'data-seconds-left="1"' in me.html()
    with at(world, seconds=60):
        response = me.poll("debug_waiting")
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and "接受" not in body and "您已错过 1 次呼叫" in body
        refused = me.post("/me/accept")
        assert refused.status_code == 409 and "呼叫已超时" in refused.get_data(as_text=True)
    c = fresh(c)
    assert c.state == S.DEBUG_WAITING and c.missed_calls == 1


def test_reconnecting_mid_interview_lands_in_the_interview_with_time_left(world, app):
    c = world.candidates[0]
    after = to_interviewing(world, c)
    perform(c.id, "start_timer", Actor.staff(world.chief), after)
    with time_machine.travel(after + timedelta(minutes=4), tick=False):
        again = CandidateBrowser(app.test_client(), "198.51.100.20")  # a new browser after a crash
        assert again.enter_code(c.code).headers["Location"] == "/me"
        html = again.html()
    assert "作答剩余时间" in html and 'data-seconds-left="360"' in html
    assert fresh(c).state == S.INTERVIEWING


def test_after_the_login_window_those_inside_may_come_back_and_nobody_new_gets_in(world, app):
    """SEED 000: 如在面试倒计时结束前，可再次进入视频面试房间继续面试 — also after the login window
    has closed (HR may close it at the entry cut-off); it only shuts out those never inside."""
    c, outsider = world.candidates[0], world.candidates[1]
    perform(outsider.id, "confirm", world.as_candidate(outsider), world.now)
    after = to_interviewing(world, c)
    perform(c.id, "start_timer", Actor.staff(world.chief), after)
    world.exam.login_closes_at = after + timedelta(minutes=1)
    db.session.commit()
    with time_machine.travel(after + timedelta(minutes=4), tick=False):
        again = CandidateBrowser(app.test_client(), "198.51.100.20")
        assert again.enter_code(c.code).headers["Location"] == "/me"
        assert "作答剩余时间" in again.html()
        late = CandidateBrowser(app.test_client(), "198.51.100.21").enter_code(outsider.code)
        assert late.status_code == 400 and "登录时间已结束" in late.get_data(as_text=True)
    # Not for ever: a day later the code is refused like any other.
    with time_machine.travel(after + timedelta(hours=13), tick=False):
        stale = CandidateBrowser(app.test_client(), "198.51.100.22").enter_code(c.code)
        assert stale.status_code == 400 and "登录时间已结束" in stale.get_data(as_text=True)


# --- help, visibility -------------------------------------------------------------------------


def test_help_request_is_queued_throttled_and_the_reply_shown(world, me):
    c = world.candidates[0]
    sent = me.post("/help", message="  摄像头打不开  ")
    assert sent.status_code == 200 and "求助已发送" in sent.get_data(as_text=True)
    request_ = db.session.scalars(select(HelpRequest).filter_by(candidate_id=c.id)).one()
    assert request_.message == "摄像头打不开"
    again = me.post("/help", message="还是不行")
    assert again.status_code == 422 and "请勿重复提交" in again.get_data(as_text=True)
    assert me.post("/help", message="").status_code == 422
    assert "已发送，请等待工作人员回复" in me.html()
    request_.reply = "请关闭腾讯会议后重新检测"
    db.session.commit()
    assert "工作人员回复：请关闭腾讯会议后重新检测" in me.html()
    assert len(events("candidate.help", c)) == 1


def test_visibility_beacons_are_logged_and_throttled(world, me):
    """The beacon's rules in full: tests/test_signals.py."""
    c = world.candidates[0]
    world.to_debug_waiting(c)
    with at(world, seconds=5):
        for _ in range(3):
            assert (
                me.post("/me/visibility", htmx=False, kind="hidden", ms="3000").status_code == 204
            )
        assert me.post("/me/visibility", htmx=False, kind="blur", ms="3000").status_code == 204
        assert me.post("/me/visibility", htmx=False, kind="nonsense", ms="3000").status_code == 400
        assert me.post("/me/visibility", htmx=False, kind="hidden").status_code == 400
    logged = events("candidate.suspected_switch", c)
    assert [e.data["signal"] for e in logged] == ["hidden", "blur"]
    assert logged[0].data["label"] == "疑似切屏"
    with at(world, seconds=15):
        me.post("/me/visibility", htmx=False, kind="hidden", ms="3000")
    assert len(events("candidate.suspected_switch", c)) == 3


# --- score ------------------------------------------------------------------------------------


def test_published_score_is_shown_and_its_confirmation_audited(world, me):
    c = world.candidates[0]
    after = to_interviewing(world, c)
    perform(c.id, "start_timer", Actor.staff(world.chief), after)
    perform(c.id, "finish", world.as_candidate(c), after + timedelta(minutes=8))
    refused = me.post("/me/score/ack")
    assert refused.status_code == 409 and "成绩尚未公布" in refused.get_data(as_text=True)
    etag = me.poll("finished").headers["ETag"].strip('"')
    result = CandidateResult(
        candidate_id=c.id, final_score=Decimal("86.5"), published_at=after + timedelta(minutes=9)
    )
    db.session.add(result)
    db.session.commit()
    from app.day.poll_versions import bump_candidate

    bump_candidate(c.id)  # what scoring.confirm/publish do
    shown = me.poll("finished", etag)
    body = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "86.50" in body and "确认成绩" in body
    assert me.post("/me/score/ack").headers.get("HX-Redirect") == "/me"
    me.post("/me/score/ack")  # twice: one signature
    html = me.html()
    assert "已确认" in html and "确认成绩</button>" not in html
    seen = events("score.seen_by_candidate", c)
    assert len(seen) == 1 and seen[0].data["final"] == "86.50"
    assert fresh(c) and db.session.get(CandidateResult, result.id).seen_by_candidate_at is not None


def test_released_page_keeps_looking_for_a_held_score_then_for_corrections(world, me):
    c = world.candidates[0]
    after = to_interviewing(world, c)
    perform(c.id, "start_timer", Actor.staff(world.chief), after)
    perform(c.id, "finish", world.as_candidate(c), after + timedelta(minutes=8))
    perform(c.id, "enter_rest", world.as_candidate(c), after + timedelta(minutes=9))
    perform(c.id, "release", Actor.staff(world.assistant), after + timedelta(minutes=20))
    html = me.html()
    assert "成绩待公布" in html and 'data-poll-seconds="10"' in html
    db.session.add(
        CandidateResult(
            candidate_id=c.id, final_score=Decimal("80"), published_at=after + timedelta(minutes=30)
        )
    )
    db.session.commit()
    html = me.html()
    # Published: still looking, more slowly, for a correction (issue 15).
    assert "80.00" in html and 'data-poll-seconds="30"' in html


def test_score_of_another_candidate_is_not_reachable(world, me):
    other = world.candidates[1]
    db.session.add(
        CandidateResult(candidate_id=other.id, final_score=Decimal("70"), published_at=world.now)
    )
    db.session.commit()
    refused = me.post("/me/score/ack")
    assert refused.status_code == 409
    count = db.session.scalar(
        select(func.count(AuditEvent.id)).filter_by(kind="score.seen_by_candidate")
    )
    assert count == 0


# --- ID photo, decline, rest-room code ----------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_id_photo_upload_checks_type_and_size_and_is_audited(app, client, monkeypatch):
    from io import BytesIO

    from app.day import id_photo as id_photo_rules

    # A small limit keeps the test body in memory (a 5 MB body would be spooled to a file).
    monkeypatch.setattr(id_photo_rules, "ID_PHOTO_MAX_BYTES", 1024)

    world = World(requires_id_photo=True)
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    assert "身份证人像面照片" in me.html()
    wrong = me.post("/me/id-photo", photo=(BytesIO(b"GIF89a..."), "a.gif"))
    assert wrong.status_code == 422 and "JPG或PNG" in wrong.get_data(as_text=True)
    big = me.post("/me/id-photo", photo=(BytesIO(PNG + b"\x00" * 2048), "big.png"))
    assert big.status_code == 422 and "5MB" in big.get_data(as_text=True)
    assert fresh(c).id_photo_path is None
    ok = me.post("/me/id-photo", photo=(BytesIO(PNG), "id.png"))
    assert ok.headers.get("HX-Redirect") == "/me"
    assert fresh(c).id_photo_path == f"uploads/id_photos/{c.id}.png"
    assert "已上传" in me.html()
    assert len(events("candidate.id_photo", c)) == 1


def test_decline_asks_first_and_is_final(world, me):
    c = world.candidates[0]
    page = me.client.get("/me/decline").get_data(as_text=True)
    assert "确定放弃参加本场面试吗" in page and fresh(c).state == S.INVITED
    me.post("/me/decline", htmx=False)
    assert fresh(c).state == S.DECLINED
    assert me.client.get("/me/decline").headers["Location"] == "/me"  # nothing left to decline
    refused = me.post("/me/confirm")
    assert refused.status_code == 409 and fresh(c).state == S.DECLINED


def test_confirming_after_the_deadline_is_refused(world, me):
    with at(world, minutes=21):
        refused = me.post("/me/confirm")
        assert refused.status_code == 409
        assert "您未在确认截止时间前确认参加" in refused.get_data(as_text=True)
        html = me.html()
    assert "未确认参加" in html and "视为放弃参加本场面试" in html and "hx-get" not in html
    assert fresh(world.candidates[0]).state == S.DECLINED


def test_rest_room_code_only_after_the_interview(world, me, app):
    c = world.candidates[0]
    early = me.enter_code("999999")
    assert early.status_code == 400 and "休息室邀请码需在面试结束后输入" in early.get_data(
        as_text=True
    )
    stranger = CandidateBrowser(app.test_client(), "198.51.100.30")
    hint = stranger.enter_code("999999")
    assert hint.status_code == 400 and "这是休息室邀请码" in hint.get_data(as_text=True)
    assert fresh(c).state == S.INVITED
