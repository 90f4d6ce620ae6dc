"""The embed partial: its data attributes for every role, a fresh token scoped to its room, nothing
personal, no caching, the development-mode banner, and the script it loads.

Tokens are judged with tests/jitsi_rules (Prosody's rules).
"""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from app.day.second_camera import ensure_bind_code
from app.jitsi.embed import (
    MARGIN_SECONDS,
    TOOLBARS,
    embed_for_candidate,
    embed_for_staff,
    waiting_room,
)
from app.models.candidate import CandidateState as S
from app.static_files import parse_fingerprinted
from app.timeutil import utcnow
from tests.factories import World
from tests.jitsi_rules import TokenRefused, verify
from tests.jitsi_world import (  # noqa: F401 - fixtures
    DEV_BANNER,
    DOMAIN,
    PERSONAL,
    RULES,
    claims_of,
    hosted,
    hosted_config,
    parse_embeds,
    render_embed,
    the_embed,
)

EMBED_JS = Path(__file__).resolve().parents[1] / "app" / "static" / "js" / "jitsi-embed.js"
PARTIAL = Path(__file__).resolve().parents[1] / "app" / "templates" / "_jitsi_embed.html"


@pytest.mark.parametrize("role", ["candidate", "second_camera", "examiner", "assistant", "chief"])
def test_embed_partial_carries_a_valid_token_for_its_room_only(hosted, role):
    world = World.for_calls()
    candidate = world.interviewing(lot=7)
    room = world.panel.interview_room
    with hosted.test_request_context("/"):
        if role in ("candidate", "second_camera"):
            call = embed_for_candidate(candidate, world.now, second_camera=role == "second_camera")
        else:
            user = {"examiner": world.examiner, "assistant": world.assistant, "chief": world.chief}[
                role
            ]
            call = embed_for_staff(user, room, "interview", role, record_on_join=True)
        html = render_embed(call)
    attrs = the_embed(html)

    assert attrs["data-jitsi-domain"] == DOMAIN
    assert attrs["data-jitsi-room"] == room
    assert attrs["data-jitsi-role"] == role
    assert attrs["data-jitsi-kind"] == "interview"
    assert attrs["data-jitsi-api"] == f"https://{DOMAIN}/external_api.js"
    assert attrs["data-jitsi-events"] == "/calls/events"
    assert json.loads(attrs["data-jitsi-toolbar"]) == TOOLBARS[role]
    assert attrs["data-jitsi-audio-muted"] == ("true" if role == "second_camera" else "false")
    assert attrs["data-jitsi-silent"] == ("true" if role == "second_camera" else "false")
    # Only those who may record are asked to (an examiner's record_on_join is ignored).
    assert attrs["data-jitsi-record"] == ("true" if role in ("chief", "assistant") else "false")
    assert DEV_BANNER not in html
    assert 'role="status"' in html and 'aria-live="polite"' in html and "正在连接…" in html
    # The file; the fingerprint in its name is tests/test_static_files.py's.
    assert [
        (parse_fingerprinted(s.get("src").removeprefix("/static/")) or ("",))[0]
        for s in parse_embeds(html).scripts
    ] == ["js/jitsi-embed.js"]

    token = attrs["data-jitsi-jwt"]
    now_ts = int(datetime.now(UTC).timestamp())
    claims = verify(token, RULES, room=room, now=now_ts)
    with pytest.raises(TokenRefused, match="Room and token mismatched"):
        verify(token, RULES, room=world.other_panel.interview_room, now=now_ts)
    with pytest.raises(TokenRefused, match="Room and token mismatched"):
        verify(token, RULES, room=world.panel.rest_room, now=now_ts)
    user = claims["context"]["user"]
    staff = role in ("examiner", "assistant", "chief")
    assert user["moderator"] == ("true" if staff else "false")
    assert user["affiliation"] == ("owner" if staff else "member")
    assert claims["context"]["features"]["recording"] == (
        "true" if role in ("chief", "assistant") else "false"
    )
    expected_name = {
        "candidate": "考生 07",
        "second_camera": "考生 07 辅机位",
        "examiner": "考官 2",
        "assistant": "面试助理 李",
        "chief": "主考官",
    }[role]
    assert user["name"] == expected_name == attrs["data-jitsi-name"]
    # Nothing personal in the token (every participant sees context.user) nor in the page.
    for secret in PERSONAL:
        assert secret not in json.dumps(claims, ensure_ascii=False) and secret not in html


@pytest.mark.parametrize(
    "state,kind,room_of",
    [
        (S.RESTING, "rest", lambda w: w.panel.rest_room),
        (S.INTERVIEW_CALLED, "interview", lambda w: w.panel.interview_room),
        # 面试等待室 (issue 16): the panel's supervised waiting-room call.
        (S.WAITING, "waiting", lambda w: waiting_room(w.panel)),
    ],
)
def test_candidate_embed_follows_the_room_they_belong_in(hosted, state, kind, room_of):
    world = World.for_calls()
    candidate = world.candidate(state)
    with hosted.test_request_context("/"):
        attrs = the_embed(render_embed(embed_for_candidate(candidate, world.now)))
    assert attrs["data-jitsi-kind"] == kind and attrs["data-jitsi-room"] == room_of(world)
    verify(
        attrs["data-jitsi-jwt"], RULES, room=room_of(world), now=int(datetime.now(UTC).timestamp())
    )


def test_candidate_token_lives_for_the_remaining_time_plus_margin(hosted):
    world = World.for_calls()
    candidate = world.interviewing()
    now = utcnow()
    with hosted.test_request_context("/"):
        call = embed_for_candidate(candidate, now)
    claims = claims_of(call.jwt)
    remaining = int((candidate.deadline_at - now).total_seconds())
    assert abs((claims["exp"] - claims["iat"]) - (remaining + MARGIN_SECONDS)) <= 2
    assert claims["exp"] - claims["iat"] < 30 * 60  # one call, never a day
    assert claims["iat"] - claims["nbf"] == 30


def test_staff_tokens_are_hours_not_days(hosted):
    world = World.for_calls()
    with hosted.test_request_context("/"):
        call = embed_for_staff(world.chief, world.panel.interview_room, "interview", "chief")
    claims = claims_of(call.jwt)
    assert 0 < claims["exp"] - claims["iat"] <= 6 * 3600


def test_two_page_views_get_two_tokens(hosted):
    world = World.for_calls()
    candidate = world.interviewing()
    tokens = []
    for second in (0, 1):
        moment = world.now + timedelta(seconds=second)
        with time_machine.travel(moment, tick=False), hosted.test_request_context("/"):
            embed = the_embed(render_embed(embed_for_candidate(candidate, utcnow())))
            tokens.append(embed["data-jitsi-jwt"])
    assert tokens[0] != tokens[1]


def test_no_call_renders_nothing(hosted):
    with hosted.test_request_context("/"):
        assert render_embed(None).strip() == ""
        # In the debug queue: no call until the assistant's (the waiting room has one now).
        candidate = World.for_calls().candidate(S.DEBUG_WAITING)
        assert embed_for_candidate(candidate, utcnow()) is None


def test_development_mode_has_no_token_and_shows_the_banner(app):
    world = World.for_calls()
    candidate = world.interviewing()
    with app.test_request_context("/"):
        for call in (
            embed_for_candidate(candidate, world.now),
            embed_for_candidate(candidate, world.now, second_camera=True),
            embed_for_staff(world.chief, world.panel.interview_room, "interview", "chief"),
            embed_for_staff(world.assistant, world.panel.rest_room, "rest", "assistant"),
        ):
            html = render_embed(call)
            attrs = the_embed(html)
            assert "data-jitsi-jwt" not in attrs
            assert attrs["data-jitsi-domain"] == "meet.jit.si"
            assert attrs["data-jitsi-api"] == "https://meet.jit.si/external_api.js"
            assert DEV_BANNER in html


def test_development_mode_banner_on_the_phone_page(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    code = ensure_bind_code(candidate)
    html = client.get(f"/calls/phone/{code}").get_data(as_text=True)
    assert DEV_BANNER in html and "data-jitsi-jwt" not in html


def test_a_page_with_a_token_is_never_cached(hosted):
    world = World.for_calls()
    candidate = world.interviewing()
    code = ensure_bind_code(candidate)
    client = hosted.test_client()
    for url in (f"/calls/phone/{code}", f"/calls/phone/{code}/call"):
        response = client.get(url)
        assert response.status_code == 200 and "data-jitsi-jwt" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"


def test_building_an_embed_marks_any_response_no_store(hosted):
    """A page of another module that includes the partial gets no-store without doing anything."""
    world = World.for_calls()
    candidate = world.interviewing()
    with hosted.test_request_context("/"):
        embed_for_candidate(candidate, world.now)
        response = hosted.process_response(hosted.make_response("page"))
    assert response.headers["Cache-Control"] == "no-store"
    # A page without a call keeps its own caching (a request of its own: `g` is per request).
    response = hosted.test_client().get("/calls/phone")
    assert response.status_code == 200 and response.headers.get("Cache-Control") != "no-store"


def test_the_script_reads_every_attribute_the_partial_documents():
    script = EMBED_JS.read_text(encoding="utf-8")
    partial = PARTIAL.read_text(encoding="utf-8")
    rendered = set(re.findall(r"(data-jitsi-[a-z-]+)=", partial))
    documented = set(re.findall(r"^\s+(data-jitsi-[a-z-]+)", partial, re.M))
    assert {"data-jitsi-domain", "data-jitsi-room", "data-jitsi-jwt", "data-jitsi-name"} <= rendered
    assert rendered <= documented | {"data-jitsi-silent"}
    for attribute in rendered:
        assert f"'{attribute}'" in script, attribute
    # What the issue asks of the script: prejoin off, the stored devices, recording, the events.
    for needle in (
        "prejoinConfig: {enabled: false}",
        "'ir.cameraId'",
        "'ir.micId'",
        "executeCommand('startRecording', {mode: 'file'})",
        "'ir:start-recording'",
        "'videoConferenceJoined'",
        "'videoConferenceLeft'",
        "'participantJoined'",
        "'participantLeft'",
        "'cameraError'",
        "'micError'",
        "'recordingStatusChanged'",
    ):
        assert needle in script, needle
    assert "eval(" not in script and "innerHTML" not in script
