"""The moments people remember: a second sign-in, a cry for help, a dropped line, the clock
running low, time up, the phone as second camera."""

import re

from playwright.sync_api import expect

from app.journey import Actor, perform
from app.models import Candidate
from tests.e2e.actions import (
    enter_code,
    read_all_notices,
    staff_sign_in,
    stand_in_call,
    start_interview,
    wait_for_stage,
    walk_to_waiting,
)
from tests.e2e.conftest import DESKTOP, PHONE, fresh, shot
from tests.e2e.world import move_entry_cutoff_to_now, seed


def _to_debug_waiting(candidate):
    me = Actor.of_candidate(candidate)
    perform(candidate.id, "confirm", me)
    read_all_notices(candidate)
    perform(candidate.id, "enter_debug", me)


def test_a_second_sign_in_takes_over_and_the_first_page_says_so(e2e):
    world = seed(candidates=1)
    code = world.candidates[0].code
    first = e2e.new_page("first browser")
    enter_code(first, code)
    wait_for_stage(first, "invited")
    second = e2e.new_page("second browser")
    enter_code(second, code)
    wait_for_stage(second, "invited")
    # The first page learns it at its next poll, without anyone reloading it.
    expect(first.get_by_role("heading", name="您的邀请码已在其他浏览器登录")).to_be_visible()
    expect(first.get_by_text("不得多屏登录")).to_be_visible()
    shot(first, "candidate-90-signed-in-elsewhere")
    # The second one goes on as usual.
    second.get_by_role("button", name="确认参加").click()
    wait_for_stage(second, "confirmed")


def test_help_reaches_the_assistant_with_a_sound_and_a_badge_and_the_reply_comes_back(e2e):
    world = seed(candidates=1)
    me = world.candidates[0]
    _to_debug_waiting(me)
    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto(f"/assistant/panels/{world.panel.id}")
    expect(assistant.locator("#help-queue")).to_contain_text("暂无求助")
    assistant.locator("h1").click()  # any click lets the page play sound later, as in Chrome

    candidate = e2e.new_page("candidate")
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "debug_waiting")
    candidate.get_by_text("求助", exact=True).click()
    box = candidate.get_by_label("请简要说明您遇到的问题（200字以内）")
    expect(box).to_be_visible()
    shot(candidate, "candidate-91-help")
    box.fill("摄像头没有画面")
    candidate.get_by_role("button", name="发送求助").click()
    expect(candidate.get_by_role("status").filter(has_text="求助已发送")).to_be_visible()

    queue = assistant.locator("#help-queue")
    expect(queue).to_contain_text("摄像头没有画面")
    expect(queue).to_contain_text(me.name)
    expect(queue.locator(".badge")).to_contain_text("1 待回复")
    expect(queue).to_have_class(re.compile(r"\balerting\b"))
    expect(assistant).to_have_title(re.compile(r"^\(1\) "))
    assert assistant.evaluate("window.__tones") > 0, "no chime for the help request"
    shot(assistant, "staff-assistant-help-request")

    queue.get_by_label("回复", exact=True).fill("请检查浏览器摄像头权限")
    queue.get_by_role("button", name="回复", exact=True).click()
    expect(candidate.locator(".help-reply")).to_have_text("工作人员回复：请检查浏览器摄像头权限")


def test_connection_lost_banner_appears_while_the_server_is_unreachable_and_clears(e2e):
    world = seed(candidates=1)
    me = world.candidates[0]
    _to_debug_waiting(me)
    candidate = e2e.new_page("candidate")
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "debug_waiting")
    banner = candidate.locator("#connection-lost")
    expect(banner).to_have_count(0)

    # The server refuses connections, as when it is down or the line is cut (htmx logs each).
    e2e.expected_console.append("htmx:sendError")
    candidate.route("**/me/state**", lambda route: route.abort("connectionrefused"))
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text("网络连接中断，正在重新连接")
    shot(candidate, "candidate-92-connection-lost")

    candidate.unroute("**/me/state**")
    expect(banner).to_be_hidden()
    # And the page still follows the server: the assistant's call arrives.
    perform(me.id, "call_debug", Actor.staff(world.assistant))
    expect(candidate.locator("[data-incoming-call]")).to_be_visible()
    assert candidate.evaluate("window.__tones") > 0, "no tone for the incoming call"


def _interviewing(world, seconds_left: int):
    me = world.candidates[0]
    walk_to_waiting(me, world.assistant)
    move_entry_cutoff_to_now(world.exam.id)
    start_interview(
        fresh(Candidate, me.id),
        world.chief,
        seconds_left=seconds_left,
        minutes=world.exam.minutes_per_candidate,
    )
    return me


def _colour(locator) -> str:
    return locator.evaluate("el => getComputedStyle(el).color")


def test_countdown_turns_amber_at_three_minutes(e2e):
    world = seed(candidates=1, minutes_per_candidate=5)
    me = _interviewing(world, seconds_left=195)
    candidate = e2e.new_page("candidate")
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "interviewing")
    # Computed styles are only the stylesheet's once the page has loaded it (a busy machine can
    # show the stage before then).
    candidate.wait_for_load_state("load")
    countdown = candidate.locator(".countdown[role='timer']")
    expect(countdown).to_have_text(re.compile(r"^03:[0-5]\d$"))
    expect(countdown).not_to_have_class(re.compile("countdown-(warn|danger)"))
    # Readable at a glance: large digits, and a colour change, not only a class name.
    assert countdown.evaluate("el => parseFloat(getComputedStyle(el).fontSize)") >= 32
    calm = _colour(countdown)
    expect(countdown).to_have_class(re.compile(r"\bcountdown-warn\b"), timeout=30_000)
    assert _colour(countdown) != calm
    expect(countdown).to_have_text(re.compile(r"^0[23]:\d\d$"))
    expect(candidate.locator("#countdown-announcer")).to_have_text("作答时间剩余不足3分钟。")
    shot(candidate, "candidate-93-countdown-amber")


def test_countdown_turns_red_at_one_minute(e2e):
    world = seed(candidates=1, minutes_per_candidate=5)
    me = _interviewing(world, seconds_left=70)
    candidate = e2e.new_page("candidate")
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "interviewing")
    candidate.wait_for_load_state("load")
    countdown = candidate.locator(".countdown[role='timer']")
    expect(countdown).to_have_class(re.compile(r"\bcountdown-warn\b"))
    amber = _colour(countdown)
    expect(countdown).to_have_class(re.compile(r"\bcountdown-danger\b"), timeout=30_000)
    assert _colour(countdown) != amber
    expect(countdown).not_to_have_class(re.compile(r"\bcountdown-warn\b"))
    expect(candidate.locator("#countdown-announcer")).to_have_text("作答时间剩余不足1分钟。")
    shot(candidate, "candidate-94-countdown-red")


def test_at_zero_the_interview_ends_by_itself(e2e):
    world = seed(candidates=1, minutes_per_candidate=5)
    me = _interviewing(world, seconds_left=6)
    candidate = e2e.new_page("candidate")
    enter_code(candidate, me.code)
    wait_for_stage(candidate, "finished")
    expect(candidate.get_by_role("heading", name="您的面试已结束!")).to_be_visible()
    assert fresh(Candidate, me.id).state == "finished"


def test_phone_as_second_camera(e2e):
    world = seed(candidates=1)
    world.exam.requires_second_camera = True
    from app import db

    db.session.commit()
    me = world.candidates[0]
    actor, staff = Actor.of_candidate(me), Actor.staff(world.assistant)
    _to_debug_waiting(me)
    for move, who in (
        ("call_debug", staff),
        ("accept_debug", actor),
        ("check_identity", staff),
    ):
        perform(me.id, move, who)
    # The assistant's check of the phone in the debug call (辅机位已核验), which
    # tests/e2e/test_second_camera.py drives through the pages.
    checked = fresh(Candidate, me.id)
    checked.second_camera_verified_at = checked.state_changed_at
    db.session.commit()
    perform(me.id, "mark_debugged", staff)

    candidate = e2e.new_page("candidate", viewport=DESKTOP)
    enter_code(candidate, me.code)
    # Between the debug call and the interview the phone is in no call.
    panel = candidate.locator("#second-camera")
    expect(panel).to_contain_text("未连接")
    expect(panel).to_contain_text("辅机位已核验")
    bind_code = panel.locator(".bind-code").inner_text().strip()
    shot(candidate, "candidate-95-second-camera-qr")

    phone = e2e.new_page("phone", viewport=PHONE, mobile=True)
    phone.goto("/calls/phone")
    phone.get_by_label("请输入电脑页面上显示的8位绑定码").fill(bind_code.lower())
    shot(phone, "phone-01-enter-bind-code")
    phone.get_by_role("button", name="连接").click()
    expect(phone.locator("#phone-ping")).to_contain_text("未在通话中")
    expect(phone.locator("#phone-call")).to_contain_text("等待考生进入视频通话")
    shot(phone, "phone-02-second-camera-waiting")

    enter_code(candidate, me.code)
    wait_for_stage(candidate, "waiting")
    candidate.get_by_role("button", name="抽签").click()
    lot = fresh(Candidate, me.id).lot_number
    move_entry_cutoff_to_now(world.exam.id)
    start_interview(fresh(Candidate, me.id), world.chief, seconds_left=600, minutes=10)
    # The phone joins the interview room by itself, silent and muted, as "考生 NN 辅机位".
    call = stand_in_call(phone, timeout_ms=30_000)
    assert call["roomName"] == world.panel.interview_room
    assert call["displayName"] == f"考生 {lot:02d} 辅机位"
    assert call["configOverwrite"]["startSilent"] is True
    assert call["configOverwrite"]["startWithAudioMuted"] is True
    shot(phone, "phone-03-second-camera-in-call")
