"""The candidate page polls when the server says (X-Poll-Interval, app/day/poll_interval.py),
without a reload, and a staff action that concerns her (a call, a broadcast, a release) shows
on her page within 3 s, measured with the page's own clock."""

import time
from datetime import timedelta
from itertools import pairwise

from playwright.sync_api import expect

from app import db
from app.day.broadcasts import post_broadcast
from app.journey import Actor, perform
from app.models import Candidate, Exam, Panel, User
from app.timeutil import utcnow
from tests.e2e.actions import all_waiting_in_lot_order, enter_code, wait_for_stage, walk_to_waiting
from tests.e2e.conftest import fresh
from tests.e2e.world import move_entry_cutoff_to_now, seed

# The promise, in milliseconds on the page's clock (Date.now() before the action, after it shows).
PROMISE_MS = 3_000


def _poll_times(page) -> list[float]:
    times: list[float] = []
    page.on("request", lambda r: "/me/state" in r.url and times.append(time.monotonic()))
    return times


def _within_promise(page, act, shows) -> int:
    before = page.evaluate("Date.now()")
    act()
    shows()
    took = page.evaluate("Date.now()") - before
    assert took < PROMISE_MS, took
    return took


def _pulse_times(page) -> list[float]:
    times: list[float] = []
    page.on("request", lambda r: "/pulse/" in r.url and times.append(time.monotonic()))
    return times


def test_the_page_adopts_the_server_s_interval_without_a_reload(e2e):
    # The confirmation period, the exam-day login 14 s away: 10 s polls, one at the opening
    # (its button enables on time), then 10 s again: an invited page on the exam day has only
    # staff actions to wait for, and the pulse brings those (app/day/pulse.py).
    world = seed(candidates=1, login_opens_in=timedelta(seconds=14))
    exam = db.session.get(Exam, world.exam.id)
    exam.confirm_opens_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    opens = time.monotonic() + (exam.login_opens_at - utcnow()).total_seconds()
    page = e2e.new_page("candidate")
    times = _poll_times(page)
    pulses = _pulse_times(page)
    enter_code(page, world.candidates[0].code)
    wait_for_stage(page, "invited")
    loaded = time.monotonic()
    page.wait_for_timeout(30_000)
    seen = [round(t - loaded, 1) for t in times]
    before = [t for t in times if t < opens - 1]
    # Slowly before the login window: about one poll in 10 s, not five.
    assert len(before) <= 2, seen
    # A poll within 2.5 s of the opening: the page learns of it on time...
    assert any(opens - 0.5 <= t <= opens + 2.5 for t in times), seen
    # ...then slowly again, while the pulse is read every 2 s.
    after = [t for t in times if t > opens + 2.5]
    assert 1 <= len(after) <= 2, seen
    gaps = [b - a for a, b in pairwise(pulses)]
    assert len(pulses) >= 12 and max(gaps) < 3, gaps
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_far_back_in_the_queue_the_page_polls_every_10_s_yet_staff_reach_it_in_3(e2e):
    # Eight waiting, lots 1-8; the one with lot 8 has seven ahead of her: a 10 s page. A
    # broadcast and the assistant's spot check still show within 3 s: the pulse wakes the page
    # (app/day/pulse.py).
    world = seed(candidates=8, minutes_per_candidate=4)
    last = all_waiting_in_lot_order(world)[-1]
    page = e2e.new_page("candidate")
    intervals: list[str] = []
    page.on(
        "response",
        lambda r: "/me/state" in r.url and intervals.append(r.headers.get("x-poll-interval")),
    )
    enter_code(page, last.code)
    wait_for_stage(page, "waiting")
    page.wait_for_timeout(2_500)
    assert intervals and intervals[-1] == "10", intervals

    chief = db.session.get(User, world.chief.id)
    panel = db.session.get(Panel, world.panel.id)
    took = [
        _within_promise(
            page,
            lambda: post_broadcast(chief, panel, "请各位考生保持网络畅通。"),
            lambda: expect(page.locator("#status")).to_contain_text("请各位考生保持网络畅通。"),
        )
    ]
    page.wait_for_timeout(1_000)
    took.append(
        _within_promise(
            page,
            lambda: perform(last.id, "call_spot_check", Actor.staff(world.assistant), utcnow()),
            lambda: expect(page.locator("[data-incoming-call]")).to_be_visible(),
        )
    )
    assert intervals[-1] in ("2", None), intervals  # ringing: the page polls fast meanwhile
    assert max(took) < PROMISE_MS, took


def test_a_call_a_broadcast_and_a_release_show_within_three_seconds(e2e):
    # The first in the queue and the rest room are 2 s pages (poll_interval.py), and the pulse
    # wakes them too; the test holds the whole way, action to what shows, to 3 s.
    # One candidate: the rest room releases nobody while the panel still has someone waiting.
    world = seed(candidates=1, minutes_per_candidate=4)
    me = world.candidates[0]
    walk_to_waiting(me, world.assistant)
    move_entry_cutoff_to_now(world.exam.id)
    page = e2e.new_page("candidate")
    enter_code(page, me.code)
    wait_for_stage(page, "waiting")
    page.wait_for_timeout(500)

    chief = db.session.get(User, world.chief.id)
    panel = db.session.get(Panel, world.panel.id)
    _within_promise(
        page,
        lambda: post_broadcast(chief, panel, "请各位考生保持网络畅通。"),
        lambda: expect(page.locator("#status")).to_contain_text("请各位考生保持网络畅通。"),
    )

    first = me
    _within_promise(
        page,
        lambda: perform(first.id, "call_interview", Actor.staff(world.chief), utcnow()),
        lambda: expect(page.locator("[data-incoming-call]")).to_be_visible(),
    )

    # Interviewed, finished, resting: released by the assistant.
    perform(first.id, "accept_interview", Actor.of_candidate(fresh(Candidate, first.id)), utcnow())
    wait_for_stage(page, "interviewing")
    start_interview_clock(first, world)
    perform(first.id, "finish", Actor.staff(world.chief), utcnow())
    perform(first.id, "enter_rest", Actor.of_candidate(fresh(Candidate, first.id)), utcnow())
    wait_for_stage(page, "resting")
    page.wait_for_timeout(500)
    _within_promise(
        page,
        lambda: perform(first.id, "release", Actor.staff(world.assistant), utcnow()),
        lambda: wait_for_stage(page, "released"),
    )


def start_interview_clock(candidate, world) -> None:
    perform(candidate.id, "start_timer", Actor.staff(world.chief), utcnow() - timedelta(minutes=3))


def test_a_call_ahead_moves_the_count_on_the_page_with_a_304_not_a_new_fragment(e2e):
    # Three waiting, lots 1-3; the third page says 2 ahead. The chief calls the first: the number
    # on her page becomes 1 from the poll's X-Queue-Ahead (app/day/poll.py), nothing re-sent.
    world = seed(candidates=3, minutes_per_candidate=4)
    by_lot = all_waiting_in_lot_order(world)
    page = e2e.new_page("candidate")
    answers: list[int] = []
    page.on("response", lambda r: "/me/state" in r.url and answers.append(r.status))
    enter_code(page, by_lot[2].code)
    wait_for_stage(page, "waiting")
    ahead = page.locator("#status [data-queue-ahead]")
    expect(ahead).to_have_text("2")
    expect(page.locator("#status")).to_contain_text("您前面还有 2 位考生等待面试。")
    page.wait_for_timeout(2_500)  # a poll or two: 304s
    seen = len(answers)

    _within_promise(
        page,
        lambda: perform(by_lot[0].id, "call_interview", Actor.staff(world.chief), utcnow()),
        lambda: expect(ahead).to_have_text("1"),
    )
    expect(page.locator("#status")).to_contain_text("您前面还有 1 位考生等待面试。")
    assert answers[seen:] and set(answers[seen:]) == {304}, answers
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
