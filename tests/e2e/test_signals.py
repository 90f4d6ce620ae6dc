"""疑似切屏 in Chromium: the app's own navigations, the embedded call and the permission prompt
raise no signal; a real switch away from the tab raises exactly one, and the assistant's board
shows its badge within seconds.

Headless Chromium keeps every page "visible" whatever is in front (bringing another page to the
front changes nothing there), so the switch is the second page brought to the front plus the
page's visibilityState emulated to "hidden" and back, with the events a browser fires; the
page's own candidate.js does the rest (its timing, its beacon), as for a real candidate.
"""

from playwright.sync_api import expect
from sqlalchemy import select

from app import db
from app.journey import Actor, perform
from app.models import AuditEvent, Candidate
from tests.e2e.actions import (
    enter_code,
    read_all_notices,
    staff_sign_in,
    stand_in_call,
    start_interview,
    wait_for_stage,
    walk_to_waiting,
)
from tests.e2e.conftest import fresh, shot
from tests.e2e.world import move_entry_cutoff_to_now, seed

SWITCH = "candidate.suspected_switch"

_HIDE = """() => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
  document.dispatchEvent(new Event('visibilitychange'));
  window.dispatchEvent(new Event('blur'));
}"""
_SHOW = """() => {
  delete document.visibilityState;
  delete document.hidden;
  document.dispatchEvent(new Event('visibilitychange'));
  window.dispatchEvent(new Event('focus'));
}"""
# Chrome's permission bubble takes the focus while getUserMedia waits for the answer: a slow
# answer (the candidate reads the bubble) and the blur it causes.
_SLOW_PERMISSION = """
(() => {
  const devices = navigator.mediaDevices;
  if (!devices || !devices.getUserMedia) return;
  const original = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (c) => new Promise((resolve) => setTimeout(resolve, 2500)).then(() => original(c));
})();
"""


def _switches(candidate_id: int) -> list[AuditEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.kind == SWITCH, AuditEvent.candidate_id == candidate_id)
            .order_by(AuditEvent.id)
        )
    )


def _beacons(e2e) -> list[str]:
    return [url for url in e2e.requests if url.endswith("/me/visibility")]


def test_the_apps_own_pages_the_call_and_the_permission_prompt_raise_no_signal(e2e):
    world = seed(candidates=1)
    me = world.candidates[0]
    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto(f"/assistant/panels/{world.panel.id}")

    candidate = e2e.new_page("candidate")
    candidate.context.add_init_script(script=_SLOW_PERMISSION)
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "invited")
    candidate.get_by_role("button", name="确认参加").click()
    wait_for_stage(candidate, "confirmed")
    # The device check asks for the camera: the prompt has the focus for ~2.5 s.
    candidate.evaluate("() => window.dispatchEvent(new Event('blur'))")
    candidate.wait_for_timeout(2600)
    candidate.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect(candidate.locator("[data-device-status]")).to_contain_text("摄像头和麦克风工作正常")
    for read in range(1, len(world.notices) + 1):
        candidate.locator("#notices").get_by_role("button", name="已阅").first.click()
        expect(candidate.locator("#notices .badge", has_text="已阅")).to_have_count(read)
    candidate.get_by_role("button", name="下一步：进入调试等候间").click()
    wait_for_stage(candidate, "debug_waiting")

    # Watched from here: reloads, a help request (an htmx post) and the call.
    for _ in range(2):
        candidate.reload()
        wait_for_stage(candidate, "debug_waiting")
    candidate.locator("#help-box summary").click()
    candidate.get_by_label("请简要说明您遇到的问题").fill("麦克风没有声音")
    candidate.get_by_role("button", name="发送求助").click()
    expect(candidate.locator("#help-box")).to_contain_text("求助已发送")
    assistant.locator("#board tr", has_text=me.name).get_by_role(
        "button", name="呼叫", exact=True
    ).click()
    candidate.locator("[data-incoming-call]").get_by_role("button", name="接受").click()
    wait_for_stage(candidate, "debugging")
    candidate.wait_for_function("() => (window.__jitsiCalls || []).length > 0")
    # Working in the embedded call (Jitsi is an iframe; the stand-in draws none, so one is put
    # in its place): the window blurs, the focus is in the IFRAME, for longer than the threshold.
    candidate.evaluate(
        """() => {
          const frame = document.createElement('iframe');
          frame.src = 'about:blank';
          frame.title = '视频通话';
          document.querySelector('[data-jitsi-stand-in]').appendChild(frame);
          frame.focus();
          window.dispatchEvent(new Event('blur'));
        }"""
    )
    assert candidate.evaluate("() => document.activeElement.tagName") == "IFRAME"
    candidate.wait_for_timeout(2600)
    candidate.evaluate("() => { document.body.focus(); window.dispatchEvent(new Event('focus')); }")
    candidate.reload()
    wait_for_stage(candidate, "debugging")

    e2e.server.wait_until_quiet()
    assert _beacons(e2e) == []
    assert _switches(me.id) == []
    expect(assistant.locator("#board")).not_to_contain_text("疑似切屏")


def _to_debug_waiting(me, now) -> None:
    """Confirmed, notices read, in the debug queue: a page that is watched for switches."""
    now_me = Actor.of_candidate(me)
    perform(me.id, "confirm", now_me, now)
    read_all_notices(me)
    perform(me.id, "enter_debug", now_me, now)


def test_a_real_switch_away_is_one_signal_on_the_assistants_board(e2e):
    world = seed(candidates=2)
    me = world.candidates[0]
    _to_debug_waiting(me, world.now)

    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto(f"/assistant/panels/{world.panel.id}")
    row = assistant.locator("#board tr.state-debug_waiting", has_text=me.name)
    expect(row).to_contain_text("调试等候")
    expect(row.locator("[data-signal]")).to_have_count(0)

    candidate = e2e.new_page("candidate")
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "debug_waiting")

    # Another tab of the same browser comes to the front for ~2.6 s, then the exam page again.
    elsewhere = candidate.context.new_page()
    elsewhere.goto("about:blank")
    elsewhere.bring_to_front()
    candidate.evaluate(_HIDE)
    candidate.wait_for_timeout(2600)
    candidate.bring_to_front()
    candidate.evaluate(_SHOW)
    elsewhere.close()

    # Within seconds, on the assistant's board: the badge with its count (no reload).
    badge = row.locator("[data-signal='switch']")
    expect(badge).to_have_text("疑似切屏 1")
    expect(assistant.locator("#board table.signals")).to_contain_text(me.name)
    shot(assistant, "staff-assistant-console-signals")

    e2e.server.wait_until_quiet()
    [entry] = _switches(me.id)
    assert entry.data["signal"] in ("hidden", "blur")
    assert 2000 < entry.data["ms"] < 15_000, entry.data
    assert entry.data["state"] == "debug_waiting"
    assert len(_beacons(e2e)) == 1


# The tab is already in the background when the exam page loads (the candidate left while it
# was loading): no visibilitychange comes until they are back.
_LOADS_HIDDEN = """
if (location.pathname === '/me') {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
}
"""


def test_a_page_that_loads_in_a_tab_already_left_counts_the_time_away(e2e):
    world = seed(candidates=1)
    me = world.candidates[0]
    _to_debug_waiting(me, world.now)

    candidate = e2e.new_page("candidate")
    candidate.context.add_init_script(script=_LOADS_HIDDEN)
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "debug_waiting")
    candidate.wait_for_load_state("load")
    candidate.wait_for_timeout(2600)
    # The beacon's answer, not a quiet access log: on a loaded machine the beacon can reach the
    # server after 0.6 s without a logged request (a CI run read the audit log before it came).
    with candidate.expect_response(lambda r: r.url.endswith("/me/visibility")) as beacon:
        candidate.evaluate(_SHOW)
    assert beacon.value.status == 204, beacon.value.status

    e2e.server.wait_until_quiet()
    [entry] = _switches(me.id)
    assert entry.data["signal"] == "hidden"
    assert 2000 < entry.data["ms"] < 15_000, entry.data
    assert entry.data["state"] == "debug_waiting"
    assert len(_beacons(e2e)) == 1


def test_the_examiners_see_the_signals_of_the_candidate_in_the_room(e2e):
    world = seed(candidates=1, minutes_per_candidate=10)
    me = world.candidates[0]
    walk_to_waiting(me, world.assistant)
    move_entry_cutoff_to_now(world.exam.id)
    start_interview(fresh(Candidate, me.id), world.chief, seconds_left=590, minutes=10)

    chief = e2e.new_page("chief")
    staff_sign_in(chief, "chief1")
    chief.goto(f"/examiner/panels/{world.panel.id}")
    current = chief.locator("#room .current-candidate")
    expect(current).to_be_visible()
    expect(current.locator("[data-signal]")).to_have_count(0)

    candidate = e2e.new_page("candidate")
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "interviewing")
    # Settled: the call joined (on a busy machine the page may still be wiring it up).
    stand_in_call(candidate)
    candidate.wait_for_load_state("load")
    with candidate.expect_request(lambda r: r.url.endswith("/me/visibility")):
        candidate.evaluate(_HIDE)
        candidate.wait_for_timeout(2600)
        candidate.evaluate(_SHOW)
    expect(current.locator("[data-signal='switch']")).to_have_text("疑似切屏 1")

    # A second browser signs in with the same code (不得多屏登录): 多端登录 1, and the first
    # page learns at its next poll that it was taken over.
    second = e2e.new_page("candidate-elsewhere")
    enter_code(second, me.code)
    wait_for_stage(second, "interviewing")
    expect(current.locator("[data-signal='takeover']")).to_have_text("多端登录 1")
    expect(candidate.get_by_text("您的邀请码已在其他浏览器登录")).to_be_visible()
    expect(current).not_to_contain_text(me.name)  # examiners see 考生 NN only
    shot(chief, "staff-examiner-console-signals")
    e2e.server.wait_until_quiet()
    assert fresh(Candidate, me.id).takeovers == 1
    assert len(_switches(me.id)) == 1
