"""The assistant console over HTTP: queues, calls, help, rest room, violations, notices, races."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app import db
from app.journey import Actor, assign_missing_lots, perform
from app.models import (
    AuditEvent,
    Broadcast,
    Call,
    Candidate,
    HelpRequest,
    Panel,
    PanelMember,
    Role,
    Violation,
)
from app.models.candidate import CandidateState as S
from app.timeutil import utcnow
from tests.conftest import at_once, csrf_token_from, csrf_token_of, signed_in_staff
from tests.factories import World, gen_user
from tests.static_urls import static_url

HX = {"HX-Request": "true"}


class Console:
    """One signed-in staff browser on the console of a panel."""

    def __init__(self, client, panel_id):
        self.client = client
        self.panel_id = panel_id
        self.token = None

    def page(self):
        response = self.client.get(f"/assistant/panels/{self.panel_id}")
        if response.status_code == 200:
            self.token = csrf_token_from(response.get_data(as_text=True))
        return response

    def post(self, url, data=None, htmx=True):
        if self.token is None:
            self.page()
        headers = {"X-CSRFToken": self.token, **(HX if htmx else {})}
        return self.client.post(url, data=data or {}, headers=headers)

    def move(self, candidate, move, htmx=True):
        return self.post(f"/assistant/candidates/{candidate.id}/{move}", htmx=htmx)


@pytest.fixture
def world(app):
    return World()


@pytest.fixture
def console(app, world):
    return Console(signed_in_staff(app, "assistant"), world.panel.id)


def reload(c):
    return db.session.get(Candidate, c.id, populate_existing=True)


def audit_kinds(candidate_id=None):
    query = select(AuditEvent.kind).order_by(AuditEvent.id)
    if candidate_id is not None:
        query = query.where(AuditEvent.candidate_id == candidate_id)
    return list(db.session.scalars(query))


# --- pages and access ----------------------------------------------------------------------------


def test_console_shows_queue_help_rest_room_violations_and_notice_form(world, console):
    world.to_debug_waiting(world.candidates[0])
    html = console.page().get_data(as_text=True)
    assert "调试队列" in html and "考生0" in html and "调试等候" in html
    assert "求助" in html and "休息室" in html and "违纪标记" in html and "通知候考考生" in html
    for kind in ("人像离屏", "接打电话", "与他人交流", "切屏", "其他"):
        assert f'value="{kind}"' in html
    assert static_url("js/staff.js") in html and "data-poll" in html and 'data-etag="p' in html


def test_home_goes_straight_to_the_only_current_panel(world, console):
    response = console.client.get("/assistant/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/assistant/panels/{world.panel.id}"


def test_home_lists_panels_when_there_are_several(app, world, console):
    other = _second_panel(world)
    db.session.add(PanelMember(panel_id=other.id, user_id=world.assistant.id, role="assistant"))
    db.session.commit()
    response = console.client.get("/assistant/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"/assistant/panels/{world.panel.id}" in html and f"/assistant/panels/{other.id}" in html


def _second_panel(world):
    other = Panel(
        exam_id=world.exam.id,
        name="第二考场",
        interview_room="ir-e1-cccc",
        rest_room="ir-e1-dddd",
        rest_room_code="888888",
    )
    db.session.add(other)
    db.session.flush()
    stranger = gen_user("assistant-b", role=Role.ASSISTANT)
    db.session.add(PanelMember(panel_id=other.id, user_id=stranger.id, role="assistant"))
    db.session.commit()
    return other


def test_an_assistant_of_another_panel_gets_403_and_404(app, world):
    _second_panel(world)
    c = world.candidates[0]
    world.to_debug_waiting(c)
    help_request = HelpRequest(candidate_id=c.id, message="听不到声音")
    db.session.add(help_request)
    db.session.commit()
    stranger = Console(signed_in_staff(app, "assistant-b"), world.panel.id)
    assert stranger.page().status_code == 403
    assert stranger.client.get(f"/assistant/panels/{world.panel.id}/board").status_code == 403
    assert stranger.client.get(f"/assistant/panels/{world.panel.id}/debug-call").status_code == 403
    # Their own console gives them the token for the posts below.
    other_panel = db.session.scalar(select(Panel.id).where(Panel.name == "第二考场"))
    stranger.panel_id = other_panel
    assert stranger.page().status_code == 200
    assert stranger.move(c, "call_debug").status_code == 404
    assert stranger.post(f"/assistant/panels/{world.panel.id}/release-all").status_code == 403
    assert (
        stranger.post(f"/assistant/help/{help_request.id}/reply", {"reply": "x"}).status_code == 404
    )
    # Someone of another panel is refused as no such candidate (no hint that they exist).
    flagged = stranger.post(
        f"/assistant/panels/{other_panel}/violations", {"candidate_id": c.id, "kind": "切屏"}
    )
    assert flagged.status_code == 422 and "本考场没有该考生" in flagged.get_data(as_text=True)
    assert stranger.client.get(f"/assistant/candidates/{c.id}/id-photo").status_code == 404
    help_html = stranger.client.get("/assistant/help").get_data(as_text=True)
    assert "听不到声音" not in help_html
    assert reload(c).state == S.DEBUG_WAITING
    assert db.session.scalar(select(func.count(Violation.id))) == 0


@pytest.mark.parametrize("username", ["chief", "examiner2", "hr"])
def test_examiners_and_hr_cannot_use_the_assistant_console(app, world, username):
    client = signed_in_staff(app, username)
    assert client.get(f"/assistant/panels/{world.panel.id}").status_code == 403
    # With a valid CSRF token, so that the role check is what refuses.
    response = client.post(
        f"/assistant/candidates/{world.candidates[0].id}/call_debug",
        headers={"X-CSRFToken": csrf_token_of(client), **HX},
    )
    assert response.status_code == 403
    assert reload(world.candidates[0]).state == S.INVITED


def test_a_candidate_cannot_use_it(app, world):
    client = app.test_client()
    c = world.candidates[0]
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    client.post("/", data={"code": c.code, "csrf_token": token})
    response = client.get(f"/assistant/panels/{world.panel.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")
    token = csrf_token_from(
        client.get("/me").get_data(as_text=True)
    )  # the session's, after sign-in
    response = client.post(
        f"/assistant/candidates/{c.id}/call_debug", headers={"X-CSRFToken": token, **HX}
    )
    assert response.headers.get("HX-Redirect", "").startswith("/staff/login")
    assert reload(c).state == S.CONFIRMED or reload(c).state == S.INVITED


def test_unknown_panel_and_move_are_404(world, console):
    assert console.client.get("/assistant/panels/9999").status_code == 404
    assert console.move(world.candidates[0], "disqualify").status_code == 404
    assert console.move(world.candidates[0], "accept_debug").status_code == 404


# --- polls ---------------------------------------------------------------------------------------


def test_board_poll_answers_304_until_something_changes(world, console):
    url = f"/assistant/panels/{world.panel.id}/board"
    first = console.client.get(url, headers=HX)
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-store"
    etag = first.headers["ETag"]
    again = console.client.get(url, headers={**HX, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    world.to_debug_waiting(world.candidates[1])
    changed = console.client.get(url, headers={**HX, "If-None-Match": etag})
    assert changed.status_code == 200 and "考生1" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != etag


def test_help_and_debug_call_polls_answer_304_too(world, console):
    for url in ("/assistant/help", f"/assistant/panels/{world.panel.id}/debug-call"):
        first = console.client.get(url, headers=HX)
        assert first.status_code == 200
        assert (
            console.client.get(
                url, headers={**HX, "If-None-Match": first.headers["ETag"]}
            ).status_code
            == 304
        )
    db.session.add(HelpRequest(candidate_id=world.candidates[0].id, message="摄像头黑屏"))
    db.session.commit()
    first_etag = console.client.get("/assistant/help", headers=HX).headers["ETag"]
    assert (
        console.client.get(
            "/assistant/help", headers={**HX, "If-None-Match": first_etag}
        ).status_code
        == 304
    )


# --- the debug call ------------------------------------------------------------------------------


def test_call_accept_check_identity_and_mark_debugged(world, console):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    response = console.move(c, "call_debug")
    assert response.status_code == 200 and "已呼叫" in response.get_data(as_text=True)
    assert response.headers["HX-Trigger"] == "console-refresh"
    assert reload(c).state == S.DEBUG_CALLED
    call = db.session.scalars(select(Call)).one()
    assert call.called_by_id == world.assistant.id
    assert (call.accept_by - call.called_at) == timedelta(seconds=60)

    embed = console.client.get(f"/assistant/panels/{world.panel.id}/debug-call", headers=HX)
    html = embed.get_data(as_text=True)
    assert "考生0" in html and "data-jitsi-room" in html and 'data-jitsi-role="assistant"' in html

    perform(c.id, "accept_debug", world.as_candidate(c), utcnow())
    refused = console.move(c, "mark_debugged")
    assert refused.status_code == 409 and "核验" in refused.get_data(as_text=True)
    assert refused.headers["HX-Retarget"] == "#console-messages"
    assert console.move(c, "check_identity").status_code == 200
    assert reload(c).identity_checked_at is not None
    assert console.move(c, "mark_debugged").status_code == 200
    c = reload(c)
    assert c.state == S.DEBUGGED and c.debugged_at is not None
    kinds = audit_kinds(c.id)
    for kind in ("journey.call_debug", "journey.check_identity", "journey.mark_debugged"):
        assert kind in kinds
    # The call is over: the embed goes away.
    html = console.client.get(
        f"/assistant/panels/{world.panel.id}/debug-call", headers=HX
    ).get_data(as_text=True)
    assert "data-jitsi-room" not in html


def test_a_plain_form_post_gets_a_flash_and_the_console(world, console):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    response = console.move(c, "call_debug", htmx=False)
    assert (
        response.status_code == 302
        and response.headers["Location"] == f"/assistant/panels/{world.panel.id}"
    )
    assert "已呼叫" in console.client.get(response.headers["Location"]).get_data(as_text=True)
    response = console.move(c, "call_debug", htmx=False)
    page = console.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "不能进行此操作" in page


def test_an_unanswered_call_lapses_after_60_seconds_and_counts_as_missed(world, console):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    console.move(c, "call_debug")
    with time_machine.travel(utcnow() + timedelta(seconds=61), tick=False):
        html = console.client.get(f"/assistant/panels/{world.panel.id}/board", headers=HX).get_data(
            as_text=True
        )
    c = reload(c)
    assert c.state == S.DEBUG_WAITING and c.missed_calls == 1
    assert 'class="badge warn">1<' in html
    assert db.session.scalars(select(Call.outcome)).one() == "lapsed"


def test_cancel_and_end_put_the_candidate_back_in_the_queue(world, console):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    console.move(c, "call_debug")
    assert console.move(c, "cancel_debug_call").status_code == 200
    assert reload(c).state == S.DEBUG_WAITING
    console.move(c, "call_debug")
    perform(c.id, "accept_debug", world.as_candidate(c), utcnow())
    assert console.move(c, "end_debug").status_code == 200
    c = reload(c)
    assert c.state == S.DEBUG_WAITING and c.missed_calls == 0
    assert sorted(db.session.scalars(select(Call.outcome))) == ["cancelled", "ended"]


def test_one_call_at_a_time_per_assistant(world, console):
    first, second = world.candidates[:2]
    world.to_debug_waiting(first)
    world.to_debug_waiting(second)
    console.move(first, "call_debug")
    response = console.move(second, "call_debug")
    assert response.status_code == 409 and "当前调试通话" in response.get_data(as_text=True)
    assert reload(second).state == S.DEBUG_WAITING


def test_the_id_photo_is_shown_to_the_panels_assistant_only(app, world, console, tmp_path):
    from pathlib import Path

    c = world.candidates[0]
    photo = Path(app.instance_path) / "uploads" / "id_photos" / f"{c.id}.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
    c.id_photo_path = f"uploads/id_photos/{c.id}.jpg"
    db.session.commit()
    world.to_debug_waiting(c)
    console.move(c, "call_debug")
    html = console.client.get(
        f"/assistant/panels/{world.panel.id}/debug-call", headers=HX
    ).get_data(as_text=True)
    assert f"/assistant/candidates/{c.id}/id-photo" in html
    response = console.client.get(f"/assistant/candidates/{c.id}/id-photo")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert (
        response.get_data().startswith(b"\xff\xd8")
        and "no-store" in response.headers["Cache-Control"]
    )
    response.close()
    assert "candidate.id_photo_viewed" in audit_kinds(c.id)
    # A path outside the photo folder is never served.
    other = world.candidates[1]
    other.id_photo_path = "../../etc/passwd"
    db.session.commit()
    assert console.client.get(f"/assistant/candidates/{other.id}/id-photo").status_code == 404
    assert (
        console.client.get(f"/assistant/candidates/{world.candidates[2].id}/id-photo").status_code
        == 404
    )


def test_two_assistants_calling_at_once_exactly_one_wins(app, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite allows one writer at a time)")
    c = world.candidates[0]
    world.to_debug_waiting(c)
    second = gen_user("assistant2", role=Role.ASSISTANT)
    db.session.add(PanelMember(panel_id=world.panel.id, user_id=second.id, role="assistant"))
    db.session.commit()
    consoles = [
        Console(signed_in_staff(app, name), world.panel.id) for name in ("assistant", "assistant2")
    ]
    for console in consoles:
        console.page()

    def click(i):
        response = consoles[i].move(c, "call_debug")
        return response.status_code, response.get_data(as_text=True)

    results = at_once(app, 2, click)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    loser = next(body for status, body in results if status == 409)
    winner = "assistant2" if results[0][0] == 409 else "assistant"
    assert f"该考生已由 {winner} 呼叫" in loser
    assert db.session.scalar(select(func.count(Call.id))) == 1
    assert reload(c).state == S.DEBUG_CALLED


# --- help ------------------------------------------------------------------------------------------


def _candidate_client(app, c):
    client = app.test_client()
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert client.post("/", data={"code": c.code, "csrf_token": token}).status_code in (302, 303)
    return client, csrf_token_from(client.get("/me").get_data(as_text=True))


def test_help_request_appears_with_an_alert_and_the_reply_reaches_the_candidate(
    app, world, console
):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    candidate, token = _candidate_client(app, c)
    sent = candidate.post("/help", data={"message": "听不到考官声音", "csrf_token": token})
    assert sent.status_code in (302, 303)
    queue = console.client.get("/assistant/help", headers=HX)
    html = queue.get_data(as_text=True)
    help_id = db.session.scalar(select(HelpRequest.id))
    assert "听不到考官声音" in html and 'data-alert="help"' in html
    assert f'data-alert-value="{help_id}"' in html and 'data-alert-count="1"' in html

    assert console.post(f"/assistant/help/{help_id}/reply", {"reply": ""}).status_code == 422
    assert (
        console.post(f"/assistant/help/{help_id}/reply", {"reply": "长" * 501}).status_code == 422
    )
    response = console.post(
        f"/assistant/help/{help_id}/reply", {"reply": "请检查耳机音量后刷新页面"}
    )
    assert response.status_code == 200 and 'data-alert-count="0"' in response.get_data(as_text=True)
    assert "help.replied" in audit_kinds(c.id)
    assert "请检查耳机音量后刷新页面" in candidate.get("/me").get_data(as_text=True)
    # The candidate's poll sees a new version, so the reply arrives without a reload.
    stage_page = candidate.get("/me").get_data(as_text=True)
    assert "工作人员回复" in stage_page

    response = console.post(f"/assistant/help/{help_id}/reply", {"resolve": "1"})
    assert response.status_code == 200 and "听不到考官声音" not in response.get_data(as_text=True)
    assert db.session.get(HelpRequest, help_id).resolved_at is not None
    assert console.post("/assistant/help/9999/reply", {"reply": "x"}).status_code == 404


# --- rest room ---------------------------------------------------------------------------------------


def rest_world(app):
    now = utcnow().replace(microsecond=0)
    world = World(
        entry_cutoff_at=now - timedelta(minutes=5), confirm_deadline_at=now - timedelta(minutes=10)
    )
    start = now - timedelta(minutes=40)
    for c in world.candidates:
        world.to_waiting(c, at=start)
    assign_missing_lots(world.exam.id, now)
    chief = Actor.staff(world.chief)
    order = sorted(world.candidates, key=lambda c: reload(c).lot_number)
    for i, c in enumerate(order):
        at = now + timedelta(seconds=i)
        perform(c.id, "call_interview", chief, at)
        perform(c.id, "accept_interview", world.as_candidate(c), at)
        perform(c.id, "start_timer", chief, at)
        perform(c.id, "finish", chief, at)
        perform(c.id, "enter_rest", world.as_candidate(c), at)
    return world


def test_release_one_then_all(app):
    world = rest_world(app)
    second = gen_user("assistant2", role=Role.ASSISTANT)
    db.session.add(PanelMember(panel_id=world.panel.id, user_id=second.id, role="assistant"))
    db.session.commit()
    console = Console(signed_in_staff(app, "assistant"), world.panel.id)
    html = console.page().get_data(as_text=True)
    assert "全部放行离场" in html and html.count(">放行<") == 3
    first, *rest = world.candidates
    assert console.move(first, "release").status_code == 200
    assert reload(first).state == S.RELEASED
    response = console.post(f"/assistant/panels/{world.panel.id}/release-all")
    assert response.status_code == 200 and "已放行 2 名考生" in response.get_data(as_text=True)
    assert all(reload(c).state == S.RELEASED for c in rest)
    assert db.session.get(Panel, world.panel.id).rest_room_released_at is not None
    assert audit_kinds().count("panel.rest_room_released") == 1
    empty = console.post(f"/assistant/panels/{world.panel.id}/release-all")
    assert "休息室没有考生" in empty.get_data(as_text=True)
    again = console.move(first, "release")
    assert again.status_code == 409
    assert "考生0 当前状态为“已离场”" in again.get_data(as_text=True)  # not "您已离场"
    colleague = Console(signed_in_staff(app, "assistant2"), world.panel.id)
    refused = colleague.move(first, "release")
    assert refused.status_code == 409 and "该考生已由 assistant 放行" in refused.get_data(
        as_text=True
    )


def test_nobody_leaves_the_rest_room_while_others_of_the_panel_are_still_to_be_interviewed(app):
    """SPEC: candidates leave only when staff release the room, so that no one tells the questions
    to those still waiting; a release while someone waits is refused, one or all."""
    world = rest_world(app)
    extra = Candidate(
        exam_id=world.exam.id,
        panel_id=world.panel.id,
        name="考生9",
        id_number="110105199001010099",
        phone="13800138000",
        position="综合管理岗",
        code="100009",
        state=S.WAITING,
        lot_number=9,
    )
    db.session.add(extra)
    db.session.commit()
    console = Console(signed_in_staff(app, "assistant"), world.panel.id)
    console.page()
    first = world.candidates[0]
    one = console.move(first, "release")
    assert one.status_code == 409
    assert "本考场仍有 1 名考生未完成面试，休息室暂不能放行" in one.get_data(as_text=True)
    every = console.post(f"/assistant/panels/{world.panel.id}/release-all")
    assert every.status_code == 409 and "暂不能放行" in every.get_data(as_text=True)
    assert all(reload(c).state == S.RESTING for c in world.candidates)
    assert audit_kinds().count("panel.rest_room_released") == 0
    # Once the last one is done (here: called, never came, recorded absent), the room may go.
    at = utcnow()
    perform(extra.id, "call_interview", Actor.staff(world.chief), at)
    perform(extra.id, "mark_no_show", Actor.staff(world.chief), at + timedelta(seconds=62))
    every = console.post(f"/assistant/panels/{world.panel.id}/release-all")
    assert every.status_code == 200 and "已放行 3 名考生" in every.get_data(as_text=True)


def test_rest_room_call_records_from_join(world, console):
    html = console.client.get(f"/assistant/panels/{world.panel.id}/rest-call", headers=HX).get_data(
        as_text=True
    )
    assert "进入休息室通话" in html and "data-jitsi-room" not in html
    html = console.client.get(
        f"/assistant/panels/{world.panel.id}/rest-call?join=1", headers=HX
    ).get_data(as_text=True)
    assert 'data-jitsi-record="true"' in html and 'data-jitsi-kind="rest"' in html


def test_call_status_fragments(world, console):
    for kind in ("rest", "debug"):
        response = console.client.get(
            f"/assistant/panels/{world.panel.id}/call-status/{kind}", headers=HX
        )
        assert response.status_code == 200 and "call-status" in response.get_data(as_text=True)
    assert (
        console.client.get(f"/assistant/panels/{world.panel.id}/call-status/other").status_code
        == 404
    )


# --- violations ----------------------------------------------------------------------------------


def test_flagging_a_violation_is_saved_and_audited(world, console):
    c = world.candidates[2]
    url = f"/assistant/panels/{world.panel.id}/violations"
    response = console.post(url, {"candidate_id": c.id, "kind": "接打电话", "note": "拿起手机"})
    assert response.status_code == 200 and "已记录" in response.get_data(as_text=True)
    violation = db.session.scalars(select(Violation)).one()
    assert (violation.kind, violation.note, violation.flagged_by_id) == (
        "接打电话",
        "拿起手机",
        world.assistant.id,
    )
    event = db.session.scalars(select(AuditEvent).filter_by(kind="violation.flagged")).one()
    assert event.candidate_id == c.id and event.data["type"] == "接打电话"
    assert event.actor_id == world.assistant.id


@pytest.mark.parametrize(
    "with_candidate, form, message",
    [
        (False, {"kind": "切屏"}, "请选择考生"),
        (True, {"kind": "睡觉"}, "请选择违纪类型"),
        (True, {"kind": "其他", "note": ""}, "请填写说明"),
        (True, {"kind": "切屏", "note": "长" * 501}, "最多 500 字"),
    ],
)
def test_invalid_violations_are_refused_with_a_message(
    world, console, with_candidate, form, message
):
    if with_candidate:
        form = {"candidate_id": world.candidates[0].id, **form}
    response = console.post(f"/assistant/panels/{world.panel.id}/violations", form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Violation.id))) == 0


def test_plain_violation_post_redirects_with_flash(world, console):
    response = console.post(
        f"/assistant/panels/{world.panel.id}/violations",
        {"candidate_id": world.candidates[0].id, "kind": "人像离屏"},
        htmx=False,
    )
    assert response.status_code == 302
    assert "已记录" in console.client.get(response.headers["Location"]).get_data(as_text=True)


# --- notices -----------------------------------------------------------------------------------


def test_notice_to_everyone_waiting(app, world, console):
    c = world.candidates[0]
    world.to_debug_waiting(c)
    url = f"/assistant/panels/{world.panel.id}/broadcast"
    assert console.post(url, {"message": "  "}).status_code == 422
    response = console.post(url, {"message": "面试推迟10分钟开始，请耐心等候。"})
    assert response.status_code == 200 and "通知已发布" in response.get_data(as_text=True)
    assert db.session.scalars(select(Broadcast.message)).one() == "面试推迟10分钟开始，请耐心等候。"
    assert "broadcast.posted" in audit_kinds()
    candidate, _ = _candidate_client(app, c)
    assert "面试推迟10分钟开始" in candidate.get("/me").get_data(as_text=True)
