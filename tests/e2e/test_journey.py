"""The whole way through, in Chromium, with every person in a browser of their own at once.

Candidate, assistant and chief examiner (and four more examiners for the scores) each have a
context (own cookies) and act only through the pages; the server's real clock runs the day.
"""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from app import db
from app.models import AuditEvent, Call, Candidate
from tests.e2e.actions import (
    assert_call,
    assert_labelled,
    enter_code,
    staff_sign_in,
    stand_in_call,
    wait_for_stage,
)
from tests.e2e.conftest import fresh, shot
from tests.e2e.world import SHEET, move_entry_cutoff_to_now, seed


def _debug_call_room(candidate_id: int) -> str:
    db.session.rollback()
    return db.session.scalar(
        select(Call.room)
        .where(Call.candidate_id == candidate_id, Call.kind == "debug")
        .order_by(Call.id.desc())
        .limit(1)
    )


def test_code_to_release_with_candidate_assistant_and_chief(e2e):
    world = seed(candidates=2, minutes_per_candidate=4)
    me = world.candidates[0]
    code, rest_code = me.code, world.panel.rest_room_code

    assistant = e2e.new_page("assistant")
    staff_sign_in(assistant, "assistant1")
    assistant.goto(f"/assistant/panels/{world.panel.id}")
    expect(assistant.locator("#board")).to_contain_text("暂无考生等候调试")
    shot(assistant, "staff-assistant-console-empty")

    # --- code, confirm, notices, device check ---------------------------------------------
    candidate = e2e.new_page("candidate")
    enter_code(candidate, code)
    wait_for_stage(candidate, "invited")
    expect(candidate.get_by_text(f"{me.name}，您好！")).to_be_visible()
    assert_labelled(candidate)
    shot(candidate, "candidate-02-confirm")
    # Keyboard alone: the main action has the focus, Enter does it.
    expect(candidate.get_by_role("button", name="确认参加")).to_be_focused()
    candidate.keyboard.press("Enter")
    wait_for_stage(candidate, "confirmed")
    go_on = candidate.get_by_role("button", name="下一步：进入调试等候间")
    expect(go_on).to_be_disabled()
    for read in range(1, len(world.notices) + 1):
        candidate.locator("#notices").get_by_role("button", name="已阅").first.click()
        expect(candidate.locator("#notices .badge", has_text="已阅")).to_have_count(read)
    expect(candidate.locator("#notices .badge", has_text="已阅")).to_have_count(len(world.notices))
    expect(go_on).to_be_enabled()
    # The fake camera shows in the preview: the video has real frames.
    candidate.wait_for_function(
        "() => { const v = document.querySelector('[data-preview]'); return v && v.videoWidth > 0; }"
    )
    expect(candidate.locator("[data-device-status]")).to_contain_text("摄像头和麦克风工作正常")
    expect(candidate.get_by_label("摄像头", exact=True)).to_be_visible()
    expect(candidate.get_by_label("麦克风", exact=True)).to_be_visible()
    assert_labelled(candidate)
    shot(candidate, "candidate-03-notices-device-check")
    go_on.click()
    wait_for_stage(candidate, "debug_waiting")
    expect(candidate.get_by_text("您已成功登录调试等候间，请等待面试助理呼叫。")).to_be_visible()
    assert_labelled(candidate)
    shot(candidate, "candidate-04-debug-waiting")

    # --- the assistant calls; the candidate's page rings; keyboard accepts ------------------
    row = assistant.locator("#board tr", has_text=me.name)
    expect(row).to_contain_text("调试等候")
    expect(assistant.locator("#board .counts")).to_contain_text("调试等候 1")
    # How long the candidate has waited, ticking on the page between polls.
    waited = row.locator("[data-elapsed]")
    first_wait = waited.inner_text()
    expect(waited).not_to_have_text(first_wait, timeout=5_000)
    shot(assistant, "staff-assistant-console-queue")
    row.get_by_role("button", name="呼叫", exact=True).click()
    ringing = candidate.locator("[data-incoming-call]")
    expect(ringing).to_contain_text("面试助理正在呼叫您")
    accept = ringing.get_by_role("button", name="接受")
    expect(accept).to_be_focused()
    expect(candidate).to_have_title(re.compile("来电|【"))
    assert_labelled(candidate)
    shot(candidate, "candidate-05-incoming-debug-call")
    candidate.keyboard.press("Enter")
    wait_for_stage(candidate, "debugging")

    # --- the debug call: domain, room, token and name the page gave Jitsi ------------------
    room = _debug_call_room(me.id)
    call = stand_in_call(candidate)
    assert_call(call, room=room, name="考生", moderator=False)
    assert call["configOverwrite"]["toolbarButtons"] == [
        "microphone",
        "camera",
        "fullscreen",
        "settings",
        "hangup",
    ]
    # The camera and microphone chosen in the device check are the call's devices.
    assert call["devices"] and call["devices"].get("videoInput"), call["devices"]
    assert call["devices"].get("audioInput"), call["devices"]
    expect(candidate.locator("[data-jitsi-status]")).to_have_text("已连接")
    assert_labelled(candidate)
    shot(candidate, "candidate-06-debug-call")
    staff_call = stand_in_call(assistant)
    assert_call(staff_call, room=room, name="面试助理 李老师", moderator=True)
    expect(assistant.locator("#debug-call")).to_contain_text(me.name)
    shot(assistant, "staff-assistant-debug-call")

    row = assistant.locator("#board tr", has_text=me.name)
    row.get_by_role("button", name="身份已核验").click()
    assistant.locator("#board tr", has_text=me.name).get_by_role(
        "button", name="调试完毕", exact=True
    ).click()

    # --- debugged: the code again leads into the waiting room --------------------------------
    wait_for_stage(candidate, "debugged")
    expect(candidate.get_by_text("您已调试完毕，请再次输入邀请码进入面试等待室。")).to_be_visible()
    assert_labelled(candidate)
    shot(candidate, "candidate-07-debugged")
    candidate.get_by_role("link", name="确认").click()
    expect(candidate.get_by_text("您已调试完毕，请再次输入邀请码进入面试等待室。")).to_be_visible()
    candidate.get_by_label("邀请码").fill(code)
    candidate.get_by_role("button", name="确认").click()
    wait_for_stage(candidate, "waiting")
    candidate.get_by_role("button", name="抽签").click()
    expect(candidate.locator(".lot-number")).to_be_visible()
    lot = fresh(Candidate, me.id).lot_number
    assert lot in (1, 2)  # drawn at random among the panel's candidates
    expect(candidate.locator(".lot-number")).to_have_text(f"您的签号：{lot}")
    expect(candidate.get_by_text("您前面没有等待的考生")).to_be_visible()
    assert_labelled(candidate)
    shot(candidate, "candidate-08-waiting-lot")
    label = f"考生 {lot:02d}"

    # --- the chief calls the first lot; the interview with its countdown --------------------
    move_entry_cutoff_to_now(world.exam.id)
    chief = e2e.new_page("chief")
    staff_sign_in(chief, "chief1")
    chief.goto(f"/examiner/panels/{world.panel.id}")
    # The queue is one of the console's views beside the call (the sheet's place).
    chief.get_by_role("tab", name="候考队列").click()
    expect(chief.locator("#room-queue")).to_contain_text(label)
    shot(chief, "staff-examiner-console-queue")
    chief.get_by_role("tab", name="题本与评分").click()
    chief.get_by_role("button", name="呼叫下一位").click()
    ringing = candidate.locator("[data-incoming-call]")
    expect(ringing).to_contain_text("面试考官正在呼叫您")
    assert_labelled(candidate)
    shot(candidate, "candidate-09-incoming-interview-call")
    ringing.get_by_role("button", name="接受").click()
    wait_for_stage(candidate, "interviewing")
    call = stand_in_call(candidate)
    assert_call(call, room=world.panel.interview_room, name=label, moderator=False)
    expect(candidate.get_by_text("请等待主考官宣读考生须知和导入语")).to_be_visible()
    # No question is in the page before the clock starts.
    expect(candidate.locator(".questions")).to_have_count(0)
    chief_call = stand_in_call(chief)
    assert_call(chief_call, room=world.panel.interview_room, name="主考官 张老师", moderator=True)

    chief.get_by_role("button", name="开始计时").click()
    countdown = candidate.locator(".countdown[role='timer']")
    expect(countdown).to_be_visible()
    expect(candidate.locator(".questions")).to_contain_text("第一题")
    first = _seconds(countdown.inner_text())
    assert 200 < first <= 240, first
    expect(countdown).not_to_have_class(re.compile("countdown-(warn|danger)"))
    candidate.wait_for_timeout(2200)
    assert _seconds(countdown.inner_text()) < first
    assert_labelled(candidate)
    shot(candidate, "candidate-10-interview-countdown")
    # Recording starts with the clock, in the chief's call.
    chief.wait_for_function(
        "() => (window.__jitsiCommands || []).some(c => c.name === 'startRecording')", timeout=15000
    )
    # Every examiner sees the same clock as the candidate.
    chief_clock = chief.locator("#room .countdown[role='timer']")
    expect(chief_clock).to_be_visible()
    assert abs(_seconds(chief_clock.inner_text()) - _seconds(countdown.inner_text())) <= 3
    shot(chief, "staff-examiner-console-interview")

    # A reload mid-interview lands in the same call with the same clock, not a fresh one.
    before = _seconds(countdown.inner_text())
    candidate.reload()
    wait_for_stage(candidate, "interviewing")
    after = _seconds(candidate.locator(".countdown[role='timer']").inner_text())
    assert after <= before
    assert_call(
        stand_in_call(candidate), room=world.panel.interview_room, name=label, moderator=False
    )

    chief.get_by_role("button", name="结束面试").click()
    wait_for_stage(candidate, "finished")
    expect(candidate.locator(".rest-code")).to_have_text(rest_code)
    assert_labelled(candidate)
    shot(candidate, "candidate-11-finished")

    # --- rest room with its own code ------------------------------------------------------------
    candidate.get_by_role("link", name="知道了").click()
    expect(candidate.get_by_text("请输入休息室邀请码进入线上休息室")).to_be_visible()
    candidate.get_by_label("邀请码").fill(rest_code)
    candidate.get_by_role("button", name="确认").click()
    wait_for_stage(candidate, "resting")
    assert_call(stand_in_call(candidate), room=world.panel.rest_room, name=label, moderator=False)
    expect(candidate.get_by_text("成绩待公布，公布后将显示在本页面。")).to_be_visible()
    assert_labelled(candidate)
    shot(candidate, "candidate-12-rest-room")

    # --- five examiners score, the chief confirms, the candidate sees it without a reload ------
    sheets = {
        "chief1": (32, 24, 24),
        "examiner2": (34, 26, 25),
        "examiner3": (36, 27, 27),
        "examiner4": (30, 23, 22),
        "examiner5": (35, 27, 26),
    }
    pages = {"chief1": chief}
    for username in list(sheets)[1:]:
        pages[username] = e2e.new_page(username)
        staff_sign_in(pages[username], username)
        pages[username].goto(f"/examiner/panels/{world.panel.id}")
    for index, (username, values) in enumerate(sheets.items()):
        page = pages[username]
        sheet = page.locator("#scoring")
        for (dimension, _maximum), value in zip(SHEET, values, strict=True):
            sheet.get_by_label(dimension).fill(str(value))
        expect(sheet.locator("[data-score-total]")).to_have_text(f"{sum(values):.1f}")
        # Leaving the last field saves the draft (autosave on change), as it does for a person
        # who looks over the sheet before pressing Submit; the console's poll may then redraw
        # the sheet from that draft, with the same values.
        with page.expect_response(lambda r: r.url.endswith("/draft") and r.ok):
            sheet.get_by_label(SHEET[-1][0]).press("Tab")
        # A poll already under way may still redraw the sheet from an older draft (reported:
        # the scoring poll redraws the form after each autosave); let two polls pass, then
        # check the sheet shows every value, as a person would before pressing Submit.
        for _ in range(2):
            with page.expect_response(lambda r: "/scoring" in r.url, timeout=10_000):
                pass
        for (dimension, _maximum), value in zip(SHEET, values, strict=True):
            expect(sheet.get_by_label(dimension)).to_have_value(re.compile(rf"^{value}(\.0)?$"))
        expect(sheet.locator("[data-score-total]")).to_have_text(f"{sum(values):.1f}")
        if index == 1:
            shot(page, "staff-examiner-score-sheet")
        sheet.get_by_role("button", name="提交评分").click()
        expect(page.locator("#scoring")).to_contain_text("已提交")
    expect(chief.locator("#scoring")).to_contain_text("评分进度：5 / 5")
    confirm = chief.locator("#scoring").get_by_role("button", name="确认成绩")
    confirm.scroll_into_view_if_needed()  # the sheet's own box scrolls, not the page
    shot(chief, "staff-examiner-chief-confirm")
    confirm.click()
    # Trimmed mean of the totals 80, 85, 90, 75, 88: drop 90 and 75 -> 253 / 3 = 84.33.
    expect(candidate.locator(".score-box")).to_contain_text("您的面试成绩：84.33")
    assert_labelled(candidate)
    shot(candidate, "candidate-12b-rest-room-score")
    candidate.get_by_role("button", name="确认成绩").click()
    expect(candidate.locator(".score-box")).to_contain_text("已确认")

    # --- the assistant's console joined the rest room by itself when she came in: recorded -----
    assistant.wait_for_function(
        "room => (window.__jitsiCalls || []).some(c => c.roomName === room && !c.disposed)",
        arg=world.panel.rest_room,
    )
    assert_call(
        stand_in_call(assistant), room=world.panel.rest_room, name="面试助理 李老师", moderator=True
    )
    assistant.wait_for_function(
        "() => (window.__jitsiCommands || []).some(c => c.name === 'startRecording')",
        timeout=15_000,
    )
    expect(assistant.locator("#rest-call [data-jitsi-status]")).to_have_text("录制中")

    # --- release ------------------------------------------------------------------------------
    rest_row = assistant.locator("#board tr", has_text=me.name)
    expect(rest_row).to_contain_text(f"{lot:02d}")
    shot(assistant, "staff-assistant-console-rest-room")
    rest_row.get_by_role("button", name="放行", exact=True).click()
    # The assistant's answer first (a refusal would land there too), then the candidate's page.
    expect(assistant.locator("#console-messages")).to_contain_text("已放行离场")
    wait_for_stage(candidate, "released")
    expect(candidate.get_by_text("您已离场，感谢参加本次面试。")).to_be_visible()
    expect(candidate.locator(".score-box")).to_contain_text("84.33")
    assert_labelled(candidate)
    shot(candidate, "candidate-13-released")

    # --- never left the tab: no 疑似切屏 (every form post, reload and swap above is the app's own) --
    e2e.server.wait_until_quiet()
    db.session.rollback()
    switches = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.kind == "candidate.suspected_switch", AuditEvent.candidate_id == me.id
        )
    ).all()
    assert [e.data for e in switches] == [], f"{len(switches)} false 疑似切屏 entries"


def _seconds(text: str) -> int:
    minutes, seconds = text.strip().split(":")
    return int(minutes) * 60 + int(seconds)
