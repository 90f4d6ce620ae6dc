"""The examiner's moment that matters fits a 1366x768 laptop (issue 17): while a candidate is
interviewed, the chief's and an examiner's console show the call (large), the countdown, the
question with its scoring guide and the score sheet's fields and submit button at once, with the
page not scrolled; the queue and the board are one click away.

"Large" here: the element the Jitsi API puts into the call's frame (the iframe; the stand-in's
box in these tests) is at least half the viewport's width and 45% of its height.
"""

from playwright.sync_api import expect

from tests.e2e.actions import in_the_room, staff_sign_in
from tests.e2e.conftest import DESKTOP, shot
from tests.e2e.world import SHEET, seed

# Each box that must be seen whole: its rectangle, and whether something in its way (a box that
# scrolls, the page itself) cuts it off.
_BOXES = """
(selectors) => selectors.map((selector) => {
  const el = document.querySelector(selector);
  if (!el) return {selector, missing: true};
  const r = el.getBoundingClientRect();
  let clipped = false;
  for (let up = el.parentElement; up; up = up.parentElement) {
    const style = getComputedStyle(up);
    if (style.overflowY === 'visible' && style.overflowX === 'visible') continue;
    const c = up.getBoundingClientRect();
    if (r.top < c.top - 1 || r.bottom > c.bottom + 1 || r.left < c.left - 1 || r.right > c.right + 1) {
      clipped = up.id || up.className || up.tagName;
    }
  }
  return {selector, top: r.top, left: r.left, bottom: r.bottom, right: r.right,
          width: r.width, height: r.height, clipped};
})
"""


def _must_be_seen(candidate_id: int) -> list[str]:
    fields = [
        f"#scoring tbody tr:nth-child({i}) [data-score-input]" for i in range(1, len(SHEET) + 1)
    ]
    return [
        "[data-jitsi-frame] > *",
        "[data-examiner-countdown]",
        "#questions .question-body",
        "#questions .question-guide",
        *fields,
        f"#score-{candidate_id} button.primary[type=submit]",
    ]


def _assert_all_in_view(page, candidate_id: int) -> dict:
    assert page.evaluate("() => [window.scrollX, window.scrollY]") == [0, 0]
    # Nothing to scroll to either: the page is no taller or wider than the window.
    width, height = DESKTOP["width"], DESKTOP["height"]
    size = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert size[0] <= width and size[1] <= height, f"the page scrolls: {size}"
    boxes = page.evaluate(_BOXES, _must_be_seen(candidate_id))
    for box in boxes:
        assert not box.get("missing"), box
        inside = (
            box["left"] >= 0
            and box["top"] >= 0
            and box["right"] <= width
            and box["bottom"] <= height
            and box["width"] > 0
            and box["height"] > 0
        )
        assert inside, f"{box['selector']} is not wholly on screen: {box}"
        assert not box["clipped"], f"{box['selector']} is cut off by {box['clipped']}: {box}"
    call = boxes[0]
    assert call["width"] >= 0.5 * width and call["height"] >= 0.45 * height, call
    return {box["selector"]: box for box in boxes}


def _console(e2e, world, username: str):
    page = e2e.new_page(username)
    staff_sign_in(page, username)
    page.goto(f"/examiner/panels/{world.panel.id}")
    expect(page.locator("[data-jitsi-frame] > *")).to_be_visible()
    expect(page.locator("[data-examiner-countdown]")).to_be_visible()
    return page


def test_the_chief_sees_call_clock_question_guide_and_sheet_on_one_laptop_screen(e2e):
    world = seed(candidates=2, minutes_per_candidate=10)
    me = in_the_room(world)
    chief = _console(e2e, world, "chief1")
    # The chief's own buttons are there too, above the call.
    expect(chief.get_by_role("button", name="结束面试")).to_be_visible()
    _assert_all_in_view(chief, me.id)
    shot(chief, "staff-examiner-laptop-chief")

    # The queue is one click away, and the sheet one click back; polling goes on meanwhile.
    chief.get_by_role("tab", name="候考队列").click()
    queue = chief.locator("#room-queue")
    expect(queue).to_be_visible()
    expect(queue).to_contain_text("候考")
    expect(chief.locator("#scoring")).to_be_hidden()
    expect(chief.locator("[data-jitsi-frame] > *")).to_be_visible()  # the call stays
    shot(chief, "staff-examiner-laptop-queue-view")
    chief.get_by_role("tab", name="成绩公布").click()
    expect(chief.locator("#result-board")).to_be_visible()
    expect(queue).to_be_hidden()
    chief.get_by_role("tab", name="题本与评分").click()
    expect(chief.locator("#scoring")).to_be_visible()
    _assert_all_in_view(chief, me.id)


def test_an_examiner_scores_while_watching_on_one_laptop_screen(e2e):
    world = seed(candidates=1, minutes_per_candidate=10)
    me = in_the_room(world)
    page = _console(e2e, world, "examiner2")
    _assert_all_in_view(page, me.id)
    sheet = page.locator(f"#score-{me.id}")
    for (name, _maximum), value in zip(SHEET, ("30", "25", "24"), strict=True):
        field = sheet.get_by_label(name)
        field.fill(value)
        with page.expect_response(lambda r: r.url.endswith("/draft")):
            field.press("Tab")
    expect(sheet.locator("[data-score-total]")).to_have_text("79.0")
    # Typing scrolled nothing.
    _assert_all_in_view(page, me.id)
    shot(page, "staff-examiner-laptop-examiner")
