"""Issue 14, finding 6: a candidate's (or phone's) page could turn the chief's 录制失败 into
录制中, and 200 reports made 200 audit rows. Now only staff pages report recording status, each
sender's reports in a room are throttled (app/day/call_reports.py) and repeated ones collapsed.
"""

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from app import db
from app.day.call_reports import REPORTS_PER_MINUTE
from app.day.call_status import room_status
from app.day.second_camera import ensure_bind_code
from app.models import AuditEvent
from app.models.candidate import CandidateState as S
from app.timeutil import utcnow
from tests.factories import World
from tests.jitsi_world import audit_kinds, report, sign_in_candidate, staff_client
from tests.test_second_camera import Phone


def _recording_failed(app, world, room):
    chief, token = staff_client(app, "chief")
    response = report(
        chief, token, "recordingStatusChanged", room=room, on="false", error="unavailable"
    )
    assert response.status_code == 204
    assert room_status(room)["recording"] == "error"


def _call_rows() -> int:
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.kind.like("call.%"))
    )


def test_a_candidate_page_cannot_fake_the_recording_badge(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    room = world.panel.interview_room
    _recording_failed(app, world, room)
    before = _call_rows()

    token = sign_in_candidate(client, candidate)
    response = report(client, token, "recordingStatusChanged", room=room, on="true", mode="file")
    # Every participant's Jitsi fires this event, so an honest page sends it too: no error,
    # but it changes nothing and is not audited as the candidate's report.
    assert response.status_code == 204
    status = room_status(room)
    assert status["recording"] == "error" and status["recording_error"] == "unavailable"
    assert _call_rows() == before
    # What a candidate may report still counts.
    assert report(client, token, room=room).status_code == 204
    assert room_status(room)["candidate_in"]


def test_a_phone_cannot_fake_the_recording_badge(app):
    world = World.for_calls(requires_second_camera=True)
    candidate = world.candidate(S.RESTING)
    room = world.panel.rest_room
    chief, token = staff_client(app, "assistant")
    assert (
        report(
            chief, token, "recordingStatusChanged", kind="rest", room=room, error="x"
        ).status_code
        == 204
    )
    phone = Phone(app, ensure_bind_code(candidate))
    assert phone.open().status_code == 200
    url = f"/calls/phone/{phone.code}/events"
    response = report(
        phone.client,
        phone.token,
        "recordingStatusChanged",
        kind="rest",
        room=room,
        on="true",
        url=url,
    )
    assert response.status_code == 204
    assert room_status(room)["recording"] == "error"
    assert "call.recordingStatusChanged" not in audit_kinds(candidate.id)
    assert report(phone.client, phone.token, kind="rest", room=room, url=url).status_code == 204
    assert room_status(room)["second_camera_in"]


def test_staff_still_report_recording_status(app):
    world = World.for_calls()
    world.interviewing()
    room = world.panel.interview_room
    _recording_failed(app, world, room)
    chief, token = staff_client(app, "chief")
    assert report(chief, token, "recordingStatusChanged", room=room, on="true").status_code == 204
    assert room_status(room)["recording"] == "on"


def _next_minute():
    """The start of the next minute (CSRF tokens signed now must not look like the future)."""
    return utcnow().replace(second=1, microsecond=0) + timedelta(minutes=1)


def test_a_flood_of_reports_is_throttled_with_one_audit_line(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    room = world.panel.interview_room
    token = sign_in_candidate(client, candidate)

    minute = _next_minute()
    with time_machine.travel(minute, tick=False):
        codes = [
            report(client, token, "cameraError", room=room, n=str(i)).status_code
            for i in range(200)
        ]
        assert codes.count(204) == REPORTS_PER_MINUTE
        assert codes.count(429) == 200 - REPORTS_PER_MINUTE
        kinds = audit_kinds(candidate.id)
        assert kinds.count("call.cameraError") == REPORTS_PER_MINUTE
        assert kinds.count("call.events_throttled") == 1
        throttled = db.session.scalar(
            select(AuditEvent).where(AuditEvent.kind == "call.events_throttled")
        )
        assert throttled.data["room"] == room and throttled.data["limit"] == REPORTS_PER_MINUTE

    # The next minute the sender is heard again, and the log says how many were dropped.
    with time_machine.travel(minute + timedelta(minutes=1), tick=False):
        assert report(client, token, "videoConferenceLeft", room=room).status_code == 204
    dropped = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "call.events_dropped"))
    assert dropped is not None and dropped.data["dropped"] == 200 - REPORTS_PER_MINUTE
    assert dropped.candidate_id == candidate.id
    assert _call_rows() == REPORTS_PER_MINUTE + 3


def test_one_senders_flood_does_not_silence_another(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    room = world.panel.interview_room
    token = sign_in_candidate(client, candidate)
    with time_machine.travel(_next_minute(), tick=False):
        for i in range(REPORTS_PER_MINUTE + 5):
            report(client, token, "micError", room=room, n=str(i))
        chief, staff_token = staff_client(app, "chief")
        assert report(chief, staff_token, room=room).status_code == 204
        assert room_status(room)["staff_in"] == 1


def test_repeated_identical_reports_are_collapsed(app, client):
    world = World.for_calls()
    candidate = world.interviewing()
    room = world.panel.interview_room
    token = sign_in_candidate(client, candidate)
    for _ in range(5):
        assert (
            report(client, token, "cameraError", room=room, type="gum.not_found").status_code == 204
        )
    assert audit_kinds(candidate.id).count("call.cameraError") == 1
    # A different report in between makes the next one news again.
    assert report(client, token, "micError", room=room).status_code == 204
    assert report(client, token, "cameraError", room=room, type="gum.not_found").status_code == 204
    assert audit_kinds(candidate.id).count("call.cameraError") == 2
