"""Issue 16's rest room and interview room, in Chromium: the rest room recorded without a click as
soon as a candidate rests, 休息室未录制 on every staff console while no staff page is in its call,
未进入休息室 on the assistant's board, and the chief's page removing a stray participant.

The steps before (debugging, the interview) are taken with the app's own journey; people only
open their consoles. Participants other than the page itself come and go through the stand-in's
`window.__jitsiJoin` / `__jitsiLeave` (tests/e2e/stand_in/external_api.js).
"""

from playwright.sync_api import Page, expect
from sqlalchemy import select

from app import db
from app.journey import Actor, perform
from app.models import AuditEvent, Candidate
from app.timeutil import utcnow
from tests.e2e.actions import all_waiting_in_lot_order, assert_call, staff_sign_in, start_interview
from tests.e2e.conftest import fresh, shot
from tests.e2e.world import seed

WARNING = "休息室未录制"


def _interview_and_finish(world, candidate: Candidate) -> Candidate:
    start_interview(candidate, world.chief, seconds_left=120, minutes=4)
    perform(candidate.id, "finish", Actor.staff(world.chief), utcnow())
    return fresh(Candidate, candidate.id)


def _recording_started(page: Page, room: str) -> None:
    page.wait_for_function(
        """room => {
          const calls = window.__jitsiCalls || [];
          return (window.__jitsiCommands || []).some(c => c.name === 'startRecording'
            && calls[c.index] && calls[c.index].roomName === room && !calls[c.index].disposed);
        }""",
        arg=room,
        timeout=15_000,
    )


def test_the_rest_room_is_recorded_without_a_click_and_unwatched_is_said(e2e):
    world = seed(candidates=2, minutes_per_candidate=4)
    first = _interview_and_finish(world, all_waiting_in_lot_order(world)[0])
    rest_room = world.panel.rest_room

    # The chief watches; the assistant's console is not open yet.
    chief = e2e.new_page("chief")
    staff_sign_in(chief, "chief1")
    chief.goto(f"/examiner/panels/{world.panel.id}")
    expect(chief.locator("#rest-cover")).not_to_contain_text(WARNING)  # nobody rests yet

    # Finished, not in the rest room: on the assistant's board, with the time since the end.
    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto(f"/assistant/panels/{world.panel.id}")
    missing = assistant.locator("table.not-in-rest-room")
    expect(assistant.locator("#not-in-rest-room")).to_contain_text("未进入休息室")
    expect(missing).to_contain_text(first.name)
    expect(missing).to_contain_text(f"{first.lot_number:02d}")
    since = missing.locator("[data-elapsed]")
    first_since = since.inner_text()
    expect(since).not_to_have_text(first_since, timeout=5_000)  # counting up
    shot(assistant, "staff-assistant-not-in-rest-room")
    # Nobody rests: the console has not joined the rest room (it would record an empty room).
    assert not [c for c in e2e_calls(assistant) if c["roomName"] == rest_room]

    # She enters the rest room (her page, her code): the assistant's console joins and records
    # by itself; nobody clicks.
    assistant.close()
    perform(first.id, "enter_rest", Actor.of_candidate(first), utcnow())
    expect(chief.locator("#rest-cover")).to_contain_text(WARNING, timeout=10_000)
    shot(chief, "staff-examiner-rest-room-not-recorded")

    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto(f"/assistant/panels/{world.panel.id}")
    assistant.wait_for_function(
        "room => (window.__jitsiCalls || []).some(c => c.roomName === room && !c.disposed)",
        arg=rest_room,
    )
    rest_call = next(c for c in e2e_calls(assistant) if c["roomName"] == rest_room)
    assert_call(rest_call, room=rest_room, name="面试助理 李老师", moderator=True)
    _recording_started(assistant, rest_room)
    expect(assistant.locator("#rest-call [data-jitsi-status]")).to_have_text("录制中")
    expect(assistant.locator("#board table.not-in-rest-room")).to_have_count(0)
    # The heartbeat reaches every console of the panel: the warning goes.
    expect(chief.locator("#rest-cover")).not_to_contain_text(WARNING, timeout=10_000)
    expect(chief.locator("#rest-cover")).to_contain_text("录制中")
    expect(assistant.locator("#rest-cover")).not_to_contain_text(WARNING, timeout=10_000)
    shot(assistant, "staff-assistant-rest-room-recorded")
    assistant.locator("#rest-call").scroll_into_view_if_needed()
    shot(assistant, "staff-assistant-rest-room-call-recording")

    # The assistant leaves the call on purpose: every console says so again, and hers does not
    # rejoin by itself.
    assistant.locator("#rest-call").get_by_role("link", name="离开休息室通话").click()
    expect(assistant.locator("#rest-call")).to_contain_text("不会自动重新加入")
    expect(chief.locator("#rest-cover")).to_contain_text(WARNING, timeout=10_000)
    expect(assistant.locator("#rest-cover")).to_contain_text(WARNING, timeout=10_000)
    assistant.wait_for_timeout(4_000)  # longer than the section's poll
    live = [c for c in e2e_calls(assistant) if c["roomName"] == rest_room and not c["disposed"]]
    assert not live, live
    assistant.locator("#rest-call").scroll_into_view_if_needed()
    shot(assistant, "staff-assistant-rest-room-left")


def test_the_chiefs_page_removes_a_finished_candidate_and_an_unknown_name(e2e):
    world = seed(candidates=2, minutes_per_candidate=4)
    first, now_in = all_waiting_in_lot_order(world)
    done = _interview_and_finish(world, first)
    start_interview(now_in, world.chief, seconds_left=200, minutes=4)
    now_in = fresh(Candidate, now_in.id)

    chief = e2e.new_page("chief")
    staff_sign_in(chief, "chief1")
    chief.goto(f"/examiner/panels/{world.panel.id}")
    expect(chief.locator("#interview-call [data-jitsi-status]")).to_have_text("已连接")
    # The guard works whichever view is shown; its list is one click away, beside the call.
    expect(chief.locator("#room-guard")).to_be_attached()
    chief.get_by_role("tab", name="面试间人员核对").click()
    expect(chief.locator("#room-guard")).to_be_visible()

    current = f"考生 {now_in.lot_number:02d}"
    stray = f"考生 {done.lot_number:02d}"
    chief.evaluate(
        """([current, stray]) => {
          window.__jitsiJoin(-1, {id: 'p-current', displayName: current});
          window.__jitsiJoin(-1, {id: 'p-examiner', displayName: '考官 刘老师'});
          window.__jitsiJoin(-1, {id: 'p-phone', displayName: current + ' 辅机位'});
          window.__jitsiJoin(-1, {id: 'p-stray', displayName: stray});
          window.__jitsiJoin(-1, {id: 'p-unknown', displayName: '路人甲'});
        }""",
        [current, stray],
    )
    chief.wait_for_function("() => (window.__jitsiKicked || []).length >= 2", timeout=10_000)
    kicks = [c for c in chief.evaluate("window.__jitsiCommands") if c["name"] == "kickParticipant"]
    assert sorted(k["args"][0] for k in kicks) == ["p-stray", "p-unknown"]
    left = {p["id"] for p in chief.evaluate("window.__jitsiParticipants(-1)")}
    assert left == {"p-current", "p-examiner", "p-phone"}
    log = chief.locator("[data-room-guard-log]")
    expect(log).to_contain_text(f"已移出 {stray}")
    expect(log).to_contain_text("已移出 路人甲")
    # The periodic sweep leaves those who belong alone.
    chief.wait_for_timeout(11_000)
    kicks = [c for c in chief.evaluate("window.__jitsiCommands") if c["name"] == "kickParticipant"]
    assert len(kicks) == 2, kicks
    chief.locator("#room-guard").scroll_into_view_if_needed()
    shot(chief, "staff-examiner-room-guard")

    def removals():
        db.session.rollback()
        return list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.kind == "call.participant_removed")
                .order_by(AuditEvent.id)
            )
        )

    for _ in range(20):
        if len(removals()) == 2:
            break
        chief.wait_for_timeout(250)
    events = removals()
    assert {e.data["display_name"] for e in events} == {stray, "路人甲"}
    by_name = {e.data["display_name"]: e for e in events}
    assert by_name[stray].candidate_id == done.id  # in her timeline
    assert by_name["路人甲"].candidate_id is None
    assert all(e.actor_id == world.chief.id for e in events)

    # HR reads it in words on the finished candidate's timeline.
    hr = e2e.new_page("hr")
    staff_sign_in(hr, "hr")
    hr.goto(f"/hr/exams/{world.exam.id}/candidates/{done.id}/timeline")
    removed_line = hr.get_by_text("被主考官页面自动移出面试间")
    expect(removed_line).to_be_visible()
    removed_line.scroll_into_view_if_needed()
    shot(hr, "staff-hr-timeline-participant-removed")


def e2e_calls(page: Page) -> list[dict]:
    return page.evaluate("window.__jitsiCalls || []")
