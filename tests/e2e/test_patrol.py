"""巡考 and help that reaches someone (issue 16, items 6 and 7), in the browser: a supervisor
watches a panel's board and joins the interview call as "巡考 <name>", not a moderator, with no
button to press; HR answers the help of a candidate who has no panel, and she sees the reply."""

import re

from playwright.sync_api import expect

from app import db
from app.journey import Actor, perform
from app.models import Call, Candidate, ExamSupervisor, Role
from tests.e2e.actions import (
    assert_call,
    enter_code,
    read_all_notices,
    staff_sign_in,
    stand_in_call,
    stand_in_call_in,
    start_interview,
    walk_to_waiting,
)
from tests.e2e.conftest import fresh, shot
from tests.e2e.world import move_entry_cutoff_to_now, seed
from tests.factories import gen_user

# Whatever would change something: forms that post and htmx posts, in the page's main part.
VISIBLE_WRITES = "main form[method=post]:visible, main [hx-post]:visible, main button:visible"


def _call_of(candidate_id: int) -> int:
    return db.session.query(Call.id).filter_by(candidate_id=candidate_id).scalar()


def test_a_supervisor_watches_a_panel_and_joins_the_interview_as_an_observer(e2e, app):
    world = seed(candidates=2, minutes_per_candidate=10)
    first, second = world.candidates
    walk_to_waiting(first, world.assistant)
    # The second in a debug call, so that the board has a row (and a phone number) to show and
    # the 巡考 a one-to-one call to observe.
    me = Actor.of_candidate(second)
    perform(second.id, "confirm", me)
    read_all_notices(second)
    perform(second.id, "enter_debug", me)
    perform(second.id, "call_debug", Actor.staff(world.assistant))
    perform(second.id, "accept_debug", me)
    move_entry_cutoff_to_now(world.exam.id)
    start_interview(fresh(Candidate, first.id), world.chief, seconds_left=400, minutes=10)
    patrol = gen_user("patrol1", Role.SUPERVISOR, display_name="周老师")
    db.session.add(ExamSupervisor(exam_id=world.exam.id, user_id=patrol.id))
    db.session.commit()

    page = e2e.new_page("supervisor")
    staff_sign_in(page, "patrol1")
    expect(page).to_have_url(re.compile(r"/supervisor/$"))
    expect(page.locator("main")).to_contain_text(world.exam.name)
    expect(page.locator("main")).to_contain_text("第一考场")
    shot(page, "supervisor-01-home")

    page.get_by_role("link", name="助理台").click()
    expect(page).to_have_url(re.compile(rf"/assistant/panels/{world.panel.id}$"))
    board = page.locator("#board")
    expect(board).to_contain_text(second.name)
    expect(board).to_contain_text("139****0001")  # masked for a 巡考
    expect(page.locator("body")).not_to_contain_text("13900000001")
    expect(page.locator("body")).to_have_class(re.compile(r"\bread-only\b"))
    # The buttons are there for an assistant, none for a 巡考.
    assert board.locator("form[method=post]").count() > 0
    expect(page.locator(VISIBLE_WRITES)).to_have_count(0)
    shot(page, "supervisor-02-assistant-board")

    observe = page.locator("#observe-calls")
    expect(observe).to_contain_text(second.name)
    observe.get_by_role("link", name="旁听").click()
    debug_room = fresh(Call, _call_of(second.id)).room
    call = stand_in_call_in(page, debug_room)
    assert_call(call, room=debug_room, name="巡考 周老师", moderator=False)
    expect(page.locator("#observed-call .jitsi-call")).to_have_attribute(
        "data-jitsi-role", "observer"
    )
    page.locator("#observed-call").scroll_into_view_if_needed()
    shot(page, "supervisor-03-observing-debug-call")

    page.goto("/supervisor/")
    page.get_by_role("link", name="考场").click()
    expect(page).to_have_url(re.compile(rf"/examiner/panels/{world.panel.id}$"))
    call = stand_in_call(page)
    assert_call(call, room=world.panel.interview_room, name="巡考 周老师", moderator=False)
    assert page.locator(".jitsi-call").get_attribute("data-jitsi-role") == "observer"
    expect(
        page.get_by_role("button", name=re.compile("呼叫下一位|开始计时|结束面试"))
    ).to_have_count(0)
    expect(page.locator(VISIBLE_WRITES)).to_have_count(0)
    shot(page, "supervisor-04-interview-room")
    # Nothing the 巡考 did moved anyone.
    assert fresh(Candidate, first.id).state == "interviewing"
    assert fresh(Candidate, second.id).state == "debugging"


def test_hr_answers_the_help_of_a_candidate_without_a_panel(e2e, app):
    world = seed(candidates=1)
    loner = world.candidates[0]
    loner.panel_id = None
    db.session.commit()

    candidate = e2e.new_page("candidate")
    enter_code(candidate, loner.code)
    candidate.get_by_text("求助", exact=True).click()
    candidate.get_by_label("请简要说明您遇到的问题（200字以内）").fill("页面显示没有考场")
    candidate.get_by_role("button", name="发送求助").click()
    # htmx answers in the form, a plain post (before htmx is up) with a flash: either says so.
    expect(candidate.locator("body")).to_contain_text("求助已发送")

    hr = e2e.new_page("hr")
    staff_sign_in(hr, "hr")
    hr.goto(f"/hr/exams/{world.exam.id}")
    hr.locator("nav.actions").get_by_role("link", name="求助").click()
    expect(hr).to_have_url(re.compile(rf"/hr/exams/{world.exam.id}/help$"))
    item = hr.locator(".help-item").filter(has_text="页面显示没有考场")
    expect(item).to_contain_text("未分配考场")
    expect(item).to_contain_text(loner.phone)
    item.get_by_label("回复").fill("考务正在为您分配考场，请稍候")
    shot(hr, "supervisor-05-hr-help")
    item.get_by_role("button", name="回复", exact=True).click()
    expect(hr.locator(".flash-success")).to_contain_text("已回复")
    expect(hr.locator(".help-reply")).to_contain_text("考务正在为您分配考场，请稍候")

    expect(candidate.locator(".help-reply")).to_have_text(
        "工作人员回复：考务正在为您分配考场，请稍候"
    )
    shot(candidate, "supervisor-06-candidate-sees-reply")
