"""Issue 17, Deliver 1 (candidate): a laptop's 1366x768 holds the candidate's pages without
scrolling. During the interview the call, the countdown, the questions and 面试结束 are on one
screen, the questions scrolling inside their own panel however long the 题本; before it, the
device check's camera preview sits beside the notices."""

from playwright.sync_api import expect

from app import db
from app.journey import Actor, perform
from app.models import Candidate, QuestionSet
from tests.e2e.actions import enter_code, start_interview, wait_for_stage, walk_to_waiting
from tests.e2e.conftest import DESKTOP, fresh, shot
from tests.e2e.world import move_entry_cutoff_to_now, seed

# Far more than a screen: twelve questions of several lines each.
LONG_QUESTIONS = "\n\n".join(
    f"第{n}题：某街道准备开展一次面向老年人的智能手机使用培训，"
    "但报名人数不多，部分老人认为学不会、用不上。"
    "如果由你负责这项工作，你会如何组织？请结合实际谈谈具体做法。"
    for n in range(1, 13)
)

# Playwright's bounding box is relative to the viewport: inside it means wholly on screen.
_INSIDE = """
el => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
    && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
}
"""
_PAGE_SCROLL = """
() => ({x: window.scrollX, y: window.scrollY,
        overflow: document.documentElement.scrollHeight - window.innerHeight})
"""

# What Jitsi's external_api.js puts into the frame: an iframe with the height the page asked for
# (the stand-in draws a box instead, so the test puts the real thing's shape in its place).
_JITSI_IFRAME = """
(frame, height) => {
  const iframe = document.createElement('iframe');
  iframe.setAttribute('title', 'Jitsi Meet');
  iframe.style.width = '100%';
  iframe.style.height = height + 'px';
  iframe.style.border = '0';
  frame.replaceChildren(iframe);
}
"""


def _assert_inside(page, selector: str) -> None:
    locator = page.locator(selector)
    expect(locator).to_have_count(1)
    assert locator.evaluate(_INSIDE), (selector, locator.bounding_box(), page.viewport_size)


def _assert_page_not_scrolled(page) -> None:
    scroll = page.evaluate(_PAGE_SCROLL)
    assert scroll["x"] == 0 and scroll["y"] == 0, scroll
    assert scroll["overflow"] <= 0, f"the page itself scrolls by {scroll['overflow']}px"


def test_interview_fits_1366x768_with_a_long_question_set(e2e):
    world = seed(candidates=1, minutes_per_candidate=10)
    questions = db.session.query(QuestionSet).filter_by(exam_id=world.exam.id).one()
    questions.body = LONG_QUESTIONS
    db.session.commit()
    me = world.candidates[0]
    walk_to_waiting(me, world.assistant)
    move_entry_cutoff_to_now(world.exam.id)
    start_interview(fresh(Candidate, me.id), world.chief, seconds_left=500, minutes=10)

    candidate = e2e.new_page("candidate")
    assert candidate.viewport_size == DESKTOP
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "interviewing")
    candidate.wait_for_load_state("load")
    expect(candidate.locator("[data-jitsi-stand-in]")).to_have_count(1)
    expect(candidate.locator(".questions")).to_contain_text("第12题")
    _assert_page_not_scrolled(candidate)
    for selector in (
        ".questions",
        ".countdown[role='timer']",
        ".finish-form button",
        "[data-jitsi-frame]",
    ):
        _assert_inside(candidate, selector)
    expect(candidate.get_by_role("button", name="面试结束")).to_be_visible()

    # The questions overflow their panel and scroll inside it; the page stays where it is.
    panel = candidate.locator(".questions")
    sizes = panel.evaluate("el => ({scroll: el.scrollHeight, client: el.clientHeight})")
    assert sizes["scroll"] > sizes["client"], sizes
    panel.hover()
    candidate.mouse.wheel(0, 2000)
    candidate.wait_for_function("() => document.querySelector('.questions').scrollTop > 0")
    _assert_page_not_scrolled(candidate)
    expect(panel.get_by_text("第12题", exact=False)).to_be_in_viewport()
    _assert_inside(candidate, ".finish-form button")
    shot(candidate, "candidate-14-interview-long-questions")

    # Jitsi's own iframe, as tall as the page asked for, still fits in the frame and the window.
    asked_height = candidate.evaluate("window.__jitsiCalls[window.__jitsiCalls.length - 1].height")
    frame = candidate.locator("[data-jitsi-frame]")
    frame.evaluate(_JITSI_IFRAME, asked_height)

    _assert_inside(candidate, "[data-jitsi-frame] iframe")
    iframe_box = candidate.locator("[data-jitsi-frame] iframe").bounding_box()
    assert iframe_box and iframe_box["height"] >= 300, iframe_box
    _assert_page_not_scrolled(candidate)

    # A poll re-renders the fragment: the layout holds after it too.
    candidate.evaluate("htmx.trigger(document.querySelector('#status'), 'ir:resync')")
    candidate.wait_for_timeout(500)
    _assert_page_not_scrolled(candidate)
    _assert_inside(candidate, ".finish-form button")
    _assert_inside(candidate, ".questions")


def test_device_check_preview_is_on_screen_beside_the_notices(e2e):
    world = seed(candidates=1)
    me = world.candidates[0]
    perform(me.id, "confirm", Actor.of_candidate(me))
    candidate = e2e.new_page("candidate")
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "confirmed")
    candidate.wait_for_load_state("load")
    expect(candidate.locator("[data-device-status]")).to_contain_text("摄像头和麦克风工作正常")
    assert candidate.evaluate("window.scrollY") == 0
    _assert_inside(candidate, "video[data-preview]")
    preview = candidate.locator("video[data-preview]").bounding_box()
    assert preview and preview["height"] >= 200, preview
