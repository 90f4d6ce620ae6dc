"""What people do in the browser, as the tests say it: sign in, enter a code, press a button."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from app import db
from app.journey import Actor, perform
from app.models import Candidate, Notice, NoticeAck
from app.timeutil import utcnow
from tests.e2e.conftest import JITSI_APP_ID, JITSI_APP_SECRET, JITSI_DOMAIN, fresh, jitsi_calls
from tests.e2e.world import PASSWORD, move_entry_cutoff_to_now


def enter_code(page: Page, code: str) -> None:
    # The candidate's page may be navigating by itself at that moment (after 调试完毕 its poll
    # sends it to the code page): that aborts our goto once, harmlessly; go again.
    try:
        page.goto("/")
    except PlaywrightError as error:
        if "ERR_ABORTED" not in str(error):
            raise
        page.goto("/")
    page.get_by_label("邀请码").fill(code)
    page.get_by_role("button", name="确认").click()


def staff_sign_in(page: Page, username: str) -> None:
    page.goto("/staff/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_label("密码")).to_have_count(0)


def wait_for_stage(page: Page, stage: str) -> None:
    """The candidate's page shows `stage` (the poll moves it on by itself, no reload)."""
    expect(page.locator(f"[data-stage='{stage}']")).to_be_visible()


def stand_in_call(page: Page, index: int = -1, timeout_ms: int = 15_000) -> dict:
    """The options the page built its Jitsi call with, as the stand-in recorded them."""
    page.wait_for_function("() => (window.__jitsiCalls || []).length > 0", timeout=timeout_ms)
    return jitsi_calls(page)[index]


def stand_in_call_in(page: Page, room: str, timeout_ms: int = 15_000) -> dict:
    """The call the page built for `room` (a console may hold several: the waiting room too)."""
    page.wait_for_function(
        "(room) => (window.__jitsiCalls || []).some((c) => c.roomName === room)",
        arg=room,
        timeout=timeout_ms,
    )
    return next(c for c in jitsi_calls(page) if c["roomName"] == room)


def decode_token(token: str) -> dict:
    """The JWT as Prosody would check it: signature, audience, issuer, expiry."""
    return jwt.decode(
        token, JITSI_APP_SECRET, algorithms=["HS256"], audience=JITSI_APP_ID, issuer=JITSI_APP_ID
    )


def assert_call(call: dict, *, room: str, name: str, moderator: bool) -> dict:
    assert call["domain"] == JITSI_DOMAIN
    assert call["roomName"] == room
    assert call["displayName"] == name
    claims = decode_token(call["jwt"])
    assert claims["room"] == room
    assert claims["context"]["user"]["name"] == name
    assert claims["context"]["user"]["moderator"] == ("true" if moderator else "false")
    assert claims["exp"] > utcnow().timestamp()
    return claims


# --- moving a candidate along with the app's own journey (for tests that start mid-way) ------


def read_all_notices(candidate: Candidate) -> None:
    for notice in db.session.query(Notice).filter_by(exam_id=candidate.exam_id):
        db.session.add(NoticeAck(notice_id=notice.id, candidate_id=candidate.id))
    db.session.commit()


def walk_to_waiting(candidate: Candidate, assistant, now: datetime | None = None) -> None:
    """Confirm, read, debug with the assistant, enter the waiting room, draw a lot."""
    now = now or utcnow()
    me = Actor.of_candidate(candidate)
    staff = Actor.staff(assistant)
    perform(candidate.id, "confirm", me, now)
    read_all_notices(candidate)
    perform(candidate.id, "enter_debug", me, now)
    perform(candidate.id, "call_debug", staff, now)
    perform(candidate.id, "accept_debug", me, now)
    perform(candidate.id, "check_identity", staff, now)
    perform(candidate.id, "mark_debugged", staff, now)
    perform(candidate.id, "enter_waiting", me, now)
    perform(candidate.id, "draw_lot", me, now)


def all_waiting_in_lot_order(world) -> list[Candidate]:
    """Everyone seeded debugged and waiting with a lot, after the cut-off, in the order the
    chief calls."""
    for person in world.candidates:
        walk_to_waiting(person, world.assistant)
    move_entry_cutoff_to_now(world.exam.id)
    return sorted((fresh(Candidate, c.id) for c in world.candidates), key=lambda c: c.lot_number)


def start_interview(candidate: Candidate, chief, *, seconds_left: int, minutes: int) -> None:
    """Call, accept and start the clock so that `seconds_left` remain now (the server's clock
    runs the test: the timer is started in the past rather than the clock moved)."""
    now = utcnow()
    chief_actor = Actor.staff(chief)
    perform(candidate.id, "call_interview", chief_actor, now)
    perform(candidate.id, "accept_interview", Actor.of_candidate(candidate), now)
    started = now - timedelta(seconds=minutes * 60 - seconds_left)
    perform(candidate.id, "start_timer", chief_actor, started)


def in_the_room(world, seconds_left: int = 300, minutes: int = 10) -> Candidate:
    """The world's first candidate in the interview room, the clock running."""
    me = world.candidates[0]
    walk_to_waiting(me, world.assistant)
    move_entry_cutoff_to_now(world.exam.id)
    start_interview(
        fresh(Candidate, me.id), world.chief, seconds_left=seconds_left, minutes=minutes
    )
    return fresh(Candidate, me.id)


# Form fields a screen reader cannot name: no <label for>, no wrapping label, no aria-label(ledby).
_UNLABELLED = """
() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !el.getAttribute('title'))
  .map(el => el.outerHTML.slice(0, 120))
"""


def unlabelled(page: Page) -> list[str]:
    return page.evaluate(_UNLABELLED)


def assert_labelled(page: Page) -> None:
    missing = unlabelled(page)
    assert not missing, f"{page.url}: fields without a label: {missing}"
