"""The supervised waiting room in a real browser: the candidates' call (muted, seeing nobody),
the assistant's (tile view, recorded when the exam says so), and a spot check (随机检查) rung
from the console, accepted on the candidate's page and ended, the candidate back in the room."""

from playwright.sync_api import expect

from app import db
from app.jitsi.rooms import derived_room_name
from app.journey import live_spot_check
from app.models import Call, Candidate, Exam
from app.static_files import parse_fingerprinted
from tests.e2e.actions import (
    assert_call,
    enter_code,
    staff_sign_in,
    stand_in_call,
    wait_for_stage,
    walk_to_waiting,
)
from tests.e2e.conftest import E2E_SECRET_KEY, fresh, jitsi_calls, shot
from tests.e2e.world import seed


def _waiting_room(panel) -> str:
    return derived_room_name(E2E_SECRET_KEY, f"ir-e{panel.exam_id}-w", f"waiting-room:{panel.id}")


def _call_in(page, room: str) -> dict:
    page.wait_for_function(
        "room => (window.__jitsiCalls || []).some(c => c.roomName === room && !c.disposed)",
        arg=room,
        timeout=15_000,
    )
    return [c for c in jitsi_calls(page) if c["roomName"] == room and not c["disposed"]][-1]


def _commands(page) -> list[str]:
    return page.evaluate("() => (window.__jitsiCommands || []).map(c => c.name)")


def _assert_files_fingerprinted_and_kept(answers) -> None:
    # Every script and style the page loaded: by a fingerprinted name, for a year (issue 18).
    paths = {path for path, _, _ in answers}
    assert {"js/candidate.js", "js/htmx.min.js", "css/app.css"} <= {
        (parse_fingerprinted(path.removeprefix("/static/")) or ("",))[0] for path in paths
    }, paths
    for path, status, cache in answers:
        assert parse_fingerprinted(path.removeprefix("/static/")) is not None, path
        assert status == 200 and cache == "public, max-age=31536000, immutable", (path, cache)


def test_the_waiting_room_is_watched_and_a_spot_check_comes_and_goes(e2e):
    world = seed(candidates=2)
    exam = db.session.get(Exam, world.exam.id)
    exam.record_waiting_room = True
    db.session.commit()
    me, other = world.candidates
    walk_to_waiting(me, world.assistant)
    walk_to_waiting(other, world.assistant)
    room = _waiting_room(world.panel)
    assert room not in (world.panel.interview_room, world.panel.rest_room)

    # --- the candidate waits in the panel's waiting-room call: camera on, muted, sees nobody --
    candidate = e2e.new_page("candidate")
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "waiting")
    _assert_files_fingerprinted_and_kept(e2e.static)
    label = fresh(Candidate, me.id).display_name_for_examiners
    call = stand_in_call(candidate)
    assert_call(call, room=room, name=label, moderator=False)
    config = call["configOverwrite"]
    assert config["channelLastN"] == 0 and config["disableTileView"] is True
    assert config["startWithAudioMuted"] is True
    assert config["toolbarButtons"] == ["fullscreen", "settings"]  # no mic, camera, chat
    expect(candidate.locator(".waiting-room-call [data-jitsi-status]")).to_have_text("已连接")
    shot(candidate, "candidate-40-waiting-room-call")

    # A second waiting candidate computes the same room on her own page.
    second = e2e.new_page("second candidate")
    enter_code(second, other.code)
    wait_for_stage(second, "waiting")
    assert stand_in_call(second)["roomName"] == room

    # --- the assistant's console: the same room, tile view, recorded -------------------------
    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto(f"/assistant/panels/{world.panel.id}")
    staff_call = _call_in(assistant, room)
    assert_call(staff_call, room=room, name="面试助理 李老师", moderator=True)
    assert "channelLastN" not in staff_call["configOverwrite"]
    assert staff_call["configOverwrite"]["startWithAudioMuted"] is True  # her voice reaches all
    assistant.wait_for_function(
        "() => (window.__jitsiCommands || []).some(c => c.name === 'setTileView' && c.args[0])"
    )
    assistant.wait_for_function(
        "() => (window.__jitsiCommands || []).some(c => c.name === 'startRecording')",
        timeout=15_000,
    )
    expect(assistant.locator("#waiting-room-call [data-jitsi-status]")).to_have_text("录制中")
    rows = assistant.locator("#spot-checks tr", has_text=me.name)
    expect(rows).to_have_count(1)
    assistant.locator("#waiting-room").scroll_into_view_if_needed()
    shot(assistant, "staff-assistant-waiting-room")

    # --- a spot check: rung from the console, accepted on the candidate's page -----------------
    rows.get_by_role("button", name="随机检查", exact=True).click()
    ringing = candidate.locator("[data-incoming-call]")
    expect(ringing).to_contain_text("面试助理正在呼叫您（随机检查）")
    expect(assistant.locator("#spot-checks tr", has_text=me.name)).to_contain_text("随机检查呼叫中")
    shot(candidate, "candidate-41-spot-check-ringing")
    db.session.expire_all()
    spot = live_spot_check(me.id)
    assert spot is not None and spot.kind == "spot_check" and spot.outcome == "ringing"
    # The assistant is in the 1:1 room from the ring, as for a debug call.
    assert_call(
        _call_in(assistant, spot.room), room=spot.room, name="面试助理 李老师", moderator=True
    )

    ringing.get_by_role("button", name="接受").click()
    wait_for_stage(candidate, "spot_check")
    one_to_one = stand_in_call(candidate)
    assert_call(one_to_one, room=spot.room, name=label, moderator=False)
    assert "channelLastN" not in one_to_one["configOverwrite"]  # she sees the assistant
    assert not any(c["roomName"] == room for c in jitsi_calls(candidate))  # left the room
    expect(assistant.locator("#spot-checks tr", has_text=me.name)).to_contain_text("随机检查通话中")
    expect(candidate.get_by_role("heading", name="面试助理视频连线")).to_be_visible()
    shot(candidate, "candidate-42-spot-check-call")
    assistant.locator("#spot-check-call").scroll_into_view_if_needed()
    shot(assistant, "staff-assistant-spot-check")

    # --- ended by the assistant: she is back in the waiting room ------------------------------
    assistant.locator("#spot-check-call").get_by_role("button", name="结束连线").click()
    wait_for_stage(candidate, "waiting")
    assert stand_in_call(candidate)["roomName"] == room
    expect(assistant.locator("#spot-check-call")).not_to_contain_text(me.name)
    db.session.expire_all()
    call_row = db.session.get(Call, spot.id)
    assert call_row.outcome == "ended" and call_row.accepted_at is not None
    assert fresh(Candidate, me.id).state == "waiting"
    # The waiting room's call on the console ran through it all: never reloaded.
    assert [c["roomName"] for c in jitsi_calls(assistant)].count(room) == 1
    assert _commands(assistant).count("startRecording") == 1
