"""Every staff page opens in the browser without an error, with an exam mid-way through the day
behind it (one candidate scored and published, one waiting), and is photographed."""

import re

import pytest
from playwright.sync_api import expect

from app import db
from app.journey import Actor, perform
from app.models import Candidate, Role, ScoreDimension
from app.scoring import service as scoring
from tests.e2e.actions import staff_sign_in, start_interview, walk_to_waiting
from tests.e2e.conftest import fresh, shot
from tests.e2e.world import move_entry_cutoff_to_now, seed
from tests.factories import gen_user

TOTALS = [(32, 24, 24), (34, 26, 25), (36, 27, 27), (30, 23, 22), (35, 27, 26)]


@pytest.fixture
def day(app):
    """An exam at midday: candidate 1 interviewed, scored by five, confirmed and resting;
    candidate 2 in the waiting room; candidate 3 not in yet."""
    world = seed(candidates=3, minutes_per_candidate=10)
    gen_user("admin", Role.ADMIN, display_name="系统管理员")
    first, second = world.candidates[0], world.candidates[1]
    walk_to_waiting(first, world.assistant)
    walk_to_waiting(second, world.assistant)
    move_entry_cutoff_to_now(world.exam.id)
    first = fresh(Candidate, first.id)
    if first.lot_number > fresh(Candidate, second.id).lot_number:
        first, second = fresh(Candidate, second.id), first  # the chief calls the lowest lot
    start_interview(first, world.chief, seconds_left=300, minutes=10)
    perform(first.id, "finish", Actor.staff(world.chief))
    perform(first.id, "enter_rest", Actor.of_candidate(first))
    dimensions = (
        db.session.query(ScoreDimension)
        .filter_by(exam_id=world.exam.id)
        .order_by(ScoreDimension.position)
        .all()
    )
    first = fresh(Candidate, first.id)
    for examiner, values in zip(world.examiners, TOTALS, strict=True):
        raw = {d.id: str(v) for d, v in zip(dimensions, values, strict=True)}
        scoring.submit(first, examiner, raw)
    scoring.confirm(fresh(Candidate, first.id), world.chief)
    return world


def _visit(page, path: str, name: str) -> None:
    response = page.goto(path)
    assert response is not None and response.ok, f"{path}: {response.status if response else None}"
    expect(page.get_by_role("heading").first).to_be_visible()
    shot(page, name)


def test_hr_pages(e2e, day):
    exam, panel = day.exam.id, day.panel.id
    candidate = day.candidates[0].id
    notice = day.notices[0].id
    hr = e2e.new_page("hr")
    staff_sign_in(hr, "hr")
    pages = [
        ("/hr/exams", "staff-hr-01-exams"),
        ("/hr/exams/new", "staff-hr-02-exam-new"),
        (f"/hr/exams/{exam}", "staff-hr-03-exam-detail"),
        (f"/hr/exams/{exam}/edit", "staff-hr-04-exam-edit"),
        (f"/hr/exams/{exam}/import", "staff-hr-05-import"),
        (f"/hr/exams/{exam}/candidates", "staff-hr-06-candidates"),
        (f"/hr/exams/{exam}/assign", "staff-hr-07-assign"),
        (f"/hr/exams/{exam}/panels/new", "staff-hr-08-panel-new"),
        (f"/hr/exams/{exam}/panels/{panel}", "staff-hr-09-panel"),
        (f"/hr/exams/{exam}/codes", "staff-hr-10-codes"),
        (f"/hr/exams/{exam}/slips", "staff-hr-11-slips"),
        (f"/hr/exams/{exam}/notices", "staff-hr-12-notices"),
        (f"/hr/exams/{exam}/notices/{notice}", "staff-hr-13-notice-edit"),
        (f"/hr/exams/{exam}/questions", "staff-hr-14-questions"),
        (f"/hr/exams/{exam}/overview", "staff-hr-15-overview"),
        (f"/hr/exams/{exam}/candidates/{candidate}/timeline", "staff-hr-16-timeline"),
        (f"/hr/exams/{exam}/score-sheet", "staff-hr-17-score-sheet"),
        (f"/hr/exams/{exam}/paper-entry", "staff-hr-18-paper-entry"),
        (f"/hr/exams/{exam}/results", "staff-hr-19-results"),
        ("/staff/recordings/", "staff-hr-20-recordings"),
    ]
    for path, name in pages:
        _visit(hr, path, name)
    # The published score is on the results page: trimmed mean of 80, 85, 90, 75, 88 = 84.33.
    hr.goto(f"/hr/exams/{exam}/results")
    expect(hr.locator("body")).to_contain_text("84.33")


def test_admin_and_sign_in_pages(e2e, day):
    visitor = e2e.new_page("visitor")
    _visit(visitor, "/staff/login", "staff-00-sign-in")
    admin = e2e.new_page("admin")
    staff_sign_in(admin, "admin")
    _visit(admin, "/admin/staff", "staff-admin-01-users")
    _visit(admin, "/admin/staff/new", "staff-admin-02-user-new")


def test_consoles_mid_day(e2e, day):
    """The assistant's and every examiner's console while candidate 2 waits to be called."""
    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto("/assistant/")
    expect(assistant).to_have_url(re.compile(rf"/assistant/panels/{day.panel.id}$"))
    expect(assistant.locator("#board")).to_contain_text("休息室 1")

    chief = e2e.new_page("chief")
    staff_sign_in(chief, "chief1")
    chief.goto("/examiner/")
    expect(chief).to_have_url(re.compile(rf"/examiner/panels/{day.panel.id}$"))
    room = chief.locator("#room")
    expect(room).to_contain_text("候考 1")
    expect(room.get_by_role("button", name=re.compile("呼叫下一位"))).to_be_visible()
    shot(chief, "staff-examiner-console-mid-day")
    # Examiners never see a name: only "考生 NN".
    for person in day.candidates:
        expect(chief.locator("body")).not_to_contain_text(person.name)

    examiner = e2e.new_page("examiner2")
    staff_sign_in(examiner, "examiner2")
    examiner.goto(f"/examiner/panels/{day.panel.id}")
    expect(examiner.locator("#room")).to_contain_text("候考 1")
    # Only the chief calls.
    expect(examiner.get_by_role("button", name=re.compile("呼叫下一位"))).to_have_count(0)
    shot(examiner, "staff-examiner-console-examiner")
