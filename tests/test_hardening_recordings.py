"""Issue 14, finding 7: examiners saw candidates' real names on the recordings pages, another
panel's too. Examiners never learn who a candidate is (app/routes/examiner/console.py): they now
see only their own panel's interview-room recordings, each candidate as "考生 07"
(app/recordings/access.py).
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import db
from app.models import Call, Candidate, RecordingStatus
from tests.factories import World
from tests.test_recordings import jibri_host, rec_app, status_of, stored_recording  # noqa: F401


@pytest.fixture
def two_panels(app):
    world = World(candidates=0)
    other = world.add_other_panel("otherchief")
    mine = Candidate(
        exam_id=world.exam.id,
        panel_id=world.panel.id,
        name="张三丰",
        id_number="110105199001010011",
        phone="13800138011",
        position="综合管理岗",
        code="200001",
        lot_number=7,
    )
    theirs = Candidate(
        exam_id=world.exam.id,
        panel_id=other.id,
        name="李四光",
        id_number="110105199001010022",
        phone="13800138022",
        position="综合管理岗",
        code="200002",
        lot_number=3,
    )
    db.session.add_all([mine, theirs])
    db.session.commit()
    world.other, world.mine, world.theirs = other, mine, theirs
    return world


def _interview_recording(app, server, world, panel, candidate, name, **fields):
    started = world.now - timedelta(minutes=30)
    db.session.add(
        Call(
            candidate_id=candidate.id,
            panel_id=panel.id,
            kind="interview",
            room=panel.interview_room,
            called_at=started,
            accept_by=started + timedelta(minutes=1),
            accepted_at=started + timedelta(seconds=10),
            outcome="accepted",
        )
    )
    db.session.commit()
    return stored_recording(
        app,
        server,
        folder=name,
        name=f"{panel.interview_room}_{started:%Y-%m-%d-%H-%M-%S}.mp4",
        room=panel.interview_room,
        exam_id=world.exam.id,
        panel_id=panel.id,
        candidate_id=candidate.id,
        room_kind="interview",
        started_at=started,
        **fields,
    )


def test_examiners_see_only_their_panels_recordings_and_never_a_name(
    rec_app, client, staff, two_panels, jibri_host
):
    world = two_panels
    mine = _interview_recording(rec_app, jibri_host, world, world.panel, world.mine, "s1")
    theirs = _interview_recording(rec_app, jibri_host, world, world.other, world.theirs, "s2")
    exam_page = f"/staff/recordings/exam/{world.exam.id}"

    for username in ("chief", "examiner2"):
        staff.login(username)
        pages = [
            client.get(exam_page).get_data(as_text=True),
            client.get(exam_page + "?fragment=1").get_data(as_text=True),
            client.get(f"/staff/recordings/{mine.id}").get_data(as_text=True),
            client.get(f"/staff/recordings/{mine.id}?t=10").get_data(as_text=True),
        ]
        for page in pages:
            assert "张三丰" not in page and "李四光" not in page, username
            assert theirs.file_name not in page
        assert "考生 07" in pages[0] and "考生 07" in pages[2]
        assert status_of(client.get(f"/staff/recordings/{mine.id}/file")) == 200
        for url in (f"/staff/recordings/{theirs.id}", f"/staff/recordings/{theirs.id}/file"):
            assert status_of(client.get(url)) == 403, (username, url)
        staff.logout()

    # HR (and the assistant, who checks identities anyway) still see whom a file holds.
    staff.login("hr")
    page = client.get(exam_page).get_data(as_text=True)
    assert "张三丰" in page and "李四光" in page
    staff.logout()
    staff.login("assistant")
    assert "张三丰" in client.get(exam_page).get_data(as_text=True)


def test_examiners_do_not_get_rest_or_debug_room_recordings(
    rec_app, client, staff, two_panels, jibri_host
):
    world = two_panels
    urls = []
    for kind, room in (("rest", world.panel.rest_room), ("debug", "ir-e1-debug")):
        rec = stored_recording(
            rec_app,
            jibri_host,
            folder=kind,
            name=f"{room}_2026-11-23-02-00-00.mp4",
            room=room,
            exam_id=world.exam.id,
            panel_id=world.panel.id,
            candidate_id=world.mine.id,
            room_kind=kind,
        )
        urls += [f"/staff/recordings/{rec.id}", f"/staff/recordings/{rec.id}/file"]
    staff.login("chief")
    for url in urls:
        assert status_of(client.get(url)) == 403, url
    page = client.get(f"/staff/recordings/exam/{world.exam.id}").get_data(as_text=True)
    assert "张三丰" not in page and "暂无录像" in page
    staff.logout()
    staff.login("assistant")
    for url in urls:
        assert status_of(client.get(url)) == 200, url


def test_an_examiners_failed_badge_counts_only_their_panels_recordings(
    rec_app, client, staff, two_panels, jibri_host
):
    world = two_panels
    theirs = _interview_recording(rec_app, jibri_host, world, world.other, world.theirs, "s2")
    theirs.status = RecordingStatus.FAILED
    db.session.commit()
    from app.models import User
    from app.recordings.access import failed_count_for

    chief = db.session.scalar(select(User).where(User.username == "chief"))
    other = db.session.scalar(select(User).where(User.username == "otherchief"))
    assert failed_count_for(chief) == 0 and failed_count_for(other) == 1
