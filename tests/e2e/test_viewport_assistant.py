"""The assistant's console at 1366x768 (issue 17): the call that matters is large and first, the
queues beside it, and nothing needs the page scrolled.

Threshold: the call's frame (`[data-jitsi-frame]`, where Jitsi puts its iframe; the stand-in
draws into it) is at least half the viewport's width and half its height, lies wholly inside the
viewport while the page is not scrolled, and the debug queue (`#board`) starts to its right and
inside the viewport. Checked for my debug call and for the rest-room call.
"""

from playwright.sync_api import Page, expect

from app.journey import Actor, perform
from app.timeutil import utcnow
from tests.e2e.actions import (
    all_waiting_in_lot_order,
    read_all_notices,
    staff_sign_in,
    start_interview,
)
from tests.e2e.conftest import shot
from tests.e2e.world import seed

WIDTH, HEIGHT = 1366, 768
SHARE = 0.5  # of the viewport's width and of its height

_GEOMETRY = """
selector => {
  const box = el => { const r = el.getBoundingClientRect();
                      return {x: r.left, y: r.top, right: r.right, bottom: r.bottom,
                              width: r.width, height: r.height}; };
  const frame = document.querySelector(selector);
  const board = document.querySelector('#board');
  return {frame: frame && box(frame), board: board && box(board),
          scrollX: window.scrollX, scrollY: window.scrollY,
          viewport: {width: window.innerWidth, height: window.innerHeight}};
}
"""


def _assert_large_first_and_beside_the_queue(page: Page, section: str) -> dict:
    frame = page.locator(f"{section} [data-jitsi-frame]")
    expect(frame).to_be_visible()
    expect(page.locator("#board")).to_be_visible()
    g = page.evaluate(_GEOMETRY, f"{section} [data-jitsi-frame]")
    assert g["viewport"] == {"width": WIDTH, "height": HEIGHT}, g
    assert (g["scrollX"], g["scrollY"]) == (0, 0), g
    f, b = g["frame"], g["board"]
    assert f["width"] >= SHARE * WIDTH, f"the call is {f['width']:.0f}px wide: {g}"
    assert f["height"] >= SHARE * HEIGHT, f"the call is {f['height']:.0f}px high: {g}"
    assert f["x"] >= 0 and f["y"] >= 0 and f["right"] <= WIDTH and f["bottom"] <= HEIGHT, g
    # The queue column beside the call: to its right, its top inside the viewport.
    assert b["x"] >= f["right"] and b["right"] <= WIDTH and 0 <= b["y"] < HEIGHT / 2, g
    return g


def test_my_debug_call_is_large_first_and_the_queue_beside_it(e2e):
    world = seed(candidates=2)
    me = world.candidates[0]
    now = utcnow()
    perform(me.id, "confirm", Actor.of_candidate(me), now)
    read_all_notices(me)
    perform(me.id, "enter_debug", Actor.of_candidate(me), now)
    perform(me.id, "call_debug", Actor.staff(world.assistant), now)
    perform(me.id, "accept_debug", Actor.of_candidate(me), now)

    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto(f"/assistant/panels/{world.panel.id}")
    expect(assistant.locator("#debug-call")).to_contain_text(me.name)
    expect(assistant.locator("#board tr", has_text=me.name)).to_be_visible()
    # The buttons of the call are in the queue beside it, visible without scrolling.
    checked = assistant.locator("#board tr", has_text=me.name).get_by_role(
        "button", name="身份已核验"
    )
    expect(checked).to_be_in_viewport()
    _assert_large_first_and_beside_the_queue(assistant, "#debug-call")
    # The debug call comes before the waiting-room call, which runs too.
    order = assistant.evaluate(
        "() => Array.from(document.querySelectorAll('.console-stage > .stage-call.live'))"
        ".sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)"
        ".map(el => el.id)"
    )
    assert order[:2] == ["debug-call", "waiting-room-call"], order
    shot(assistant, "assistant-50-debug-call-1366x768")

    # A move keeps the call where it is (the board swaps, the call is not reloaded).
    checked.click()
    expect(
        assistant.locator("#board tr", has_text=me.name).get_by_role("button", name="调试完毕")
    ).to_be_visible()
    _assert_large_first_and_beside_the_queue(assistant, "#debug-call")


def test_the_rest_room_call_is_large_first_and_the_queue_beside_it(e2e):
    world = seed(candidates=2, minutes_per_candidate=4)
    first = all_waiting_in_lot_order(world)[0]
    start_interview(first, world.chief, seconds_left=120, minutes=4)
    perform(first.id, "finish", Actor.staff(world.chief), utcnow())
    perform(first.id, "enter_rest", Actor.of_candidate(first), utcnow())

    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto(f"/assistant/panels/{world.panel.id}")
    # The console joins the rest room by itself; the call comes first, large.
    expect(assistant.locator("#rest-call.live [data-jitsi-frame]")).to_be_visible(timeout=15_000)
    expect(assistant.locator("#rest-call [data-jitsi-status]")).to_have_text(
        "录制中", timeout=15_000
    )
    _assert_large_first_and_beside_the_queue(assistant, "#rest-call")
    expect(assistant.locator("#board")).to_contain_text(first.name)
    release = assistant.locator("#board tr", has_text=first.name).get_by_role(
        "button", name="放行", exact=True
    )
    expect(release).to_be_visible()
    shot(assistant, "assistant-51-rest-room-call-1366x768")
