"""Issue 16, items 6 (help that reaches someone; phone numbers) and 7 (巡考): help from a
candidate with no panel reaches every assistant of the exam and HR, who answer by the same rules
(first answer wins); phones in full for assistants and HR only; HR assigns 巡考, who see every
panel of their exams read-only and join calls as visible non-moderator observers."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app import db
from app.day.help_replies import HelpReplyRefused, answer_help, seen_stamp
from app.day.supervision import observer_display_name
from app.jitsi.embed import embed_for_staff
from app.journey import Actor, perform
from app.models import (
    AuditEvent,
    Call,
    Candidate,
    ExamSupervisor,
    HelpRequest,
    PanelMember,
    Role,
)
from app.models.candidate import CandidateState as S
from app.timeutil import utcnow
from tests.conftest import at_once, csrf_token_from, signed_in_staff
from tests.factories import World, gen_candidate, gen_exam, gen_panel, gen_user
from tests.jitsi_rules import verify
from tests.jitsi_world import (  # noqa: F401 - fixtures
    RULES,
    hosted,
    hosted_config,
    parse_embeds,
    render_embed,
    sign_in_candidate,
    the_embed,
)

HX = {"HX-Request": "true"}


def _token(client, url: str) -> str:
    return csrf_token_from(client.get(url).get_data(as_text=True))


def _kinds() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


@pytest.fixture
def help_world(app):
    """World's exam with a second panel and assistant, a candidate without a panel, and an
    assistant of another exam."""
    world = World(candidates=1)
    second_panel = gen_panel(world.exam, "第二考场")
    world.assistant2 = gen_user("assistant2", role=Role.ASSISTANT)
    db.session.add(
        PanelMember(panel_id=second_panel.id, user_id=world.assistant2.id, role="assistant")
    )
    other_exam = gen_exam("2026年别的考试")
    other_panel = gen_panel(other_exam)
    world.stranger = gen_user("stranger", role=Role.ASSISTANT)
    db.session.add(
        PanelMember(panel_id=other_panel.id, user_id=world.stranger.id, role="assistant")
    )
    world.loner = world.candidates[0]
    world.loner.panel_id = None
    world.loner.name = "无考场考生"
    world.loner.phone = "13812345678"
    db.session.commit()
    return world


# --- help from a candidate with no panel ---------------------------------------------------------


def test_help_without_a_panel_reaches_every_assistant_of_the_exam_and_hr(app, help_world):
    world = help_world
    candidate = app.test_client()
    token = sign_in_candidate(candidate, world.loner)
    sent = candidate.post("/help", data={"message": "我没有分到考场", "csrf_token": token})
    assert sent.status_code == 303
    help_id = db.session.scalar(select(HelpRequest.id))

    for username in ("assistant", "assistant2"):
        queue = signed_in_staff(app, username).get("/assistant/help", headers=HX)
        html = queue.get_data(as_text=True)
        assert "我没有分到考场" in html and "未分配考场" in html, username
        assert "13812345678" in html, "an assistant sees the phone number in full"
    stranger = signed_in_staff(app, "stranger")
    assert "我没有分到考场" not in stranger.get("/assistant/help", headers=HX).get_data(
        as_text=True
    )
    assert stranger.post(f"/assistant/help/{help_id}/reply", data={"reply": "x"}).status_code in (
        400,
        404,
    )

    hr = signed_in_staff(app, "hr")
    page = hr.get(f"/hr/exams/{world.exam.id}/help").get_data(as_text=True)
    assert "我没有分到考场" in page and "未分配考场" in page and "13812345678" in page
    assert f'href="/hr/exams/{world.exam.id}/help"' in page  # linked from the exam's nav
    token = csrf_token_from(page)
    answered = hr.post(
        f"/hr/exams/{world.exam.id}/help/{help_id}/reply",
        data={"reply": "请稍候，考务正在为您分配考场", "seen": "", "csrf_token": token},
    )
    assert answered.status_code == 303
    request_ = db.session.get(HelpRequest, help_id)
    assert request_.reply == "请稍候，考务正在为您分配考场"
    assert request_.replied_by_id == world.hr.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "help.replied"))
    assert event.candidate_id == world.loner.id and event.data["by_role"] == "hr"
    assert "请稍候，考务正在为您分配考场" in candidate.get("/me").get_data(as_text=True)
    # The assistants' queues show the reply, and its answer-stamp for their next form.
    queue = signed_in_staff(app, "assistant").get("/assistant/help", headers=HX)
    assert f'value="{seen_stamp(request_)}"' in queue.get_data(as_text=True)

    closed = hr.post(
        f"/hr/exams/{world.exam.id}/help/{help_id}/reply",
        data={"resolve": "1", "seen": seen_stamp(request_), "csrf_token": token},
    )
    assert closed.status_code == 303
    assert db.session.get(HelpRequest, help_id).resolved_at is not None
    assert "我没有分到考场" not in hr.get(f"/hr/exams/{world.exam.id}/help").get_data(as_text=True)
    assert _kinds().count("help.resolved") == 1


def test_hr_help_page_refuses_bad_replies_and_other_exams_requests(app, help_world):
    world = help_world
    mine = HelpRequest(candidate_id=world.loner.id, message="听不到声音")
    db.session.add(mine)
    db.session.commit()
    hr = signed_in_staff(app, "hr")
    token = _token(hr, f"/hr/exams/{world.exam.id}/help")
    url = f"/hr/exams/{world.exam.id}/help/{mine.id}/reply"
    empty = hr.post(url, data={"reply": "  ", "csrf_token": token}, follow_redirects=True)
    assert "请填写回复内容" in empty.get_data(as_text=True)
    long = hr.post(url, data={"reply": "长" * 501, "csrf_token": token}, follow_redirects=True)
    assert "回复最多 500 字" in long.get_data(as_text=True)
    assert db.session.get(HelpRequest, mine.id).reply is None
    another = gen_exam("2026年第三场")
    wrong = hr.post(
        f"/hr/exams/{another.id}/help/{mine.id}/reply", data={"reply": "x", "csrf_token": token}
    )
    assert wrong.status_code == 404
    assert "help.replied" not in _kinds()


def test_two_staff_answering_the_same_help_the_first_answer_wins(app, help_world):
    world = help_world
    help_request = HelpRequest(candidate_id=world.loner.id, message="摄像头没有画面")
    db.session.add(help_request)
    db.session.commit()
    now = utcnow()
    answer_help(help_request.id, world.assistant, "请刷新页面", False, "", now)
    with pytest.raises(HelpReplyRefused) as refused:
        # HR's form was shown before the assistant answered: it saw no reply.
        answer_help(help_request.id, world.hr, "请换浏览器", False, "", now)
    assert refused.value.status == 409
    assert "assistant 已先回复：“请刷新页面”" in refused.value.message
    db.session.expire_all()
    stored = db.session.get(HelpRequest, help_request.id)
    assert stored.reply == "请刷新页面" and stored.replied_by_id == world.assistant.id
    # Having seen the first answer, HR may add to it; closing never conflicts.
    answer_help(help_request.id, world.hr, "如仍无画面请换浏览器", True, seen_stamp(stored), now)
    assert answer_help(help_request.id, world.assistant, "", True, "", now).resolved is False
    with pytest.raises(HelpReplyRefused, match="已由 hr 处理并关闭"):
        answer_help(help_request.id, world.assistant, "还在吗", False, "", now)
    assert _kinds().count("help.replied") == 2


def test_two_staff_answering_at_the_same_moment_keep_exactly_one_answer(app, help_world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite allows one writer at a time)")
    world = help_world
    help_request = HelpRequest(candidate_id=world.loner.id, message="麦克风没有声音")
    db.session.add(help_request)
    db.session.commit()
    help_id, staff_ids = help_request.id, (world.assistant.id, world.hr.id)

    def answer(i):
        from app.models import User

        staff = db.session.get(User, staff_ids[i])
        return answer_help(help_id, staff, f"回复{i}", False, "", utcnow())

    results = at_once(app, 2, answer)
    refusals = [r for r in results if isinstance(r, HelpReplyRefused)]
    assert len(refusals) == 1, results
    db.session.expire_all()
    stored = db.session.get(HelpRequest, help_id)
    winner = next(i for i, r in enumerate(results) if not isinstance(r, HelpReplyRefused))
    assert stored.reply == f"回复{winner}"
    assert _kinds().count("help.replied") == 1


def test_an_assistants_reply_form_carries_what_it_saw(app, help_world):
    world = help_world
    help_request = HelpRequest(candidate_id=world.loner.id, message="页面卡住")
    db.session.add(help_request)
    db.session.commit()
    client = signed_in_staff(app, "assistant2")
    page = client.get("/assistant/help", headers=HX).get_data(as_text=True)
    assert 'name="seen" value=""' in page
    token = csrf_token_from(page)
    first = client.post(
        f"/assistant/help/{help_request.id}/reply",
        data={"reply": "请刷新", "seen": "", "csrf_token": token},
        headers=HX,
    )
    assert first.status_code == 200
    again = client.post(
        f"/assistant/help/{help_request.id}/reply",
        data={"reply": "再试一次", "seen": "", "csrf_token": token},
        headers=HX,
    )
    assert again.status_code == 409 and "已先回复" in again.get_data(as_text=True)


# --- phone numbers --------------------------------------------------------------------------------


def test_masked_phone():
    assert Candidate(phone="13812345678").masked_phone == "138****5678"
    assert Candidate(phone="123").masked_phone == "****"


# --- 巡考 ------------------------------------------------------------------------------------------


@pytest.fixture
def patrol(app):
    world = World(candidates=2)
    world.supervisor = gen_user("patrol", role=Role.SUPERVISOR, display_name="王巡考")
    world.to_debug_waiting(world.candidates[0])
    world.candidates[0].phone = "13912345678"
    db.session.commit()
    return world


def _assign(app, world) -> None:
    hr = signed_in_staff(app, "hr")
    page = hr.get(f"/hr/exams/{world.exam.id}").get_data(as_text=True)
    assert "王巡考（patrol）" in page
    token = csrf_token_from(page)
    added = hr.post(
        f"/hr/exams/{world.exam.id}/supervisors",
        data={"user_id": str(world.supervisor.id), "csrf_token": token},
    )
    assert added.status_code == 303


def test_hr_assigns_and_removes_a_supervisor_audited(app, patrol):
    world = patrol
    _assign(app, world)
    assert db.session.scalar(select(func.count(ExamSupervisor.id))) == 1
    hr = signed_in_staff(app, "hr")
    page = hr.get(f"/hr/exams/{world.exam.id}").get_data(as_text=True)
    token = csrf_token_from(page)
    assert "王巡考" in page and "没有可分配的巡考账号" in page
    # Not a 巡考 account, an unknown id, twice the same: refused or nothing new.
    for user_id in (str(world.assistant.id), "987654", "x"):
        hr.post(
            f"/hr/exams/{world.exam.id}/supervisors", data={"user_id": user_id, "csrf_token": token}
        )
    hr.post(
        f"/hr/exams/{world.exam.id}/supervisors",
        data={"user_id": str(world.supervisor.id), "csrf_token": token},
    )
    assert db.session.scalar(select(func.count(ExamSupervisor.id))) == 1
    assert _kinds().count("supervisor.assigned") == 1
    removed = hr.post(
        f"/hr/exams/{world.exam.id}/supervisors/{world.supervisor.id}/remove",
        data={"csrf_token": token},
    )
    assert removed.status_code == 303
    assert db.session.scalar(select(func.count(ExamSupervisor.id))) == 0
    assert _kinds().count("supervisor.removed") == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "supervisor.removed"))
    assert event.exam_id == world.exam.id and event.data["user"] == world.supervisor.id
    # Removed: the panels are no longer theirs.
    supervisor = signed_in_staff(app, "patrol")
    assert supervisor.get(f"/assistant/panels/{world.panel.id}").status_code == 403


def test_a_supervisor_watches_the_board_read_only_with_phones_masked(app, patrol):
    world = patrol
    supervisor = signed_in_staff(app, "patrol")
    assert supervisor.get(f"/assistant/panels/{world.panel.id}").status_code == 403
    _assign(app, world)
    assert supervisor.get("/staff/login").headers["Location"].endswith("/supervisor/")
    home = supervisor.get("/supervisor/").get_data(as_text=True)
    assert world.exam.name in home and f"/assistant/panels/{world.panel.id}" in home
    assert f"/examiner/panels/{world.panel.id}" in home

    board = supervisor.get(f"/assistant/panels/{world.panel.id}")
    html = board.get_data(as_text=True)
    assert board.status_code == 200
    assert '<body class="staff read-only ' in html and ">只读</span>" in html
    assert "139****5678" in html and "13912345678" not in html
    assistant = signed_in_staff(app, "assistant")
    assert "13912345678" in assistant.get(f"/assistant/panels/{world.panel.id}").get_data(
        as_text=True
    )
    # Every button posts; the server refuses each one even with a valid CSRF token.
    token = csrf_token_from(html)
    version = world.candidates[0].version
    for url in (
        f"/assistant/candidates/{world.candidates[0].id}/call_debug",
        f"/assistant/panels/{world.panel.id}/broadcast",
        f"/examiner/panels/{world.panel.id}/call-next",
    ):
        assert supervisor.post(url, data={"csrf_token": token}).status_code == 403, url
    db.session.expire_all()
    assert db.session.get(Candidate, world.candidates[0].id).version == version

    room = supervisor.get(f"/examiner/panels/{world.panel.id}")
    assert room.status_code == 200
    room_html = room.get_data(as_text=True)
    assert "read-only" in room_html and "13912345678" not in room_html


def test_a_supervisor_joins_the_interview_as_a_visible_non_moderator_observer(hosted):
    world = World.for_calls()
    world.interviewing(lot=7)
    supervisor = gen_user("patrol", role=Role.SUPERVISOR, display_name="王巡考")
    db.session.add(ExamSupervisor(exam_id=world.exam.id, user_id=supervisor.id))
    db.session.commit()
    assert observer_display_name(supervisor) == "巡考 王巡考"

    client = signed_in_staff(hosted, "patrol")
    html = client.get(f"/examiner/panels/{world.panel.id}").get_data(as_text=True)
    attrs = the_embed(html)
    assert attrs["data-jitsi-role"] == "observer"
    assert attrs["data-jitsi-name"] == "巡考 王巡考"
    assert attrs["data-jitsi-record"] == "false" and attrs["data-jitsi-audio-muted"] == "true"
    now = int(datetime.now(UTC).timestamp())
    claims = verify(attrs["data-jitsi-jwt"], RULES, room=world.panel.interview_room, now=now)
    user = claims["context"]["user"]
    assert user["name"] == "巡考 王巡考"
    assert user["moderator"] == "false" and user["affiliation"] == "member"
    assert claims["context"]["features"]["recording"] == "false"

    # The rest room's call likewise, and whatever role a page asks the embed for.
    rest = client.get(f"/assistant/panels/{world.panel.id}/rest-call?join=1", headers=HX)
    rest_attrs = the_embed(rest.get_data(as_text=True))
    assert rest_attrs["data-jitsi-role"] == "observer"
    assert rest_attrs["data-jitsi-name"] == "巡考 王巡考"
    with hosted.test_request_context("/"):
        call = embed_for_staff(supervisor, world.panel.rest_room, "rest", "assistant", True)
    assert call.role == "observer" and call.record_on_join is False
    # A 巡考 of no exam of this panel is refused the room.
    gen_user("patrol2", role=Role.SUPERVISOR)
    assert (
        signed_in_staff(hosted, "patrol2").get(f"/examiner/panels/{world.panel.id}").status_code
        == 403
    )


def test_supervisor_sees_the_exams_recordings_but_may_not_retry(app, patrol):
    from app.models import Recording

    world = patrol
    _assign(app, world)
    recording = Recording(
        exam_id=world.exam.id,
        panel_id=world.panel.id,
        room=world.panel.rest_room,
        room_kind="rest",
        session_folder="abc",
        file_name="rest.mp4",
        expected_size=10,
        expected_sha256="0" * 64,
        status="failed",
    )
    db.session.add(recording)
    db.session.commit()
    supervisor = signed_in_staff(app, "patrol")
    listing = supervisor.get(f"/staff/recordings/exam/{world.exam.id}")
    assert listing.status_code == 200
    assert supervisor.get(f"/staff/recordings/{recording.id}").status_code == 200
    token = csrf_token_from(listing.get_data(as_text=True))
    assert (
        supervisor.post(
            f"/staff/recordings/{recording.id}/retry", data={"csrf_token": token}
        ).status_code
        == 403
    )


def test_candidate_pages_never_show_a_full_phone_number(app, patrol):
    world = patrol
    c = world.candidates[0]
    client = app.test_client()
    sign_in_candidate(client, c)
    assert c.state == S.DEBUG_WAITING
    assert "13912345678" not in client.get("/me").get_data(as_text=True)


def test_a_supervisors_call_reports_count_as_an_observer_not_as_staff(hosted):
    """The 巡考 is a participant of the room but not the staff page that watches or records
    it (the rest room's 未录制 and the badges count staff), and cannot say it records."""
    from app.day.call_status import room_status
    from tests.jitsi_world import report

    world = World.for_calls()
    supervisor = gen_user("patrol", role=Role.SUPERVISOR, display_name="王巡考")
    db.session.add(ExamSupervisor(exam_id=world.exam.id, user_id=supervisor.id))
    db.session.commit()
    client = signed_in_staff(hosted, "patrol")
    token = csrf_token_from(client.get("/supervisor/").get_data(as_text=True))
    room = world.panel.rest_room
    assert report(client, token, kind="rest", room=room).status_code == 204
    status = room_status(room)
    assert status["participants"] == 1 and status["staff_in"] == 0
    said = report(client, token, "recordingStatusChanged", kind="rest", room=room, on="true")
    assert said.status_code == 204
    assert room_status(room).get("recording") is None
    # Another exam's room is not theirs to report on.
    assert report(client, token, kind="rest", room="ir-e1-zzzz").status_code == 403


def test_a_supervisor_observes_a_running_debug_call(hosted):
    from app.journey import Actor, perform

    world = World.for_calls()
    candidate = world.candidate(S.DEBUG_WAITING, lot=3)
    candidate.lot_number = None
    db.session.commit()
    perform(candidate.id, "call_debug", Actor.staff(world.assistant), utcnow())
    perform(candidate.id, "accept_debug", Actor.of_candidate(candidate), utcnow())
    call = db.session.scalar(select(Call).where(Call.candidate_id == candidate.id))
    supervisor = gen_user("patrol", role=Role.SUPERVISOR, display_name="王巡考")
    db.session.add(ExamSupervisor(exam_id=world.exam.id, user_id=supervisor.id))
    db.session.commit()

    client = signed_in_staff(hosted, "patrol")
    console = client.get(f"/assistant/panels/{world.panel.id}").get_data(as_text=True)
    assert 'id="observe-calls"' in console
    listing = client.get(f"/assistant/panels/{world.panel.id}/observe", headers=HX)
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200 and candidate.name in html and "面试助理 李" in html
    again = client.get(
        f"/assistant/panels/{world.panel.id}/observe",
        headers={**HX, "If-None-Match": listing.headers["ETag"]},
    )
    assert again.status_code == 304
    joined = client.get(f"/assistant/panels/{world.panel.id}/observe/{call.id}", headers=HX)
    attrs = the_embed(joined.get_data(as_text=True))
    assert attrs["data-jitsi-role"] == "observer" and attrs["data-jitsi-room"] == call.room
    now = int(datetime.now(UTC).timestamp())
    claims = verify(attrs["data-jitsi-jwt"], RULES, room=call.room, now=now)
    assert claims["context"]["user"]["name"] == "巡考 王巡考"
    assert claims["context"]["user"]["moderator"] == "false"
    # Another panel's call, or no call: 404; the assistant herself has her own call, not this.
    assert client.get(
        f"/assistant/panels/{world.other_panel.id}/observe/{call.id}"
    ).status_code in (
        403,
        404,
    )
    assert client.get(f"/assistant/panels/{world.panel.id}/observe/987654").status_code == 404
    assistant = signed_in_staff(hosted, "assistant")
    assert assistant.get(f"/assistant/panels/{world.panel.id}/observe").status_code == 403
    assert "observe-calls" not in assistant.get(f"/assistant/panels/{world.panel.id}").get_data(
        as_text=True
    )


def test_a_supervisor_never_joins_the_rest_room_by_itself_nor_covers_it(app, patrol):
    """The assistant's console joins and records the rest room by itself; a 巡考 looking at the
    same board must not: an observer neither records nor counts as staff in the room."""
    from app.day import rest_cover

    _assign(app, patrol)
    c = gen_candidate(
        patrol.exam,
        "考生9",
        panel=patrol.panel,
        state=S.FINISHED,
        lot_number=9,
        finished_at=utcnow(),
    )
    perform(c.id, "enter_rest", Actor.of_candidate(c))
    supervisor = signed_in_staff(app, "patrol")
    page = supervisor.get(f"/assistant/panels/{patrol.panel.id}").get_data(as_text=True)
    assert "rest-call?auto=1" not in page and "巡考旁听" in page
    auto = supervisor.get(
        f"/assistant/panels/{patrol.panel.id}/rest-call?auto=1", headers={"HX-Request": "true"}
    )
    assert auto.status_code == 204  # someone rests, yet nothing is joined for the 巡考
    joined = supervisor.get(
        f"/assistant/panels/{patrol.panel.id}/rest-call?join=1", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "rest-call/beat" not in joined and 'data-jitsi-record="true"' not in joined
    assert rest_cover.watchers(patrol.panel.id, utcnow()) == 0
