"""When the candidate page polls next (app/day/poll_interval.py): the rule per stage, and the
`X-Poll-Interval` header on the full answer and on the quick 304 alike."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine

from app import db
from app.day.poll_interval import FAR, FAST, NEAR, SCORED, poll_seconds
from app.models import Candidate, CandidateResult
from app.models.candidate import CandidateState as S
from app.timeutil import utcnow
from tests.candidate_client import CandidateBrowser
from tests.factories import World

NOW = utcnow().replace(microsecond=0)
OPEN = SimpleNamespace(login_opens_at=NOW - timedelta(hours=1), waiting_opens_minutes=None)
TOMORROW = SimpleNamespace(login_opens_at=NOW + timedelta(days=1), waiting_opens_minutes=None)

# Where seconds matter on their own (a call rings, a clock runs): 2 s, pulse or not.
FAST_STAGES = ("debug_waiting", "debugging", "interviewing", "spot_check", "resting")
# Where only a staff action changes the page, and the pulse wakes it for that: 10 s.
SLOW_STAGES = ("invited", "confirmed", "debugged", "finished")


@pytest.mark.parametrize("stage", FAST_STAGES)
def test_stages_where_seconds_matter_poll_fast(stage):
    assert poll_seconds(stage, OPEN, NOW, None) == FAST


@pytest.mark.parametrize("stage", SLOW_STAGES)
def test_stages_only_a_staff_action_changes_poll_slowly_and_the_pulse_wakes_them(stage):
    assert poll_seconds(stage, OPEN, NOW, None) == FAR


def test_the_next_few_in_the_queue_poll_fast_and_the_rest_slowly():
    assert poll_seconds("waiting", OPEN, NOW, None, ahead=0) == FAST
    assert poll_seconds("waiting", OPEN, NOW, None, ahead=NEAR) == FAST
    assert poll_seconds("waiting", OPEN, NOW, None, ahead=NEAR + 1) == FAR
    assert poll_seconds("waiting", OPEN, NOW, None, ahead=400) == FAR
    # Without a lot yet (she draws it herself; the cut-off's draw wakes her).
    assert poll_seconds("waiting", OPEN, NOW, None, ahead=None) == FAR


@pytest.mark.parametrize("stage", (*SLOW_STAGES, "waiting"))
def test_without_redis_there_is_no_pulse_and_every_page_of_the_day_polls_fast(stage):
    assert poll_seconds(stage, OPEN, NOW, None, ahead=300, pulse_ok=False) == FAST


@pytest.mark.parametrize("stage", ("waiting", "debug_waiting", "resting"))
def test_the_day_s_stages_keep_their_rule_even_before_the_login_window(stage):
    # A test day, a reinstated candidate: whatever the schedule says, these can be called.
    assert poll_seconds(stage, TOMORROW, NOW, None, ahead=0) == FAST


@pytest.mark.parametrize("stage", ("invited", "confirmed"))
def test_before_the_login_window_the_page_polls_slowly_but_never_past_its_opening(stage):
    assert poll_seconds(stage, TOMORROW, NOW, None) == FAR
    soon = SimpleNamespace(login_opens_at=NOW + timedelta(seconds=5))
    assert poll_seconds(stage, soon, NOW, None) == 5
    now_open = SimpleNamespace(login_opens_at=NOW + timedelta(milliseconds=300))
    assert poll_seconds(stage, now_open, NOW, None) == FAST


def test_a_debugged_page_never_waits_past_the_waiting_room_s_opening(monkeypatch):
    import app.day.poll_interval as rule

    monkeypatch.setattr(rule, "waiting_opens_at", lambda exam: NOW + timedelta(seconds=4))
    assert poll_seconds("debugged", OPEN, NOW, None) == 4
    monkeypatch.setattr(rule, "waiting_opens_at", lambda exam: NOW - timedelta(seconds=4))
    assert poll_seconds("debugged", OPEN, NOW, None) == FAR


def test_a_released_page_waits_for_its_score_then_for_corrections():
    assert poll_seconds("released", OPEN, NOW, score_shown=False) == FAR
    assert poll_seconds("released", OPEN, NOW, score_shown=True) == SCORED
    # The quick path does not read the score: no header, the page keeps its last interval.
    assert poll_seconds("released", OPEN, NOW, score_shown=None) is None


def before_the_day(**kw) -> World:
    """The confirmation period, days before the exam-day login."""
    now = utcnow()
    return World(
        confirm_opens_at=now - timedelta(hours=1),
        confirm_deadline_at=now + timedelta(hours=2),
        login_opens_at=kw.pop("login_opens_at", now + timedelta(hours=3)),
        login_closes_at=now + timedelta(hours=10),
        **kw,
    )


def test_the_header_comes_on_the_full_answer_and_on_the_quick_304(app, client):
    world = before_the_day()
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    full = me.poll("invited")
    assert full.status_code == 200 and full.headers["X-Poll-Interval"] == str(FAR)
    assert 'data-poll-seconds="10"' in full.get_data(as_text=True)
    quick = me.poll("invited", full.headers["ETag"].strip('"'))
    assert quick.status_code == 304 and quick.headers["X-Poll-Interval"] == str(FAR)


def test_a_released_page_s_full_answer_carries_its_slow_interval(app, client):
    world = World()
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    _release(c)
    assert me.poll("released").headers["X-Poll-Interval"] == str(FAR)
    db.session.add(
        CandidateResult(candidate_id=c.id, final_score=Decimal("80"), published_at=utcnow())
    )
    db.session.commit()
    full = me.poll("released")
    assert full.status_code == 200 and full.headers["X-Poll-Interval"] == str(SCORED)
    # Its 304s say nothing: the page keeps the 30 s its full answer gave.
    quick = me.poll("released", full.headers["ETag"].strip('"'))
    assert quick.status_code == 304 and "X-Poll-Interval" not in quick.headers


def _release(c):
    # Straight to the state: how she got there is not what this test is about.
    candidate = db.session.get(Candidate, c.id)
    candidate.state = S.RELEASED
    db.session.commit()


def test_the_schedule_gate_still_opens_on_time(app, client):
    opens = utcnow().replace(microsecond=0) + timedelta(seconds=4)
    world = before_the_day(login_opens_at=opens)
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    with time_machine.travel(opens - timedelta(seconds=4), tick=False):
        assert me.poll("invited").headers["X-Poll-Interval"] == "4"
