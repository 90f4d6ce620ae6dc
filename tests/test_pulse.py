"""The pulse (app/day/pulse.py): the panel's shared "poll now", and the slow intervals it allows.

A page far back in the queue polls every 10 s; a call, a broadcast or a release must still reach
it within 3 s. What carries that is the pulse: every committed change of her row and every
broadcast to her panel or exam shows in it at once, it is the same for every page of the panel
(no cookie, no statement, publicly cacheable for a second), and without Redis it says so and
the pages fall back to 2 s."""

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app import db
from app.day.broadcasts import post_broadcast
from app.day.help_replies import answer_help, seen_stamp
from app.day.poll_interval import FAR, FAST, NEAR
from app.day.pulse import WAKE_WINDOW, pulse_token, read_pulse, wake_tag
from app.journey import Actor, perform
from app.models import Candidate, HelpRequest
from app.models.candidate import CandidateState as S
from app.refusals import Refused
from tests.candidate_client import CandidateBrowser
from tests.factories import World, move_entry_cutoff_to_now


def _url(candidate) -> str:
    token = pulse_token(candidate.exam_id, candidate.panel_id)
    return f"/pulse/{candidate.exam_id}/{candidate.panel_id or 0}/{token}"


def _tags(answer: dict) -> list[str]:
    return [w.rsplit(".", 1)[0] for w in answer["w"]]


def _statements(run):
    seen = []

    def count(*args):
        seen.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = run()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return result, seen


def test_the_pulse_is_the_panel_s_not_the_candidate_s_and_costs_no_statement(app, client):
    world = World()
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    url = _url(c)
    response, statements = _statements(lambda: client.get(url))
    assert response.status_code == 200 and statements == []
    assert set(response.get_json()) == {"v", "w"}
    assert response.headers["Cache-Control"] == "public, max-age=1"
    # Nothing tied to whoever asked: nginx may give the same bytes to every page of the panel.
    # (Flask says `Vary: Cookie` on every answer, whatever was read; nginx's pulse location
    # ignores it and passes no cookie on: tests/test_deploy_files.py.)
    assert "Set-Cookie" not in response.headers
    # Same answer signed in or not.
    anonymous = app.test_client().get(url)
    assert anonymous.get_json() == response.get_json()


def test_a_wrong_token_or_another_panel_s_token_finds_nothing(app, client):
    world = World()
    c = world.candidates[0]
    assert client.get(f"/pulse/{c.exam_id}/{c.panel_id}/{'0' * 16}").status_code == 404
    other = pulse_token(c.exam_id, c.panel_id + 1)
    assert client.get(f"/pulse/{c.exam_id}/{c.panel_id}/{other}").status_code == 404
    assert client.get(f"/pulse/{c.exam_id}/{c.panel_id}/x").status_code == 404


def test_a_committed_move_wakes_her_page_and_only_a_keyed_tag_shows(app):
    world = World()
    c = world.candidates[0]
    before = read_pulse(c.exam_id, c.panel_id)
    assert wake_tag(c.id) not in _tags(before)
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    after = read_pulse(c.exam_id, c.panel_id)
    assert wake_tag(c.id) in _tags(after)
    # Not her id, not her code: nobody else reading the pulse learns whose wake it is.
    assert str(c.id) not in _tags(after) and c.code not in str(after)
    assert wake_tag(c.id) != wake_tag(world.candidates[1].id)


def test_a_refused_move_wakes_nobody(app):
    world = World()
    c = world.candidates[0]
    with pytest.raises(Refused):
        perform(c.id, "call_interview", Actor.staff(world.chief), world.now)
    assert wake_tag(c.id) not in _tags(read_pulse(c.exam_id, c.panel_id))


def test_a_call_to_the_waiting_room_wakes_the_called_candidate(app):
    world = World.for_calls()
    c = world.candidate(S.WAITING, lot=1)
    move_entry_cutoff_to_now(world.exam.id)
    perform(c.id, "call_interview", Actor.staff(world.chief))
    assert wake_tag(c.id) in _tags(read_pulse(c.exam_id, c.panel_id))


def test_a_broadcast_to_the_panel_changes_the_pulse_s_version(app):
    world = World()
    c = world.candidates[0]
    before = read_pulse(c.exam_id, c.panel_id)["v"]
    post_broadcast(world.assistant, world.panel, "面试推迟10分钟开始")
    assert read_pulse(c.exam_id, c.panel_id)["v"] != before


def test_a_help_reply_wakes_the_candidate_who_asked(app):
    world = World()
    c = world.candidates[0]
    help_request = HelpRequest(candidate_id=c.id, message="听不到声音")
    db.session.add(help_request)
    db.session.commit()
    # Her row is not touched: the reply itself must wake her.
    answer_help(
        help_request.id, world.assistant, "请检查耳机", False, seen_stamp(help_request), world.now
    )
    assert wake_tag(c.id) in _tags(read_pulse(c.exam_id, c.panel_id))


def test_a_moved_candidate_s_old_panel_s_pulse_wakes_her_too(app):
    world = World()
    c = world.candidates[0]
    other = world.add_other_panel("chief-b")
    old_panel = c.panel_id
    candidate = db.session.get(Candidate, c.id)
    candidate.panel_id = other.id
    db.session.commit()
    assert wake_tag(c.id) in _tags(read_pulse(c.exam_id, old_panel))
    assert wake_tag(c.id) in _tags(read_pulse(c.exam_id, other.id))


def test_wakes_older_than_the_window_are_gone(app):
    world = World()
    c = world.candidates[0]
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    with time_machine.travel(time.time() + WAKE_WINDOW + 1, tick=False):
        assert wake_tag(c.id) not in _tags(read_pulse(c.exam_id, c.panel_id))


def test_the_page_carries_its_panel_s_pulse_and_its_own_tag(app, client):
    world = World()
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    html = me.html()
    assert f'data-pulse-url="{_url(c)}"' in html
    assert f'data-wake-tag="{wake_tag(c.id)}"' in html


def _waiting_line(world: World, count: int) -> list:
    people = []
    for lot in range(1, count + 1):
        people.append(
            world.candidate(
                S.WAITING,
                lot=lot,
                confirmed_at=world.now,
                debugged_at=world.now,
                identity_checked_at=world.now,
                waiting_since=world.now,
                id_number=f"11010519900101{lot:04d}",
            )
        )
    return people


@pytest.mark.parametrize("quick", (False, True))
def test_the_next_few_poll_every_2_s_and_the_far_back_every_10(app, client, quick):
    world = World.for_calls()
    line = _waiting_line(world, NEAR + 3)
    for who, expected in ((line[0], FAST), (line[NEAR], FAST), (line[NEAR + 1], FAR)):
        me = CandidateBrowser(app.test_client())
        me.enter_code(who.code)
        full = me.poll("waiting")
        assert full.status_code == 200
        assert full.headers["X-Poll-Interval"] == str(expected)
        if quick:
            again = me.poll("waiting", full.headers["ETag"].strip('"'))
            assert again.status_code == 304
            assert again.headers["X-Poll-Interval"] == str(expected)


def test_on_exam_day_a_confirmed_page_polls_every_10_s(app, client):
    world = World()
    c = world.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    full = me.poll("invited")
    assert full.headers["X-Poll-Interval"] == str(FAR)
    quick = me.poll("invited", full.headers["ETag"].strip('"'))
    assert quick.status_code == 304 and quick.headers["X-Poll-Interval"] == str(FAR)


@pytest.fixture
def redis_away(monkeypatch):
    """Redis down and the breaker open, as app/redis_conn.py reports it: without a second app
    (whose dead connections would be collected in some later test)."""
    import redis

    import app.day.poll as poll_module
    import app.day.pulse as pulse_module
    import app.routes.candidate.context as context_module

    def refused():
        raise redis.ConnectionError("Redis down (test)")

    monkeypatch.setattr(pulse_module, "get_redis", refused)
    monkeypatch.setattr(poll_module, "redis_known_bad", lambda: True)
    monkeypatch.setattr(context_module, "redis_known_bad", lambda: True)


def test_without_redis_the_pulse_says_503_and_every_page_polls_every_2_s(app, client, redis_away):
    world = World.for_calls()
    far = _waiting_line(world, NEAR + 3)[-1]
    pulse = client.get(_url(far))
    assert pulse.status_code == 503 and pulse.headers["Cache-Control"] == "no-store"
    me = CandidateBrowser(client)
    me.enter_code(far.code)
    full = me.poll("waiting")
    assert full.status_code == 200 and full.headers["X-Poll-Interval"] == str(FAST)
    quick = me.poll("waiting", full.headers["ETag"].strip('"'))
    assert quick.status_code == 304 and quick.headers["X-Poll-Interval"] == str(FAST)


def test_the_wake_tag_is_fixed_per_candidate(app):
    assert wake_tag(5) == wake_tag(5) and len(wake_tag(5)) == 10
    assert timedelta(seconds=WAKE_WINDOW) > timedelta(seconds=FAR)
