"""The poll's quick answer (app/day/poll.py) says 304 exactly when the full path would.

The quick path reads plain columns into a `PollView` and runs the same rules on it as the full
path runs on a loaded `Candidate`. These tests hold the two together: the same ETag in every
stage that polls, and no quick answer whenever the full path has something to do.
"""

from datetime import timedelta

import pytest
import time_machine
from werkzeug.datastructures import ETags

from app import db
from app.day.poll import (
    PollView,
    ahead_in_queue,
    poll_etag,
    quick_not_modified,
    read_poll_view,
    stage_of,
)
from app.journey import Actor, perform
from app.models import Candidate
from app.models.candidate import CandidateState as S
from tests.candidate_client import CandidateBrowser
from tests.factories import World


def fresh(candidate) -> Candidate:
    db.session.expire_all()
    return db.session.get(Candidate, candidate.id)


def both_etags(candidate, now) -> tuple[str, str]:
    loaded = fresh(candidate)
    view = read_poll_view(candidate.id)
    assert isinstance(view, PollView) and stage_of(view) == stage_of(loaded)
    stage = stage_of(loaded)
    full = poll_etag(loaded, stage, now, ahead_in_queue(loaded, stage))
    return full, poll_etag(view, stage, now, view.ahead)


def quick(candidate, now, etag: str, stage: str | None = None, nonce: str | None = None):
    loaded = fresh(candidate)
    return quick_not_modified(
        candidate.id, nonce or loaded.session_nonce, stage or stage_of(loaded), ETags([etag]), now
    )


@pytest.fixture
def world(app):
    return World()


def test_the_quick_view_gives_the_full_etag_in_every_stage_that_polls(app, client):
    # Reading time and a second camera: every part an ETag can have.
    world = World(reading_minutes=2, requires_second_camera=True)
    c = world.candidates[0]
    me, chief, assistant = (
        world.as_candidate(c),
        Actor.staff(world.chief),
        Actor.staff(world.assistant),
    )
    CandidateBrowser(client).enter_code(c.code)  # a session nonce, as in real life
    now = world.now
    seen = []

    def same(at):
        full, quick_etag = both_etags(c, at)
        assert full == quick_etag, (fresh(c).state, full, quick_etag)
        seen.append(stage_of(fresh(c)))

    same(now)
    perform(c.id, "confirm", me, now)
    same(now)
    world.read_notices(c)
    perform(c.id, "enter_debug", me, now)
    same(now)
    perform(c.id, "call_debug", assistant, now)
    perform(c.id, "accept_debug", me, now)
    same(now)
    perform(c.id, "check_identity", assistant, now)
    candidate = fresh(c)
    candidate.second_camera_seen_at = now  # the staff page saw it, the phone's camera is on
    db.session.commit()
    perform(c.id, "verify_second_camera", assistant, now)
    perform(c.id, "mark_debugged", assistant, now)
    same(now)
    perform(c.id, "enter_waiting", me, now + timedelta(seconds=5))
    same(now + timedelta(seconds=5))  # no lot yet
    perform(c.id, "draw_lot", me, now + timedelta(seconds=6))
    same(now + timedelta(seconds=6))  # the panel's queue version is a part here
    after = now + timedelta(minutes=31)
    perform(c.id, "call_interview", chief, after)
    perform(c.id, "accept_interview", me, after)
    same(after)  # before the timer
    candidate = fresh(c)
    candidate.second_camera_seen_at = after
    db.session.commit()
    same(after)  # the second camera's part: connected
    same(after + timedelta(seconds=31))  # and gone quiet
    perform(c.id, "start_timer", chief, after)
    same(after + timedelta(seconds=30))  # reading
    same(after + timedelta(minutes=3))  # answering
    perform(c.id, "finish", chief, after + timedelta(minutes=4))
    same(after + timedelta(minutes=4))
    perform(c.id, "enter_rest", me, after + timedelta(minutes=5))
    same(after + timedelta(minutes=5))
    assert set(seen) == {
        "invited",
        "confirmed",
        "debug_waiting",
        "debugging",
        "debugged",
        "waiting",
        "interviewing",
        "finished",
        "resting",
    }


def test_an_unchanged_poll_is_answered_quickly_with_the_full_etag(world, client):
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    etag = me.poll("invited").headers["ETag"].strip('"')
    assert quick(c, world.now, etag) == etag
    response = me.poll("invited", etag)
    assert response.status_code == 304 and response.headers["ETag"] == f'"{etag}"'
    assert response.headers["X-Server-Now-Ms"].isdigit()
    assert response.headers["Cache-Control"] == "no-store"


def test_no_quick_answer_for_another_session_stage_or_etag(world, client):
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    etag = me.poll("invited").headers["ETag"].strip('"')
    now = world.now
    assert quick(c, now, etag, nonce="someone-else") is None  # signed in elsewhere since
    assert quick(c, now, etag, stage="confirmed") is None  # the page shows another stage
    assert quick(c, now, etag + "x") is None
    assert quick_not_modified(None, None, "invited", ETags([etag]), now) is None
    assert quick_not_modified(999_999, "n", "invited", ETags([etag]), now) is None  # no such row


def test_a_ringing_call_always_takes_the_full_way(world, client):
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    world.read_notices(c)
    perform(c.id, "enter_debug", world.as_candidate(c), world.now)
    perform(c.id, "call_debug", Actor.staff(world.assistant), world.now)
    etag = me.poll("debug_waiting").headers["ETag"].strip('"')
    assert fresh(c).state == S.DEBUG_CALLED
    # The call's own row decides when it lapses: the quick view does not read it.
    assert quick(c, world.now, etag) is None
    assert me.poll("debug_waiting", etag).status_code == 304  # the full path's answer
    with time_machine.travel(world.now + timedelta(seconds=61), tick=False):
        me.poll("debug_waiting", etag)
    assert fresh(c).state == S.DEBUG_WAITING and fresh(c).missed_calls == 1


def test_a_due_time_rule_takes_the_full_way_which_applies_it(world, client):
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    world.to_waiting(c)
    perform(c.id, "draw_lot", world.as_candidate(c), world.now + timedelta(minutes=1))
    after = world.now + timedelta(minutes=31)
    perform(c.id, "call_interview", Actor.staff(world.chief), after)
    perform(c.id, "accept_interview", world.as_candidate(c), after)
    perform(c.id, "start_timer", Actor.staff(world.chief), after)
    with time_machine.travel(after + timedelta(minutes=9), tick=False):
        etag = me.poll("interviewing").headers["ETag"].strip('"')
    assert fresh(c).state == S.INTERVIEWING
    end = after + timedelta(minutes=10)  # the 10 answering minutes are over
    assert quick(c, end, etag) is None
    with time_machine.travel(end, tick=False):
        response = me.poll("interviewing", etag)
    assert response.headers["HX-Redirect"] == "/me"
    assert fresh(c).state == S.FINISHED


def test_a_lot_due_at_the_cut_off_takes_the_full_way_which_assigns_it(world, client):
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    world.to_waiting(c)
    with time_machine.travel(world.now + timedelta(minutes=5), tick=False):
        etag = me.poll("waiting").headers["ETag"].strip('"')
    cut_off = world.now + timedelta(minutes=30)
    assert quick(c, cut_off - timedelta(seconds=1), etag) == etag
    assert quick(c, cut_off, etag) is None
    with time_machine.travel(cut_off, tick=False):
        assert me.poll("waiting", etag).status_code == 200  # the fragment now shows the lot
    candidate = fresh(c)
    assert candidate.lot_number is not None and candidate.lot_assigned


@pytest.fixture
def reads(monkeypatch) -> list[int]:
    """The candidates whose quick view (the one SELECT) was read, in order."""
    from app.day import poll as candidate_poll

    seen: list[int] = []
    real = candidate_poll.read_poll_view
    monkeypatch.setattr(candidate_poll, "read_poll_view", lambda i: seen.append(i) or real(i))
    return seen


def test_a_first_poll_without_an_etag_goes_straight_the_full_way(world, client, reads):
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    first = me.poll("invited")
    assert first.status_code == 200 and reads == []  # nothing to compare: no quick SELECT
    assert me.poll("invited", first.headers["ETag"].strip('"')).status_code == 304
    assert reads == [c.id]


def test_a_changed_poll_reads_the_quick_view_once_then_goes_the_full_way(world, client, reads):
    """The lane's quick SELECT steps aside (the ETag moved); the view does not ask it again."""
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    etag = me.poll("invited").headers["ETag"].strip('"')
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    changed = me.poll("invited", etag)
    assert changed.status_code == 200 and changed.headers["HX-Redirect"]  # a stage further on
    assert reads == [c.id]


def test_a_waiting_page_learns_its_count_ahead_from_a_304_and_refetches_only_at_none(app, client):
    """The waiting fragment shows "您前面还有 N 位考生". Each call from the front moves N for every
    page behind: a whole fragment each time for one number (at 3,000 candidates most of the
    full answers, `make bench`). So every answer carries N in `X-Queue-Ahead` (candidate.js
    writes it into the page), and the ETag moves only when N reaches 0 (another sentence);
    nor does the panel's queue moving behind her (a lot drawn, a spot check) move it."""
    world = World(candidates=4)
    first_c, second_c, me_c, behind = world.candidates
    me = CandidateBrowser(client)
    me.enter_code(me_c.code)
    for lot, c in enumerate((first_c, second_c, me_c), start=1):
        world.to_waiting(c)
        fresh(c).lot_number = lot
    db.session.commit()
    at = world.now + timedelta(minutes=1)
    with time_machine.travel(at, tick=False):
        first = me.poll("waiting")
    etag = first.headers["ETag"].strip('"')
    assert "您前面还有 <strong data-queue-ahead>2</strong> 位考生" in first.text
    assert first.headers["X-Queue-Ahead"] == "2"

    # Behind her: a lot drawn; ahead of her: a spot check in the waiting room.
    world.to_waiting(behind)
    perform(behind.id, "draw_lot", world.as_candidate(behind), at)
    assert fresh(behind).lot_number == 4
    perform(first_c.id, "call_spot_check", Actor.staff(world.assistant), at)
    perform(first_c.id, "accept_spot_check", world.as_candidate(first_c), at)
    perform(first_c.id, "end_spot_check", Actor.staff(world.assistant), at)
    with time_machine.travel(at, tick=False):
        same = me.poll("waiting", etag)
    assert same.status_code == 304 and same.headers["X-Queue-Ahead"] == "2"

    # The first is called into the room: one ahead now, said by the quick 304.
    called = world.now + timedelta(minutes=31)
    perform(first_c.id, "call_interview", Actor.staff(world.chief), called)
    assert quick(me_c, called, etag) == etag
    with time_machine.travel(called, tick=False):
        one = me.poll("waiting", etag)
    assert one.status_code == 304 and one.headers["X-Queue-Ahead"] == "1"
    assert one.headers["ETag"].strip('"') == etag

    # The second leaves the queue (disqualified): nobody ahead, another sentence, the whole
    # fragment.
    perform(second_c.id, "disqualify", Actor.staff(world.hr), called, reason="替考")
    assert quick(me_c, called, etag) is None
    with time_machine.travel(called, tick=False):
        none = me.poll("waiting", etag)
    assert none.status_code == 200 and "您前面没有等待的考生" in none.text
    assert none.headers["X-Queue-Ahead"] == "0" and none.headers["ETag"].strip('"') != etag
