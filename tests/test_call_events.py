"""What the embedded calls report: every IFrame event audited, folded into the room's live status
(app/day/call_status.py) and shown on staff pages; who may report for which room."""

import pytest
from flask import render_template
from sqlalchemy import select

from app import db
from app.day.call_status import record_event, room_status
from app.jitsi.rooms import new_room_name
from app.models import AuditEvent, Call
from app.models.candidate import CandidateState as S
from app.redis_conn import close_redis, get_redis
from tests.conftest import StaffActions
from tests.factories import World
from tests.jitsi_world import (
    audit_kinds,
    csrf_token,
    report,
    sign_in_candidate,
    staff_client,
)


def test_candidate_reports_for_their_own_room(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    token = sign_in_candidate(client, candidate)
    room = world.panel.interview_room

    response = report(client, token, room=room, roomName=room)
    assert response.status_code == 204
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.kind == "call.videoConferenceJoined")
    )
    assert event.candidate_id == candidate.id and event.actor_type == "candidate"
    assert event.data["room"] == room and event.data["call_kind"] == "interview"
    assert event.data["detail"] == {"roomName": room}
    status = room_status(room)
    assert status["candidate_in"] and status["participants"] == 1
    assert status["last_event"] == "videoConferenceJoined"

    # Twice joined is still one participant; leaving empties the room.
    assert report(client, token, room=room).status_code == 204
    assert room_status(room)["participants"] == 1
    assert report(client, token, "videoConferenceLeft", room=room).status_code == 204
    assert room_status(room)["participants"] == 0 and not room_status(room)["candidate_in"]


def test_candidate_may_not_report_for_another_room(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    token = sign_in_candidate(client, candidate)
    for room in (world.other_panel.interview_room, world.panel.rest_room, "ir-e1-" + "0" * 32):
        assert report(client, token, room=room).status_code == 403
    assert "call.videoConferenceJoined" not in audit_kinds()
    assert room_status(world.other_panel.interview_room) == {}


def test_a_late_leave_report_is_accepted_but_not_a_late_join(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    token = sign_in_candidate(client, candidate)
    room = world.panel.interview_room
    assert report(client, token, room=room).status_code == 204
    candidate.state = S.FINISHED  # the countdown ended; the page already dropped the call
    db.session.commit()
    assert report(client, token, "videoConferenceJoined", room=room).status_code == 403
    assert report(client, token, "videoConferenceLeft", room=room).status_code == 204
    assert room_status(room)["candidate_in"] is False


def test_anonymous_reports_are_refused(app, client):
    world = World.for_calls()
    token = csrf_token(client)
    response = report(client, token, room=world.panel.interview_room)
    assert response.status_code == 403


def test_reports_need_the_csrf_token(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    sign_in_candidate(client, candidate)
    response = client.post(
        "/calls/events",
        json={
            "event": "videoConferenceJoined",
            "kind": "interview",
            "room": world.panel.interview_room,
        },
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        {"event": "somethingElse", "kind": "interview"},
        {"event": "videoConferenceJoined", "kind": "party"},
        {"event": "videoConferenceJoined", "kind": "interview", "room": ""},
        "not an object",
    ],
)
def test_malformed_reports_are_400(app, client, payload):
    world = World.for_calls()
    candidate = world.interviewing()
    token = sign_in_candidate(client, candidate)
    if isinstance(payload, dict):
        payload = {"room": world.panel.interview_room, **payload}
    response = client.post("/calls/events", json=payload, headers={"X-CSRFToken": token})
    assert response.status_code == 400


def test_detail_keys_cannot_pose_as_audit_arguments(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    token = sign_in_candidate(client, candidate)
    response = report(
        client,
        token,
        "cameraError",
        room=world.panel.interview_room,
        actor="x",
        exam_id="7",
        candidate="y",
        type="gum.not_found",
    )
    assert response.status_code == 204
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "call.cameraError"))
    assert event.actor_type == "candidate" and event.exam_id == world.exam.id
    assert event.data["detail"]["type"] == "gum.not_found"


def test_staff_of_the_panel_report_and_recording_status_shows(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    room = world.panel.interview_room
    StaffActions(client).login("chief")
    token = csrf_token(client)

    assert report(client, token, room=room).status_code == 204
    assert (
        report(
            client, token, "recordingStatusChanged", room=room, on="true", mode="file"
        ).status_code
        == 204
    )
    status = room_status(room)
    assert status["staff_in"] == 1 and status["recording"] == "on" and not status["candidate_in"]
    # A staff report lands on the timeline of the candidate in that room.
    kinds = audit_kinds(candidate.id)
    assert "call.recordingStatusChanged" in kinds and "call.videoConferenceJoined" in kinds

    assert (
        report(
            client,
            token,
            "recordingStatusChanged",
            room=room,
            on="false",
            mode="file",
            error="service-unavailable",
        ).status_code
        == 204
    )
    status = room_status(room)
    assert status["recording"] == "error" and status["recording_error"] == "service-unavailable"
    html = render_template("_call_status.html", status=status)
    assert "录制失败" in html and 'role="alert"' in html and "service-unavailable" in html


def test_staff_of_another_panel_may_not_report_but_hr_may(app):
    world = World.for_calls()
    world.interviewing()
    room = world.panel.interview_room
    client, token = staff_client(app, "outsider")
    assert report(client, token, room=room).status_code == 403
    client, token = staff_client(app, "hr")
    assert report(client, token, room=room).status_code == 204


def test_staff_may_report_for_a_debug_call_of_their_panel(app):
    world = World.for_calls()
    candidate = world.candidate(S.DEBUGGING)
    debug_room = new_room_name("ir-e1")
    db.session.add(
        Call(
            candidate_id=candidate.id,
            panel_id=world.panel.id,
            kind="debug",
            room=debug_room,
            accept_by=world.now,
            outcome="accepted",
        )
    )
    db.session.commit()
    client, token = staff_client(app, "assistant")
    assert report(client, token, kind="debug", room=debug_room).status_code == 204
    client, token = staff_client(app, "outsider")
    assert report(client, token, kind="debug", room=debug_room).status_code == 403


def test_call_status_badges(app):
    world = World.for_calls()
    room = world.panel.interview_room
    with app.test_request_context("/"):
        assert "尚无通话" in render_template("_call_status.html", status=room_status(room))
        record_event(room, "videoConferenceJoined", who="candidate:c1")
        record_event(room, "videoConferenceJoined", who="second_camera:c1")
        record_event(room, "recordingStatusChanged", {"on": "true", "mode": "file"})
        html = render_template("_call_status.html", status=room_status(room))
    assert "考生已入会" in html and "辅机位已入会" in html and "录制中" in html
    assert "2 人在会" in html
    assert get_redis().ttl(f"ir:call:{room}") > 11 * 3600


def test_room_status_tolerates_redis_down(app):
    app.extensions["redis"] = None
    app.extensions["redis_url"] = "redis://127.0.0.1:9/0"  # nothing listens there
    record_event("ir-e1-" + "a" * 32, "videoConferenceJoined", who="candidate:c1")
    assert room_status("ir-e1-" + "a" * 32) == {}
    close_redis(app)
    app.extensions["redis_url"] = app.config["REDIS_URL"]


def test_every_reported_event_is_audited_with_its_kind(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    token = sign_in_candidate(client, candidate)
    room = world.panel.interview_room
    names = [
        "videoConferenceJoined",
        "participantJoined",
        "cameraError",
        "micError",
        "recordingStatusChanged",
        "participantLeft",
        "videoConferenceLeft",
    ]
    for name in names:
        assert report(client, token, name, room=room, id="abc").status_code == 204
    # Whether Jibri records is for staff pages to say (app/day/call_reports.py).
    assert [k for k in audit_kinds(candidate.id) if k.startswith("call.")] == [
        f"call.{name}" for name in names if name != "recordingStatusChanged"
    ]


def test_a_jaas_room_is_reported_and_shown_as_the_bare_room(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    token = sign_in_candidate(client, candidate)
    room = world.panel.interview_room
    jaas = f"vpaas-magic-cookie-0123456789abcdef/{room}"
    assert report(client, token, room=jaas).status_code == 204
    assert room_status(room)["candidate_in"]


def test_reports_show_on_the_examiners_call_status(app, client):
    """The candidate's browser reports; the chief's page (its polled status line) shows it,
    with the recording status the chief's own page reported."""
    world = World.for_calls()
    candidate = world.interviewing()
    room = world.panel.interview_room
    token = sign_in_candidate(client, candidate)
    chief, _ = staff_client(app, "chief")
    url = f"/examiner/panels/{world.panel.id}/call-status"

    assert "尚无通话" in chief.get(url).get_data(as_text=True)
    assert report(client, token, room=room).status_code == 204
    assert "考生已入会" in chief.get(url).get_data(as_text=True)
    assert (
        report(
            chief,
            csrf_token(chief),
            "recordingStatusChanged",
            room=room,
            on="false",
            mode="file",
            error="unavailable",
        ).status_code
        == 204
    )
    html = chief.get(url).get_data(as_text=True)
    assert "录制失败" in html and "unavailable" in html
    assert report(client, token, "videoConferenceLeft", room=room).status_code == 204
    assert "考生未入会" in chief.get(url).get_data(as_text=True)
