"""辅机位 in real browsers (issue 16): the phone joins the debug call with its own token, the
assistant's page sees it join (participantJoined through the stand-in), the assistant checks
it (辅机位已核验) and only then may the candidate enter the waiting room; in the interview the
chief's page sees it leave, and the examiners' and the assistant's consoles show 辅机位已断开
until it comes back."""

from __future__ import annotations

import json

from playwright.sync_api import expect
from sqlalchemy import select

from app import db
from app.jitsi.embed import phone_display_name
from app.journey import Actor, perform
from app.models import AuditEvent, Call, Candidate
from tests.e2e.actions import (
    assert_call,
    enter_code,
    read_all_notices,
    staff_sign_in,
    stand_in_call,
    start_interview,
    wait_for_stage,
)
from tests.e2e.conftest import DESKTOP, PHONE, fresh, jitsi_calls, shot
from tests.e2e.world import move_entry_cutoff_to_now, seed

ALERT_WAIT_MS = 40_000  # the 15 s grace, then the 5 s poll


def emit(page, index: int, name: str, payload: dict) -> None:
    """What the staff page's Jitsi would tell it about another participant."""
    page.evaluate(f"() => window.__jitsiEmit({index}, {json.dumps(name)}, {json.dumps(payload)})")


def phone_reports_now(phone) -> None:
    """The phone page's next camera report, without waiting out its 10 s timer."""
    phone.evaluate("() => document.body.dispatchEvent(new CustomEvent('ir:phone-camera'))")


def test_the_phone_is_seen_checked_and_missed(e2e):
    world = seed(candidates=1)
    world.exam.requires_second_camera = True
    db.session.commit()
    me = world.candidates[0]
    actor, staff = Actor.of_candidate(me), Actor.staff(world.assistant)
    perform(me.id, "confirm", actor)
    read_all_notices(me)
    perform(me.id, "enter_debug", actor)
    for move, who in (
        ("call_debug", staff),
        ("accept_debug", actor),
        ("check_identity", staff),
    ):
        perform(me.id, move, who)

    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto(f"/assistant/panels/{world.panel.id}")
    stand_in_call(assistant)
    # The console holds more than the debug call (the waiting room joins on load): pick the
    # debug call by its room.
    debug_room = db.session.scalars(
        select(Call.room).filter_by(candidate_id=me.id, kind="debug").order_by(Call.id.desc())
    ).first()
    expect(assistant.locator(f'[data-jitsi-room="{debug_room}"]')).to_have_count(1)
    assistant.wait_for_function(
        "room => (window.__jitsiCalls || []).some(c => c.roomName === room)", arg=debug_room
    )
    calls = jitsi_calls(assistant)
    debug_index = max(i for i, c in enumerate(calls) if c["roomName"] == debug_room)
    check = assistant.locator("#phone-check")
    expect(check).to_contain_text("辅机位未在通话中")

    # The candidate's debug page carries the QR code and the bind code.
    candidate = e2e.new_page("candidate", viewport=DESKTOP)
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "debugging")
    bind_code = candidate.locator("#second-camera .bind-code").inner_text().strip()

    # The phone joins the debug call with a token of its own: a member, never a moderator.
    phone = e2e.new_page("phone", viewport=PHONE, mobile=True)
    phone.goto(f"/calls/phone/{bind_code}")
    name = phone_display_name(fresh(Candidate, me.id))
    call = stand_in_call(phone)
    claims = assert_call(call, room=debug_room, name=name, moderator=False)
    assert claims["context"]["user"]["id"] == f"c{me.id}-2"
    assert claims["context"]["features"]["recording"] == "false"
    expect(phone.locator(".jitsi-call")).to_have_attribute("data-jitsi-video", "on")
    # Its own report (camera on) is not enough: nobody on the staff side has seen it yet.
    expect(phone.locator("#phone-ping")).to_contain_text("等待工作人员页面确认")
    assert fresh(Candidate, me.id).second_camera_seen_at is None

    # The assistant's Jitsi sees the phone join; the phone's next report makes it connected.
    emit(assistant, debug_index, "participantJoined", {"id": "ph1", "displayName": name})
    expect(check).to_contain_text("本通话中看到辅机位：是")
    phone_reports_now(phone)
    expect(phone.locator("#phone-ping")).to_contain_text("辅机位已连接")
    button = check.get_by_role("button", name="辅机位已核验", exact=True)
    expect(button).to_be_visible()
    # The board's 辅机位 column follows (its ETag counts the connected phones).
    expect(assistant.locator("#board .badge.ok", has_text="在线")).to_be_visible()
    check.scroll_into_view_if_needed()
    shot(assistant, "assistant-40-phone-check")
    shot(phone, "phone-04-seen-by-staff")
    button.click()
    expect(check.locator(".badge", has_text="辅机位已核验")).to_be_visible()
    expect(check.get_by_role("button")).to_have_count(0)
    assert fresh(Candidate, me.id).second_camera_verified_at is not None
    # 调试完毕, now allowed. The board may be swapping in its refreshed copy (the check
    # refreshes the console) just as the button is pressed: press again if that click was lost.
    for _ in range(3):
        debugged = assistant.locator("#board").get_by_role("button", name="调试完毕", exact=True)
        if debugged.count():
            debugged.click()
        for _ in range(30):
            if fresh(Candidate, me.id).state == "debugged":
                break
            assistant.wait_for_timeout(200)
        if fresh(Candidate, me.id).state == "debugged":
            break
    assert fresh(Candidate, me.id).state == "debugged"
    expect(
        assistant.locator("#board").get_by_role("button", name="调试完毕", exact=True)
    ).to_have_count(0)

    enter_code(candidate, me.code)
    wait_for_stage(candidate, "waiting")
    candidate.get_by_role("button", name="抽签").click()
    lot = None
    for _ in range(50):
        lot = fresh(Candidate, me.id).lot_number
        if lot is not None:
            break
        candidate.wait_for_timeout(100)
    assert lot is not None
    move_entry_cutoff_to_now(world.exam.id)
    start_interview(fresh(Candidate, me.id), world.chief, seconds_left=600, minutes=10)

    # The phone moves to the interview room by itself, under the same one name.
    name = phone_display_name(fresh(Candidate, me.id))
    assert name == f"考生 {lot:02d} 辅机位"
    phone.wait_for_function(
        f"() => (window.__jitsiCalls || []).some(c => c.roomName === {json.dumps(world.panel.interview_room)})",
        timeout=30_000,
    )
    interview_call = jitsi_calls(phone)[-1]
    assert_call(interview_call, room=world.panel.interview_room, name=name, moderator=False)

    chief = e2e.new_page("chief")
    staff_sign_in(chief, "chief1")
    chief.goto(f"/examiner/panels/{world.panel.id}")
    stand_in_call(chief)
    calls = jitsi_calls(chief)
    assert calls[-1]["roomName"] == world.panel.interview_room
    i = len(calls) - 1
    emit(chief, i, "participantJoined", {"id": "ph2", "displayName": name})
    phone_reports_now(phone)
    expect(phone.locator("#phone-ping")).to_contain_text("辅机位已连接")
    alerts = chief.locator("#phone-alerts")
    expect(alerts).not_to_contain_text("辅机位已断开")

    # The phone drops out: the chief's Jitsi says so (participantLeft carries the id only).
    emit(chief, i, "participantLeft", {"id": "ph2"})
    expect(alerts).to_contain_text("辅机位已断开", timeout=ALERT_WAIT_MS)
    expect(alerts).to_contain_text(f"考生 {lot:02d}")
    expect(alerts).not_to_contain_text(me.name)
    assistant.goto(f"/assistant/panels/{world.panel.id}")
    board_alerts = assistant.locator("#phone-alerts")
    expect(board_alerts).to_contain_text(f"{me.name}（考生 {lot:02d}）")
    expect(board_alerts).to_contain_text("辅机位已断开")
    shot(chief, "examiner-40-phone-dropped")
    shot(assistant, "assistant-41-phone-dropped")

    # It comes back: the alert clears on both consoles.
    emit(chief, i, "participantJoined", {"id": "ph3", "displayName": name})
    phone_reports_now(phone)
    expect(alerts).not_to_contain_text("辅机位已断开", timeout=20_000)
    expect(board_alerts).not_to_contain_text("辅机位已断开", timeout=20_000)

    db.session.rollback()
    kinds = [
        kind
        for (kind,) in db.session.query(AuditEvent.kind)
        .filter(AuditEvent.candidate_id == me.id, AuditEvent.kind.like("second_camera.%"))
        .order_by(AuditEvent.id)
    ]
    assert "second_camera.left" in kinds and kinds[-1] == "second_camera.connected", kinds
