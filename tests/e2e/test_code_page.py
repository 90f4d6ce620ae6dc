"""The code page: refusals in clear Chinese, a label for the field, keyboard use."""

from datetime import timedelta

from playwright.sync_api import expect

from tests.e2e.actions import assert_labelled
from tests.e2e.conftest import shot
from tests.e2e.world import seed


def test_wrong_code_is_refused_in_chinese_and_keeps_the_form(e2e):
    seed(candidates=1)
    page = e2e.new_page("candidate")
    page.goto("/")
    expect(page.get_by_role("heading", name="请输入邀请码")).to_be_visible()
    # The field has an accessible name and takes the keyboard focus on its own.
    field = page.get_by_label("邀请码")
    expect(field).to_be_focused()
    shot(page, "candidate-01-code")
    page.keyboard.type("000000")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("邀请码不正确，请核对面试通知中的邀请码。")
    expect(page.get_by_label("邀请码")).to_be_visible()


def test_letters_are_dropped_from_the_code_field(e2e):
    seed(candidates=1)
    page = e2e.new_page("candidate")
    page.goto("/")
    page.get_by_label("邀请码").press_sequentially("12ab34")
    expect(page.get_by_label("邀请码")).to_have_value("1234")


def test_code_before_its_window_opens_says_when(e2e):
    world = seed(candidates=1, login_opens_in=timedelta(hours=2))
    page = e2e.new_page("candidate")
    page.goto("/")
    page.get_by_label("邀请码").fill(world.candidates[0].code)
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_role("alert")).to_contain_text("尚未到登录时间，请于北京时间")
    shot(page, "candidate-01b-code-refused")


def test_plain_chromium_is_told_to_use_chrome(e2e):
    seed(candidates=1)
    page = e2e.new_page("candidate", chrome=False)
    page.goto("/")
    expect(page.get_by_text("检测到您未使用电脑版谷歌浏览器（Chrome）")).to_be_visible()


def test_declining_asks_first_then_says_it_is_final(e2e):
    world = seed(candidates=1)
    page = e2e.new_page("candidate")
    page.goto("/")
    page.get_by_label("邀请码").fill(world.candidates[0].code)
    page.get_by_role("button", name="确认").click()
    assert_labelled(page)
    page.get_by_role("link", name="放弃参加").click()
    expect(page.get_by_role("heading", name="确定放弃参加本场面试吗？")).to_be_visible()
    # The safe choice has the focus: Enter alone does not decline.
    expect(page.get_by_role("link", name="返回，不放弃")).to_be_focused()
    shot(page, "candidate-02b-decline")
    page.get_by_role("button", name="确认放弃参加").click()
    expect(page.get_by_text("您已放弃参加本场面试。")).to_be_visible()
    shot(page, "candidate-02c-declined")
    # Signing in again shows the same final page, not the form.
    page.goto("/")
    page.get_by_label("邀请码").fill(world.candidates[0].code)
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_text("您已放弃参加本场面试。")).to_be_visible()


def test_code_after_its_window_closed(e2e):
    world = seed(
        candidates=1, login_opens_in=-timedelta(hours=9), login_closes_in=-timedelta(minutes=1)
    )
    page = e2e.new_page("candidate")
    page.goto("/")
    page.get_by_label("邀请码").fill(world.candidates[0].code)
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_role("alert")).to_have_text("该邀请码的登录时间已结束。")
