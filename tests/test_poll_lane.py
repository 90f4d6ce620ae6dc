"""The unchanged poll's own lane (app/day/poll_lane.py): the same 304 as the route, header for
header, without Flask's request machinery; every other request goes to Flask as before."""

import pytest
from flask import request_started

from app import db
from app.day import poll_lane
from app.models import Candidate
from tests.candidate_client import CandidateBrowser
from tests.conftest import csrf_token_from
from tests.factories import World

# Different on every answer by design.
VOLATILE = {"X-Request-ID", "X-Server-Now-Ms"}


@pytest.fixture
def world(app):
    return World()


@pytest.fixture
def flask_requests(app):
    """How many requests reached Flask's request machinery."""
    seen = []

    def note(sender, **extra):
        seen.append(1)

    request_started.connect(note, app)
    yield seen
    request_started.disconnect(note, app)


def signed_in(world, client):
    me = CandidateBrowser(client)
    me.enter_code(world.candidates[0].code)
    etag = me.poll("invited").headers["ETag"].strip('"')
    return me, etag


def _headers(response) -> dict:
    return {k: v for k, v in response.headers.items() if k not in VOLATILE}


def test_the_lane_answers_the_unchanged_poll_as_the_route_does(world, client, monkeypatch):
    me, etag = signed_in(world, client)
    by_lane = me.poll("invited", etag)
    monkeypatch.setattr(poll_lane.PollLane, "_answer", lambda self, environ: None)
    by_route = me.poll("invited", etag)
    assert by_lane.status_code == by_route.status_code == 304
    assert _headers(by_lane) == _headers(by_route)
    assert set(by_lane.headers.keys()) == set(by_route.headers.keys())
    assert by_lane.headers["X-Server-Now-Ms"].isdigit()
    assert len(by_lane.headers["X-Request-ID"]) == 32


def test_a_waiting_page_gets_its_count_ahead_from_the_lane_as_from_the_route(
    world, client, monkeypatch
):
    ahead, c = world.candidates[:2]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    for lot, who in enumerate((ahead, c), start=1):
        world.to_waiting(who)
        db.session.get(Candidate, who.id).lot_number = lot
    db.session.commit()
    etag = me.poll("waiting").headers["ETag"].strip('"')
    by_lane = me.poll("waiting", etag)
    monkeypatch.setattr(poll_lane.PollLane, "_answer", lambda self, environ: None)
    by_route = me.poll("waiting", etag)
    assert by_lane.status_code == by_route.status_code == 304
    assert by_lane.headers["X-Queue-Ahead"] == "1"
    assert _headers(by_lane) == _headers(by_route)


def test_over_https_both_send_hsts(world, app, monkeypatch):
    client, https = app.test_client(), "https://localhost"
    token = csrf_token_from(client.get("/", base_url=https).get_data(as_text=True))
    signed = client.post(
        "/",
        data={"code": world.candidates[0].code, "csrf_token": token},
        headers={"Referer": https + "/"},  # Flask-WTF's strict referrer check over HTTPS
        base_url=https,
    )
    assert signed.status_code == 303
    url, hx = "/me/state?stage=invited", {"HX-Request": "true"}
    etag = client.get(url, headers=hx, base_url=https).headers["ETag"]

    def poll():
        return client.get(url, headers={**hx, "If-None-Match": etag}, base_url=https)

    by_lane = poll()
    monkeypatch.setattr(poll_lane.PollLane, "_answer", lambda self, environ: None)
    by_route = poll()
    assert by_lane.status_code == by_route.status_code == 304
    assert "Strict-Transport-Security" in by_lane.headers
    assert _headers(by_lane) == _headers(by_route)


def test_the_lane_keeps_flask_out_of_it_and_echoes_the_proxys_request_id(
    world, client, flask_requests
):
    me, etag = signed_in(world, client)
    before = len(flask_requests)
    response = client.get(
        "/me/state?stage=invited",
        headers={"HX-Request": "true", "If-None-Match": f'"{etag}"', "X-Request-ID": "abc12345"},
        environ_base=me.environ,
    )
    assert response.status_code == 304
    assert response.headers["X-Request-ID"] == "abc12345"
    assert len(flask_requests) == before


@pytest.mark.parametrize(
    "case",
    ["other etag", "other stage", "no htmx", "no etag", "no cookie", "forged cookie", "post"],
)
def test_everything_else_goes_to_flask(world, app, client, flask_requests, case):
    me, etag = signed_in(world, client)
    headers = {"HX-Request": "true", "If-None-Match": f'"{etag}"'}
    url = "/me/state?stage=invited"
    if case == "other etag":
        headers["If-None-Match"] = '"not-this-one"'
    elif case == "other stage":
        url = "/me/state?stage=waiting"
    elif case == "no htmx":
        del headers["HX-Request"]
    elif case == "no etag":
        del headers["If-None-Match"]
    elif case == "no cookie":
        client = app.test_client()
    elif case == "forged cookie":
        client = app.test_client()
        client.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), "forged.value.sig")
    before = len(flask_requests)
    if case == "post":
        response = client.post(url, headers=headers, environ_base=me.environ)
    else:
        response = client.get(url, headers=headers, environ_base=me.environ)
    assert len(flask_requests) == before + 1
    assert response.status_code != 500
    if case in ("no cookie", "forged cookie"):
        assert response.status_code != 304  # never answered for someone not signed in


def _cookie(client, app) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def test_a_cookie_verified_once_still_expires_at_flasks_max_age(
    world, app, client, flask_requests, monkeypatch
):
    """The lane keeps cookies it verified (their HMAC is a sixth of its cost), and still
    checks their age on every poll, as Flask would: past SESSION_LIFETIME_SECONDS from sign-in,
    the poll is Flask's, which refuses it."""
    _me, etag = signed_in(world, client)
    headers = {"HX-Request": "true", "If-None-Match": f'"{etag}"'}
    url = "/me/state?stage=invited"
    before = len(flask_requests)
    assert client.get(url, headers=headers).status_code == 304  # verified, and kept
    assert len(flask_requests) == before
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = poll_lane.time.time() + lifetime + 5
    monkeypatch.setattr(poll_lane.time, "time", lambda: later)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)  # Flask's own check
    response = client.get(url, headers=headers)
    assert len(flask_requests) == before + 1
    assert response.status_code != 304


def test_a_cookie_signed_with_another_key_is_flasks_even_with_a_known_payload(
    world, app, client, flask_requests
):
    _me, etag = signed_in(world, client)
    serializer = app.session_interface.get_signing_serializer(app)
    payload = serializer.loads(_cookie(client, app))
    other = app.session_interface.get_signing_serializer(app)
    other.secret_keys = [b"another secret key, not this app's"]
    forged = app.test_client()
    forged.set_cookie(app.config["SESSION_COOKIE_NAME"], other.dumps(payload))
    before = len(flask_requests)
    response = forged.get(
        "/me/state?stage=invited", headers={"HX-Request": "true", "If-None-Match": f'"{etag}"'}
    )
    assert len(flask_requests) == before + 1
    assert response.status_code != 304
