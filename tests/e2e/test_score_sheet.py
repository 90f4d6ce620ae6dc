"""The examiner's score sheet never loses a keystroke (issue 17, "What was tried"): a value out
of range in one field marks that field and keeps the others through a reload, and the last
field's autosave racing 提交评分 never answers with an error."""

import re

from playwright.sync_api import expect

from app.models import ExaminerScore
from tests.e2e.actions import in_the_room, staff_sign_in
from tests.e2e.conftest import fresh, shot
from tests.e2e.world import SHEET, seed


def _watch_statuses(page) -> list[int]:
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: statuses.append(r.status) if re.search(r"/(draft|submit)$", r.url) else None,
    )
    return statuses


def test_a_value_out_of_range_marks_its_field_and_loses_no_other(e2e):
    world = seed(candidates=1, minutes_per_candidate=10)
    me = in_the_room(world)
    page = e2e.new_page("examiner")
    staff_sign_in(page, "examiner2")
    page.goto(f"/examiner/panels/{world.panel.id}")
    statuses = _watch_statuses(page)
    sheet = page.locator("#scoring")
    first, second, third = (sheet.get_by_label(name) for name, _maximum in SHEET)
    # 45 in a 40-point field (the issue typed 25 into a 20-point one), then the other fields.
    first.fill("45")
    with page.expect_response(lambda r: r.url.endswith("/draft")):
        first.press("Tab")
    expect(first).to_have_attribute("aria-invalid", "true")
    expect(sheet).to_contain_text("综合分析能力：应在 0 至 40.0 之间")
    for field, value in ((second, "25"), (third, "28.5")):
        field.fill(value)
        with page.expect_response(lambda r: r.url.endswith("/draft")):
            field.press("Tab")
    expect(first).to_have_attribute("aria-invalid", "true")  # still marked, still not saved
    shot(page, "staff-examiner-score-field-error")
    page.reload()
    sheet = page.locator("#scoring")
    first, second, third = (sheet.get_by_label(name) for name, _maximum in SHEET)
    expect(second).to_have_value(re.compile(r"^25(\.0)?$"))
    expect(third).to_have_value("28.5")
    expect(first).to_have_value("")  # never a score, so nothing was kept for it
    # Full-width digits are refused with the reason, not silently read as 38.
    first.fill("３８")
    with page.expect_response(lambda r: r.url.endswith("/draft")):
        first.press("Tab")
    expect(sheet).to_contain_text("全角数字")
    first.fill("38")
    with page.expect_response(lambda r: r.url.endswith("/draft")):
        first.press("Tab")
    expect(first).not_to_have_attribute("aria-invalid", "true")
    expect(sheet.locator("[data-score-total]")).to_have_text("91.5")
    assert all(status == 200 for status in statuses), statuses
    items = {
        i.dimension_id: i.value
        for i in fresh(ExaminerScore, _sheet_id(me, world.examiners[1])).items
    }
    assert sorted(str(v) for v in items.values()) == ["25.0", "28.5", "38.0"]


def test_the_last_fields_autosave_racing_submit_answers_no_error(e2e):
    world = seed(candidates=1, minutes_per_candidate=10)
    me = in_the_room(world)
    page = e2e.new_page("examiner")
    staff_sign_in(page, "examiner3")
    page.goto(f"/examiner/panels/{world.panel.id}")
    statuses = _watch_statuses(page)
    sheet = page.locator("#scoring")
    fields = [sheet.get_by_label(name) for name, _maximum in SHEET]
    for field, value in zip(fields[:-1], ("36", "27"), strict=True):
        field.fill(value)
    # Type the last value and press Submit straight away: the field's change (autosave) and the
    # submission leave together, as when an examiner clicks Submit from the last field.
    fields[-1].fill("27")
    sheet.get_by_role("button", name="提交评分").click()
    expect(sheet).to_contain_text("已提交")
    page.wait_for_timeout(500)  # let a late autosave come back, if one is still out
    assert statuses and all(status == 200 for status in statuses), statuses
    expect(page.locator(".flash-error")).to_have_count(0)
    sheet_row = fresh(ExaminerScore, _sheet_id(me, world.examiners[2]))
    assert sheet_row.status == "submitted"
    assert sorted(str(i.value) for i in sheet_row.items) == ["27.0", "27.0", "36.0"]


def _sheet_id(candidate, examiner) -> int:
    from app import db

    return (
        db.session.query(ExaminerScore.id)
        .filter_by(candidate_id=candidate.id, examiner_id=examiner.id)
        .scalar()
    )
