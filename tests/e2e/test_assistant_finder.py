"""The violation form's candidate finder in Chromium (issue 17): type part of a name or a lot
number, the options come (htmx), the keyboard moves and chooses (candidate-finder.js), and the
flag is recorded for the candidate chosen."""

from playwright.sync_api import expect
from sqlalchemy import select

from app import db
from app.models import Violation
from tests.e2e.actions import staff_sign_in, walk_to_waiting
from tests.e2e.conftest import fresh, shot
from tests.e2e.world import seed


def _flags() -> list[tuple[int, str]]:
    db.session.rollback()
    return [tuple(r) for r in db.session.execute(select(Violation.candidate_id, Violation.kind))]


def _in_view(page, locator) -> None:
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (box, size)


def test_type_choose_with_the_keyboard_and_flag(e2e):
    world = seed(candidates=3)
    wang, li, zhang = world.candidates
    walk_to_waiting(zhang, world.assistant)  # draws a lot
    zhang = fresh(type(zhang), zhang.id)

    page = e2e.new_page("assistant")
    staff_sign_in(page, "assistant1")
    page.goto(f"/assistant/panels/{world.panel.id}")
    form = page.locator("#violation-form")
    field = form.get_by_label("考生", exact=False).first
    options = form.locator("[role=option]")
    field.scroll_into_view_if_needed()

    # Part of a name: the one match; ArrowDown marks it, Enter chooses without posting.
    field.press_sequentially("李", delay=50)
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("李婷")
    expect(field).to_have_attribute("aria-expanded", "true")
    _in_view(page, options.first)  # the side column scrolled to show the list, not only the field
    field.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    shot(page, "assistant-52-violation-finder")
    field.press("Enter")
    expect(field).to_have_value("李婷")
    expect(form.locator("input[name=candidate_id]")).to_have_value(str(li.id))
    expect(options).to_have_count(0)
    assert _flags() == []  # Enter chose; it did not post

    form.get_by_role("radio", name="切屏").check()
    form.get_by_role("button", name="记录违纪").click()
    expect(form.get_by_role("status")).to_contain_text("已记录 李婷：切屏。")
    assert _flags() == [(li.id, "切屏")]

    # A lot number, chosen with a click this time.
    field = page.locator("#violation-candidate")
    field.press_sequentially(f"{zhang.lot_number:02d}", delay=50)
    expect(options.first).to_contain_text(zhang.name)
    options.first.click()
    expect(field).to_have_value(f"{zhang.lot_number:02d} · {zhang.name}")
    # Typing again forgets the choice: a stale id is never posted.
    field.press("End")
    field.press_sequentially("x")
    expect(page.locator("#violation-form input[name=candidate_id]")).to_have_value("")
    page.locator("#violation-form").get_by_role("radio", name="其他").check()
    page.locator("#violation-note").fill("离开座位")
    page.locator("#violation-form").get_by_role("button", name="记录违纪").click()
    expect(page.locator("#violation-form [role=alert]")).to_contain_text("本考场没有与")
    assert _flags() == [(li.id, "切屏")]
    assert wang.id not in [c for c, _ in _flags()]
