"""One interview-room file holds every candidate interviewed while it ran: HR finds each of them
in it, at their own offset (app/recordings/appearances.py)."""

from datetime import timedelta

import pytest

from app import db
from app.journey import Actor, assign_missing_lots, perform
from app.models import Candidate, Recording
from app.recordings.appearances import appearances, recordings_of
from tests.conftest import signed_in_staff
from tests.factories import World


def interview(world, c, at, minutes=5):
    """Called, accepted, timed and finished: the call runs from `at` to `at + minutes`."""
    chief = Actor.staff(world.chief)
    perform(c.id, "call_interview", chief, at)
    perform(c.id, "accept_interview", world.as_candidate(c), at)
    perform(c.id, "start_timer", chief, at + timedelta(minutes=1))
    perform(c.id, "finish", chief, at + timedelta(minutes=minutes))


def recording(world, started_at, name, kind="interview", room=None, candidate=None, duration=None):
    row = Recording(
        room=room or world.panel.interview_room,
        session_folder=name,
        file_name=f"{name}.mp4",
        expected_size=10,
        expected_sha256="0" * 64,
        status="stored",
        bytes_pulled=10,
        started_at=started_at,
        room_kind=kind,
        exam_id=world.exam.id,
        panel_id=world.panel.id,
        candidate_id=candidate.id if candidate else None,
        duration_seconds=duration,
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def day(app):
    """Three candidates interviewed one after another; the recording starts with the first timer
    and a second file begins during the third interview (a Jibri restart, say)."""
    world = World()
    for c in world.candidates:
        world.to_waiting(c)
    start = world.now + timedelta(minutes=31)
    assign_missing_lots(world.exam.id, start)
    order = sorted(world.candidates, key=lambda c: db.session.get(Candidate, c.id).lot_number)
    for i, c in enumerate(order):
        interview(world, c, start + timedelta(minutes=10 * i))
    first_file = recording(world, start + timedelta(minutes=1), "s1", candidate=order[0])
    second_file = recording(world, start + timedelta(minutes=22), "s2", candidate=order[2])
    return world, order, first_file, second_file


def test_each_candidate_is_found_in_the_file_that_ran_during_their_interview(day):
    _world, (a, b, c), first_file, second_file = day
    found = appearances([first_file, second_file])
    assert [(x.candidate.id, x.offset_seconds) for x in found[first_file.id]] == [
        (a.id, 0),  # accepted before the file started (the instructions are not recorded)
        (b.id, 9 * 60),
        (c.id, 19 * 60),  # their interview began in the first file and went on in the second
    ]
    assert [(x.candidate.id, x.offset_seconds) for x in found[second_file.id]] == [(c.id, 0)]
    assert [(r.id, offset) for r, offset in recordings_of(db.session.get(Candidate, b.id))] == [
        (first_file.id, 9 * 60)
    ]
    assert [r.id for r, _ in recordings_of(db.session.get(Candidate, c.id))] == [
        first_file.id,
        second_file.id,
    ]


def test_a_known_duration_ends_the_span_before_the_next_file(day):
    _world, (a, b, c), first_file, _second_file = day
    first_file.duration_seconds = 10 * 60  # it stopped a minute into b's interview
    db.session.commit()
    names = [x.candidate.id for x in appearances([first_file])[first_file.id]]
    assert names == [a.id, b.id] and c.id not in names


def test_the_rest_room_file_of_a_candidate_is_theirs_too(day):
    world, (a, *_), first_file, _ = day
    rest = recording(
        world,
        world.now + timedelta(hours=1),
        "r1",
        kind="rest",
        room=world.panel.rest_room,
        candidate=a,
    )
    assert [r.id for r, _ in recordings_of(db.session.get(Candidate, a.id))] == [
        first_file.id,
        rest.id,
    ]


def test_the_pages_name_everyone_in_a_file_with_a_link_to_their_moment(app, day):
    world, (a, b, c), first_file, _ = day
    hr = signed_in_staff(app, "hr")
    html = hr.get(f"/staff/recordings/exam/{world.exam.id}").get_data(as_text=True)
    for who in (a, b, c):
        assert who.name in html
    assert f"/staff/recordings/{first_file.id}?t=540" in html  # b, 9 minutes in
    show = hr.get(f"/staff/recordings/{first_file.id}?t=540").get_data(as_text=True)
    assert "本录像中的考生" in show and "9:00" in show and "19:00" in show
    timeline = hr.get(f"/hr/exams/{world.exam.id}/candidates/{b.id}/timeline").get_data(
        as_text=True
    )
    assert f"/staff/recordings/{first_file.id}?t=540" in timeline
