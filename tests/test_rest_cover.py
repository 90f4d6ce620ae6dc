"""The rest room always covered (issue 16): who finished but never came in, the heartbeat of the
staff page in the rest-room call (its TTL, Redis down), the 休息室未录制 warning on every staff
console of the panel, and the rest-room call joining by itself."""

from datetime import timedelta

import pytest
import time_machine

from app.day import call_status, rest_cover
from app.day.rest_cover import BEAT_TTL_SECONDS, RestCover
from app.journey import Actor, perform
from app.models.candidate import CandidateState as S
from app.redis_conn import get_redis
from app.timeutil import utcnow
from tests.conftest import app_with, csrf_token_from, release_app, signed_in_staff
from tests.factories import World, gen_candidate
from tests.static_urls import static_url

HX = {"HX-Request": "true"}
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"
WARNING = "休息室未录制"


@pytest.fixture
def world(app):
    return World.for_calls()


@pytest.fixture
def down_app(app, config_class):
    other = app_with(config_class, REDIS_URL=CLOSED_PORT_REDIS)
    yield other
    release_app(other)


def _in(world, state, lot, **kw):
    return gen_candidate(
        world.exam, f"考生{lot}", panel=world.panel, state=state, lot_number=lot, **kw
    )


def _finished(world, lot, minutes_ago):
    at = utcnow() - timedelta(minutes=minutes_ago)
    return _in(world, S.FINISHED, lot, finished_at=at, state_changed_at=at)


# --- the domain rules ------------------------------------------------------------------------------


def test_not_in_rest_room_lists_the_finished_longest_gone_first(world):
    late = _finished(world, 3, minutes_ago=2)
    early = _finished(world, 4, minutes_ago=7)
    _in(world, S.RESTING, 5)
    _in(world, S.WAITING, 6)
    listed = rest_cover.not_in_rest_room(world.panel, utcnow())
    assert [m.candidate.id for m in listed] == [early.id, late.id]
    assert 7 * 60 - 5 <= listed[0].seconds_since_end <= 7 * 60 + 5
    assert 2 * 60 - 5 <= listed[1].seconds_since_end <= 2 * 60 + 5


def test_a_beat_keeps_the_room_covered_for_its_ttl_only(world):
    now = utcnow()
    _in(world, S.RESTING, 5)
    assert rest_cover.cover_of(world.panel, now).warn  # resting, nobody beat yet
    assert rest_cover.beat(world.panel.id, "s1", now)
    assert rest_cover.watchers(world.panel.id, now) == 1
    assert not rest_cover.cover_of(world.panel, now).warn
    # Within the TTL still covered; past it, as if the page had crashed, the warning is back.
    later = now + timedelta(seconds=BEAT_TTL_SECONDS - 1)
    assert rest_cover.watchers(world.panel.id, later) == 1
    gone = now + timedelta(seconds=BEAT_TTL_SECONDS + 1)
    assert rest_cover.watchers(world.panel.id, gone) == 0
    assert rest_cover.cover_of(world.panel, gone).warn
    # The key itself expires with the last beat: nothing is left behind in Redis.
    ttl = get_redis().ttl(f"ir:restcover:{world.panel.id}")
    assert 0 < ttl <= BEAT_TTL_SECONDS


def test_leaving_uncovers_at_once_and_two_pages_count_apart(world):
    now = utcnow()
    _in(world, S.RESTING, 5)
    rest_cover.beat(world.panel.id, "s1", now)
    rest_cover.beat(world.panel.id, "s2", now)
    rest_cover.beat(world.panel.id, "s2", now + timedelta(seconds=5))  # a page beats again
    assert rest_cover.watchers(world.panel.id, now + timedelta(seconds=5)) == 2
    rest_cover.leave(world.panel.id, "s1")
    assert not rest_cover.cover_of(world.panel, now).warn
    rest_cover.leave(world.panel.id, "s2")
    assert rest_cover.cover_of(world.panel, now).warn
    # Another panel's beat covers only that panel.
    rest_cover.beat(world.other_panel.id, "s9", now)
    assert rest_cover.cover_of(world.panel, now).warn


def test_a_failed_recording_in_a_watched_room_is_not_recorded_either(world):
    now = utcnow()
    _in(world, S.RESTING, 5)
    rest_cover.beat(world.panel.id, "s1", now)
    call_status.record_event(
        world.panel.rest_room, "recordingStatusChanged", {"on": "false", "error": "no Jibri"}
    )
    cover = rest_cover.cover_of(world.panel, now)
    assert cover.covered and cover.recording_failed and cover.warn
    call_status.record_event(world.panel.rest_room, "recordingStatusChanged", {"on": "true"})
    assert not rest_cover.cover_of(world.panel, now).warn


def test_nobody_resting_means_nothing_to_warn_about():
    assert not RestCover(resting=0, watchers=0).warn
    assert not RestCover(resting=0, watchers=None).warn
    assert RestCover(resting=2, watchers=0).warn
    # Redis could not say: the warning shows rather than hides.
    assert RestCover(resting=1, watchers=None).warn and RestCover(1, None).covered is None
    assert len({RestCover(1, None).etag, RestCover(1, 0).etag, RestCover(1, 1).etag}) == 3


def test_redis_down_is_not_covered(world, down_app):
    panel_id = world.panel.id  # read here: the other app's context must not touch this session
    with down_app.app_context():
        assert rest_cover.beat(panel_id, "s1", utcnow()) is False
        watchers = rest_cover.watchers(panel_id, utcnow())
        rest_cover.leave(panel_id, "s1")  # no error either
    assert watchers is None
    cover = RestCover(resting=1, watchers=watchers)
    assert cover.warn and cover.covered is None


# --- the consoles ------------------------------------------------------------------------------------


def _assistant(app, world):
    client = signed_in_staff(app, "assistant")
    page = client.get(f"/assistant/panels/{world.panel.id}")
    return client, csrf_token_from(page.get_data(as_text=True)), page.get_data(as_text=True)


def test_every_staff_console_of_the_panel_warns_until_a_page_beats(app, world):
    _in(world, S.RESTING, 5)
    assistant, token, page = _assistant(app, world)
    assert WARNING in page and 'id="rest-cover"' in page and static_url("js/rest-room.js") in page
    for username in ("chief", "examiner2"):
        html = signed_in_staff(app, username).get(f"/examiner/panels/{world.panel.id}").text
        assert WARNING in html and "/rest-cover" in html
    # The assistant's page in the call beats: the warning goes, on every console, at the next poll.
    beat = assistant.post(
        f"/assistant/panels/{world.panel.id}/rest-call/beat", headers={"X-CSRFToken": token}
    )
    assert beat.status_code == 204
    chief = signed_in_staff(app, "chief")
    for client, url in (
        (assistant, f"/assistant/panels/{world.panel.id}/rest-cover"),
        (chief, f"/examiner/panels/{world.panel.id}/rest-cover"),
    ):
        fragment = client.get(url, headers=HX)
        assert fragment.status_code == 200
        assert WARNING not in fragment.text and "录制中" in fragment.text
        again = client.get(url, headers={**HX, "If-None-Match": fragment.headers["ETag"]})
        assert again.status_code == 304
    # Leaving the call: the warning is back at once.
    left = assistant.post(
        f"/assistant/panels/{world.panel.id}/rest-call/leave", headers={"X-CSRFToken": token}
    )
    assert left.status_code == 204
    assert WARNING in chief.get(f"/examiner/panels/{world.panel.id}/rest-cover", headers=HX).text


def test_the_warning_is_for_the_panels_own_staff_only(app, world):
    outsider = signed_in_staff(app, "outsider")
    assert outsider.get(f"/assistant/panels/{world.panel.id}/rest-cover").status_code == 403
    token = csrf_token_from(outsider.get(f"/assistant/panels/{world.other_panel.id}").text)
    beat = outsider.post(
        f"/assistant/panels/{world.panel.id}/rest-call/beat", headers={"X-CSRFToken": token}
    )
    assert beat.status_code == 403
    assert rest_cover.watchers(world.panel.id, utcnow()) == 0


def test_beats_without_csrf_are_refused(app, world):
    assistant = signed_in_staff(app, "assistant")
    assert assistant.post(f"/assistant/panels/{world.panel.id}/rest-call/beat").status_code == 400


def test_with_redis_down_the_consoles_warn(app, config_class, world):
    _in(world, S.RESTING, 5)
    rest_cover.beat(world.panel.id, "s1", utcnow())  # covered, as far as the live Redis knows
    other = app_with(config_class, REDIS_URL=CLOSED_PORT_REDIS)
    try:
        client = other.test_client()
        token = csrf_token_from(client.get("/staff/login").text)
        login = client.post(
            "/staff/login",
            data={"username": "chief", "password": "correct horse battery", "csrf_token": token},
        )
        assert login.status_code == 302
        fragment = client.get(f"/examiner/panels/{world.panel.id}/rest-cover", headers=HX)
        assert fragment.status_code == 200
        assert WARNING in fragment.text and "无法确认录制状态" in fragment.text
    finally:
        release_app(other)


def test_the_rest_call_joins_by_itself_once_someone_rests(app, world):
    assistant, _token, page = _assistant(app, world)
    # Not joined: the section polls for a resting candidate, with no call in it yet.
    assert f"/assistant/panels/{world.panel.id}/rest-call?auto=1" in page
    assert 'hx-trigger="load, every 3s"' in page
    url = f"/assistant/panels/{world.panel.id}/rest-call?auto=1"
    assert assistant.get(url, headers=HX).status_code == 204  # nobody rests: nothing swapped
    c = _finished(world, 5, minutes_ago=1)
    perform(c.id, "enter_rest", Actor.of_candidate(c), utcnow())
    joined = assistant.get(url, headers=HX)
    assert joined.status_code == 200
    html = joined.text
    assert 'data-jitsi-kind="rest"' in html and 'data-jitsi-record="true"' in html
    # Joined by itself, maybe during a debug call on the same page: her microphone starts muted.
    assert 'data-jitsi-audio-muted="true"' in html
    assert f'data-jitsi-room="{world.panel.rest_room}"' in html
    assert "rest-call/beat" in html and "rest-call/leave" in html
    opening = html[: html.index(">")]
    assert "hx-trigger" not in opening  # a running call is never polled away
    # Leaving on purpose: no poll rejoins her.
    left = assistant.get(f"/assistant/panels/{world.panel.id}/rest-call?left=1", headers=HX)
    assert "auto=1" not in left.text and "不会自动重新加入" in left.text


def test_the_board_lists_who_finished_but_never_came_in(app, world):
    _finished(world, 3, minutes_ago=6)
    assistant, _token, page = _assistant(app, world)
    assert "未进入休息室" in page
    row = page[page.index('id="not-in-rest-room"') :]
    assert "03" in row and 'data-elapsed="3' in row  # 6 minutes: 360 s, counting up
    with time_machine.travel(utcnow() + timedelta(seconds=1)):
        board = assistant.get(f"/assistant/panels/{world.panel.id}/board", headers=HX)
    assert "未进入休息室" in board.text
