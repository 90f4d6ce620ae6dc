"""Issue 18, deliver 4: the time in Jibri's file names against the Jibri host's own clock.

docker-jitsi-meet's settings set TZ=Asia/Shanghai while JIBRI_TIMEZONE defaulted to UTC: every
interview file read 8 hours late and linked to the wrong candidate, silently. JIBRI_TIMEZONE now
defaults to the app's display zone, and the recordings page warns when a file's name and the
host's clock (sent by finalize.sh in UTC) disagree by more than CLOCK_TOLERANCE (5 minutes).
"""

from datetime import UTC, datetime, timedelta

import pytest

from app import db
from app.models import Recording, User
from app.production_settings import problems
from app.recordings.clock import (
    CLOCK_TOLERANCE,
    describe_offset,
    disagreement,
    jibri_timezone,
    parse_utc,
)
from tests.factories import World
from tests.test_recordings import (  # noqa: F401
    jibri_host,
    make_recording_file,
    notice_body,
    post_notice,
    rec_app,
)

BEIJING_10H = "ir-e1-aaaa_2026-11-23-10-00-00.mp4"  # 10:00 in Beijing = 02:00 UTC
HOST_START = "2026-11-23T02:00:03Z"


@pytest.fixture
def world(app):
    return World(candidates=1)


def _notice(jibri_host, name=BEIJING_10H, folder="sess-c", **clock):
    entry = make_recording_file(jibri_host, folder, name, 1000)
    entry.update(clock.pop("file", {}))
    body = notice_body(folder, "ir-e1-aaaa", [entry])
    if clock:
        import json

        data = json.loads(body)
        data.update(clock)
        body = json.dumps(data).encode()
    return body


def test_jibri_timezone_defaults_to_the_apps_display_zone():
    assert jibri_timezone({"DISPLAY_TIMEZONE": "Asia/Shanghai"}) == "Asia/Shanghai"
    assert jibri_timezone({"JIBRI_TIMEZONE": "UTC", "DISPLAY_TIMEZONE": "Asia/Shanghai"}) == "UTC"


def test_unset_the_names_are_read_in_beijing_time(rec_app, client, jibri_host):
    assert rec_app.config.get("JIBRI_TIMEZONE") is None
    assert post_notice(client, _notice(jibri_host)).status_code == 202
    rec = db.session.scalar(db.select(Recording))
    assert rec.started_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_a_production_start_refuses_a_jibri_timezone_that_is_no_zone():
    for bad in ("Beijing", "Asia", "Asia/", "../etc"):
        found = problems({"JIBRI_TIMEZONE": bad}, environ={})
        assert any(line.startswith(f"JIBRI_TIMEZONE={bad} is not a time zone") for line in found)
    assert not any("JIBRI_TIMEZONE" in line for line in problems({}, environ={}))
    assert not any(
        "JIBRI_TIMEZONE" in line for line in problems({"JIBRI_TIMEZONE": "UTC"}, environ={})
    )


@pytest.mark.parametrize(
    "clock, duration, expected",
    [
        ({"created_at": "2026-11-23T02:00:03+00:00"}, None, None),  # agrees
        ({"created_at": "2026-11-23T02:04:59+00:00"}, None, None),  # within 5 minutes
        ({"created_at": "2026-11-22T18:00:00+00:00"}, None, timedelta(hours=8)),
        ({"created_at": "2026-11-23T10:00:00+00:00"}, None, -timedelta(hours=8)),
        # No creation time: the last write minus the measured duration.
        ({"modified_at": "2026-11-23T03:30:00+00:00"}, 5400, None),
        ({"modified_at": "2026-11-23T11:30:00+00:00"}, 5400, -timedelta(hours=8)),
        # No duration either: only a start after the end is sure to be wrong.
        ({"modified_at": "2026-11-23T03:30:00+00:00"}, None, None),
        ({"modified_at": "2026-11-22T19:30:00+00:00"}, None, timedelta(hours=6, minutes=30)),
        ({"modified_at": "2026-11-23T11:30:00+00:00"}, None, None),  # a long file? cannot tell
        ({"finalized_at": "2026-11-22T18:10:00+00:00"}, None, timedelta(hours=7, minutes=50)),
        ({}, None, None),  # an old notice: nothing to check
    ],
)
def test_the_check_uses_the_best_time_the_host_sent(clock, duration, expected):
    started = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert disagreement(started, clock, duration) == expected
    assert timedelta(minutes=5) == CLOCK_TOLERANCE


def test_offsets_and_times_read_as_people_write_them():
    assert describe_offset(timedelta(hours=8)) == "+8:00"
    assert describe_offset(-timedelta(minutes=7)) == "-0:07"
    assert parse_utc("2026-11-23T02:00:03Z") == datetime(2026, 11, 23, 2, 0, 3, tzinfo=UTC)
    for bad in (None, 17, "", "yesterday", "2026-11-23T02:00:03", "9" * 80):
        assert parse_utc(bad) is None


def test_the_old_notice_without_the_hosts_clock_is_still_accepted(rec_app, client, jibri_host):
    assert post_notice(client, _notice(jibri_host)).status_code == 202
    rec = db.session.scalar(db.select(Recording))
    assert "jibri_clock" not in rec.metadata_json


def test_malformed_host_times_are_ignored_not_refused(rec_app, client, jibri_host):
    body = _notice(jibri_host, finalized_at=["not", "a time"], file={"created_at": "soon"})
    assert post_notice(client, body).status_code == 202
    assert "jibri_clock" not in db.session.scalar(db.select(Recording.metadata_json))


def _page_as(client, staff, world, language=None) -> str:
    hr = db.session.scalar(db.select(User).filter_by(username="hr"))
    hr.language = language
    db.session.commit()
    staff.login("hr")
    page = client.get(f"/staff/recordings/exam/{world.exam.id}").get_data(as_text=True)
    staff.logout()
    return page


def test_staff_are_warned_when_names_and_the_hosts_clock_disagree(
    rec_app, client, staff, world, jibri_host, caplog
):
    # Jibri named the file in Beijing time; the app was told the names are UTC.
    rec_app.config["JIBRI_TIMEZONE"] = "UTC"
    body = _notice(jibri_host, finalized_at="2026-11-23T03:00:00Z", file={"created_at": HOST_START})
    assert post_notice(client, body).status_code == 202
    assert "+8:00 off the Jibri host's clock" in caplog.text  # the operators' log too
    rec = db.session.scalar(db.select(Recording))
    rec.exam_id = world.exam.id
    db.session.commit()

    chinese = _page_as(client, staff, world)
    assert "data-clock-warning" in chinese and "JIBRI_TIMEZONE（UTC）" in chinese
    assert "超过 5 分钟" in chinese and "可能关联到了错误的考生" in chinese
    assert "文件名时间偏差 +8:00" in chinese
    english = _page_as(client, staff, world, "en")
    assert "differs from the Jibri host's clock by more than 5 minutes" in english
    assert "JIBRI_TIMEZONE (UTC)" in english and "File-name time off by +8:00" in english
    staff.login("hr")
    show = client.get(f"/staff/recordings/{rec.id}").get_data(as_text=True)
    assert "data-clock-warning" in show and "+8:00" in show


def test_no_warning_when_the_zone_is_right(rec_app, client, staff, world, jibri_host):
    body = _notice(jibri_host, finalized_at="2026-11-23T03:00:00Z", file={"created_at": HOST_START})
    assert post_notice(client, body).status_code == 202
    rec = db.session.scalar(db.select(Recording))
    rec.exam_id = world.exam.id
    db.session.commit()
    page = _page_as(client, staff, world)
    assert BEIJING_10H in page and "data-clock-warning" not in page
    assert "data-clock-off" not in page


@pytest.mark.parametrize("bad_zone", ["Mars/Olympus", "Asia"])
def test_a_bad_zone_name_outside_production_gives_no_start_rather_than_a_500(
    rec_app, client, jibri_host, bad_zone
):
    rec_app.config["JIBRI_TIMEZONE"] = bad_zone
    assert post_notice(client, _notice(jibri_host)).status_code == 202
    assert db.session.scalar(db.select(Recording.started_at)) is None
