"""Issue 15's "What was tried" cases, in Chromium, on `make run`'s demo data (seed_demo): the
formal exam with 第一考场 and 第二考场 hearing one exam-wide 题本, its staff and passwords.

People click what the case is about; the steps before it (a candidate already debugged, an
interview already run) are taken with the app's own journey, as the other browser tests do.
"""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app import db
from app.day.controls import close_entry_now
from app.journey import Actor, perform
from app.models import Candidate, Exam, ExamKind, Panel, ScoreDimension, User
from app.models.candidate import CandidateState as S
from app.scoring import service as scoring
from app.setup.demo import DEMO_STAFF, seed_demo
from tests.e2e.actions import enter_code, read_all_notices, start_interview, walk_to_waiting
from tests.e2e.conftest import fresh, shot

PASSWORDS = {username: password for username, _, _, password in DEMO_STAFF}


def sign_in(page: Page, username: str) -> None:
    page.goto("/staff/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORDS[username])
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_label("密码")).to_have_count(0)


def user(username: str) -> User:
    return db.session.scalars(select(User).filter_by(username=username)).one()


class Demo:
    def __init__(self) -> None:
        seed_demo()
        self.exam = db.session.scalars(select(Exam).filter_by(kind=ExamKind.FORMAL)).one()
        self.one, self.two = (
            db.session.scalars(select(Panel).filter_by(exam_id=self.exam.id).order_by(Panel.id))
        ).all()

    def of(self, panel: Panel) -> list[Candidate]:
        return list(
            db.session.scalars(
                select(Candidate).filter_by(panel_id=panel.id).order_by(Candidate.id)
            )
        )


@pytest.fixture
def demo(app):
    return Demo()


def debugging_with_identity_checked(candidate: Candidate, assistant: User) -> None:
    me, staff = Actor.of_candidate(candidate), Actor.staff(assistant)
    perform(candidate.id, "confirm", me)
    read_all_notices(candidate)
    perform(candidate.id, "enter_debug", me)
    perform(candidate.id, "call_debug", staff)
    perform(candidate.id, "accept_debug", me)
    perform(candidate.id, "check_identity", staff)


def test_close_entry_asks_first_and_spares_the_candidate_being_debugged(e2e, demo):
    first, waiting, *rest = demo.of(demo.one)
    assistant = user("assistant1")
    walk_to_waiting(waiting, assistant)
    debugging_with_identity_checked(first, assistant)
    # The cut-off is a month away: the candidate's page says so with its date.
    candidate = e2e.new_page("candidate")
    enter_code(candidate, rest[0].code)
    expect(candidate.get_by_text(re.compile(r"入场截止（北京时间）"))).to_be_visible()
    cutoff_line = candidate.locator("dd", has_text="截止时尚未进入设备调试").inner_text()
    assert "月" in cutoff_line and "日" in cutoff_line, cutoff_line

    hr = e2e.new_page("hr")
    sign_in(hr, "hr")
    hr.goto(f"/hr/exams/{demo.exam.id}")
    hr.get_by_role("link", name=re.compile("立即截止入场")).click()
    # 14 not yet in the debug queue: 10 of 第一考场 and 4 of 第二考场.
    expect(hr.locator("#close-entry-absent")).to_contain_text("将有 14 位考生记为缺考")
    expect(hr.locator("#close-entry-debugging")).to_contain_text("1 位考生仍在设备调试")
    shot(hr, "hr-30-close-entry-asks")
    assert fresh(Candidate, rest[0].id).state == S.INVITED  # asking changed nothing
    hr.get_by_role("button", name="确认截止入场").click()
    expect(hr.get_by_text(re.compile("已截止入场"))).to_be_visible()
    assert fresh(Candidate, rest[0].id).state == S.ABSENT
    assert fresh(Candidate, first.id).state == S.DEBUGGING

    # The assistant's 调试完毕 still works, and she comes in with a lot after the drawn one.
    me = e2e.new_page("debugged candidate")
    enter_code(me, first.code)
    expect(me.locator("[data-stage='debugging']")).to_be_visible()
    console = e2e.new_page("assistant")
    sign_in(console, "assistant1")
    console.goto(f"/assistant/panels/{demo.one.id}")
    console.get_by_role("button", name="调试完毕").click()
    expect(console.get_by_text("调试完毕，尚未进入等待室")).to_be_visible()
    assert fresh(Candidate, first.id).state == S.DEBUGGED
    expect(me.get_by_text(re.compile("入场已截止。您在截止前已进入设备调试"))).to_be_visible()
    shot(me, "candidate-30-debugged-after-cutoff")
    me.get_by_role("link", name="确认").click()
    enter_code(me, first.code)
    expect(me.locator("[data-stage='waiting']")).to_be_visible()
    drawn = fresh(Candidate, waiting.id).lot_number
    late = fresh(Candidate, first.id)
    assert late.state == S.WAITING and late.lot_assigned and late.lot_number == drawn + 1


def test_a_rest_room_waits_for_the_other_panel_on_the_same_question_set(e2e, demo):
    ours, theirs = demo.of(demo.one)[0], demo.of(demo.two)[0]
    walk_to_waiting(ours, user("assistant1"))
    walk_to_waiting(theirs, user("assistant2"))
    close_entry_now(demo.exam.id, user("hr"))
    start_interview(fresh(Candidate, ours.id), user("chief1"), seconds_left=300, minutes=10)
    perform(ours.id, "finish", Actor.staff(user("chief1")))
    perform(ours.id, "enter_rest", Actor.of_candidate(fresh(Candidate, ours.id)))

    console = e2e.new_page("assistant")
    sign_in(console, "assistant1")
    console.goto(f"/assistant/panels/{demo.one.id}")
    hold = console.locator("#release-hold")
    expect(hold).to_contain_text(
        "第二考场仍有 1 位考生待面试（与本考场同一题本），暂不能离开休息室。"
    )
    shot(console, "assistant-30-release-held-by-other-panel")
    console.get_by_role("button", name="放行", exact=True).click()
    expect(console.get_by_role("alert").or_(console.locator(".flash-error")).first).to_contain_text(
        "第二考场仍有 1 位考生待面试"
    )
    assert fresh(Candidate, ours.id).state == S.RESTING
    e2e.expected_console.append("409")


def test_settings_freeze_once_an_interview_runs(e2e, demo):
    ours = demo.of(demo.one)[0]
    walk_to_waiting(ours, user("assistant1"))
    close_entry_now(demo.exam.id, user("hr"))
    start_interview(fresh(Candidate, ours.id), user("chief1"), seconds_left=300, minutes=10)
    hr = e2e.new_page("hr")
    sign_in(hr, "hr")
    hr.goto(f"/hr/exams/{demo.exam.id}/edit")
    minutes = hr.get_by_label(re.compile("每人面试时长"))
    expect(minutes).to_have_attribute("readonly", re.compile(".*"))
    expect(hr.get_by_text(re.compile("面试已开始")).first).to_be_visible()
    shot(hr, "hr-31-exam-form-frozen")
    # 允许提前结束面试 is not frozen: turning it off hides the candidate's 面试结束.
    hr.get_by_label(re.compile("允许提前结束面试")).uncheck()
    hr.get_by_role("button", name="保存").click()
    expect(hr.get_by_text("已保存。")).to_be_visible()
    assert fresh(Exam, demo.exam.id).minutes_per_candidate == 10
    candidate = e2e.new_page("candidate")
    enter_code(candidate, ours.code)
    expect(candidate.locator("[data-stage='interviewing']")).to_be_visible()
    expect(candidate.get_by_role("button", name="面试结束")).to_have_count(0)
    shot(candidate, "candidate-31-no-early-finish")


def test_a_corrected_published_score_asks_the_candidate_to_confirm_again(e2e, demo):
    ours = demo.of(demo.one)[0]
    walk_to_waiting(ours, user("assistant1"))
    close_entry_now(demo.exam.id, user("hr"))
    start_interview(fresh(Candidate, ours.id), user("chief1"), seconds_left=300, minutes=10)
    perform(ours.id, "finish", Actor.staff(user("chief1")))
    dimensions = db.session.scalars(
        select(ScoreDimension).filter_by(exam_id=demo.exam.id).order_by(ScoreDimension.position)
    ).all()
    examiners = [user(n) for n in ("chief1", "examiner2", "examiner3", "examiner4", "examiner5")]
    # Five different sheets (totals 94, 88, 82, 76, 70): the middle three count (去高去低).
    for gap, examiner in enumerate(examiners, start=1):
        scoring.submit(
            fresh(Candidate, ours.id), examiner, {d.id: str(d.max_score - gap) for d in dimensions}
        )
    scoring.confirm(fresh(Candidate, ours.id), user("chief1"))  # 当场公布 (instant)

    candidate = e2e.new_page("candidate")
    enter_code(candidate, ours.code)
    candidate.get_by_role("button", name="确认成绩").click()
    expect(candidate.get_by_text(re.compile("您已于北京时间 .* 确认成绩"))).to_be_visible()

    hr = e2e.new_page("hr")
    sign_in(hr, "hr")
    hr.goto(f"/hr/exams/{demo.exam.id}/paper-entry?candidate={ours.id}&examiner={examiners[2].id}")
    # The middle sheet, 82 → 84: the final moves from 82.00 to 82.67.
    hr.locator(f"#dim-{dimensions[0].id}").fill(str(dimensions[0].max_score - 1))
    hr.get_by_label(re.compile("原因")).fill("考官核对纸质评分表后更正")
    hr.get_by_role("button", name="保存修改").click()
    notice = hr.get_by_text(re.compile("已公布成绩由 82.00 改为 82.67，考生页面已更新"))
    expect(notice).to_be_visible()
    shot(hr, "hr-32-score-corrected")

    # Her page, without a reload: the new score, 成绩已更正, and 确认成绩 again.
    expect(candidate.get_by_text("成绩已更正")).to_be_visible(timeout=40_000)
    expect(candidate.get_by_role("button", name="确认成绩")).to_be_visible()
    expect(candidate.get_by_text(re.compile("您已于北京时间"))).to_have_count(0)
    shot(candidate, "candidate-32-score-corrected")
    candidate.get_by_role("button", name="确认成绩").click()
    expect(candidate.get_by_text(re.compile("您已于北京时间 .* 确认成绩"))).to_be_visible()
    expect(candidate.get_by_text("82.67").first).to_be_visible()


def test_hr_reinstates_a_candidate_from_the_timeline_with_a_reason(e2e, demo):
    absent = demo.of(demo.one)[3]
    close_entry_now(demo.exam.id, user("hr"))
    assert fresh(Candidate, absent.id).state == S.ABSENT
    hr = e2e.new_page("hr")
    sign_in(hr, "hr")
    hr.goto(f"/hr/exams/{demo.exam.id}/candidates/{absent.id}/timeline")
    form = hr.locator("form.override-reinstate")
    form.get_by_label(re.compile("原因")).fill("考生网络故障，电话核实后准予入场")
    shot(hr, "hr-33-reinstate")
    form.get_by_role("button", name=re.compile("恢复考试资格")).click()
    expect(hr.get_by_text(re.compile("考生网络故障，电话核实后准予入场")).first).to_be_visible()
    back = fresh(Candidate, absent.id)
    assert back.state == S.CONFIRMED and back.reinstated_at is not None
    # Her page: no longer absent, and the cut-off that passed does not make her absent again.
    candidate = e2e.new_page("candidate")
    enter_code(candidate, absent.code)
    expect(candidate.locator("[data-stage='confirmed']")).to_be_visible()
    assert fresh(Candidate, absent.id).state == S.CONFIRMED
