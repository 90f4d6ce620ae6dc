"""Recordings: the signed Jibri notice, linking rooms, the page (access, status, range requests).

The pull job itself is tested in test_recordings_pull.py, finalize.sh in test_finalize_script.py.
`FileServer` (a real HTTP server on loopback serving a temp folder) is shared with them.
"""

import hashlib
import json
import shutil
import threading
import time
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job

from app import db
from app.models import (
    AuditEvent,
    Call,
    Panel,
    PanelMember,
    Recording,
    RecordingStatus,
    Role,
    User,
)
from app.recordings.notice import sign, started_at_from_name
from app.recordings.pulls import job_id_for
from tests.factories import World, gen_exam, gen_user

SECRET = "s3cret-for-tests"


# --- a real HTTP server playing the Jibri host ------------------------------------------------


class _Handler(SimpleHTTPRequestHandler):
    """Serves the folder; the server's `behaviour` can make it fail or trickle."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        status = self.server.behaviour.get("status")
        if status:
            self.send_error(status)
            return
        super().do_GET()

    def copyfile(self, source, outputfile):
        delay = self.server.behaviour.get("delay")
        if not delay:
            return super().copyfile(source, outputfile)
        while chunk := source.read(64 * 1024):
            outputfile.write(chunk)
            time.sleep(delay)


class FileServer:
    """`http://127.0.0.1:<port>/` serving `root`; `stop()`/`start()` take the host down and up."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.behaviour: dict = {}
        self.port = 0
        self._server = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        server = ThreadingHTTPServer(
            ("127.0.0.1", self.port), partial(_Handler, directory=str(self.root))
        )
        server.daemon_threads = True
        server.behaviour = self.behaviour
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None


@pytest.fixture
def jibri_host(tmp_path):
    server = FileServer(tmp_path / "jibri")
    server.root.mkdir(parents=True, exist_ok=True)
    yield server
    server.stop()


@pytest.fixture
def rec_app(app, tmp_path, jibri_host):
    """The app with a webhook secret, its own recordings folder and the loopback Jibri host."""
    app.config.update(
        JIBRI_WEBHOOK_SECRET=SECRET,
        JIBRI_RECORDINGS_URL=jibri_host.url,
        RECORDINGS_DIR=str(tmp_path / "recordings"),
    )
    return app


def make_recording_file(
    server: FileServer, folder: str, name: str, size: int, seed: bytes = b"x"
) -> dict:
    """Write a file of `size` bytes into the Jibri host's folder; return its notice entry."""
    path = server.root / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    block = hashlib.sha256(seed).digest() * (65536 // 32)
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            piece = block[: min(left, len(block))]
            f.write(piece)
            digest.update(piece)
            left -= len(piece)
    return {"name": name, "size": size, "sha256": digest.hexdigest()}


def notice_body(folder: str, room: str, files: list[dict]) -> bytes:
    metadata = {
        "meeting_url": f"https://meet.example.org/{room}",
        "participants": [{"name": "考官"}],
    }
    return json.dumps({"session_id": folder, "metadata": metadata, "files": files}).encode()


def post_notice(client, body: bytes, secret: str | None = SECRET, signature: str | None = None):
    headers = {"Content-Type": "application/json"}
    if signature is None and secret is not None:
        signature = sign(body, secret)
    if signature is not None:
        headers["X-Jibri-Signature"] = signature
    return client.post("/hooks/jibri", data=body, headers=headers)


def status_of(response) -> int:
    """The status, after closing the response (a file response holds the file open)."""
    response.close()
    return response.status_code


def queue_of(app) -> Queue:
    from app.jobs.queue import get_queue

    return get_queue()


def stored_recording(
    app, server, folder="sess-1", name="ir-e1-aaaa_2026-11-23-02-00-00.mp4", size=300_000, **fields
) -> Recording:
    """A recording already pulled and verified, with its file under RECORDINGS_DIR."""
    entry = make_recording_file(server, folder, name, size)
    dest = Path(app.config["RECORDINGS_DIR"]) / folder / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(server.root / folder / name, dest)
    rec = Recording(
        room=fields.pop("room", "ir-e1-aaaa"),
        session_folder=folder,
        file_name=name,
        expected_size=size,
        expected_sha256=entry["sha256"],
        bytes_pulled=size,
        status=RecordingStatus.STORED,
        stored_path=f"{folder}/{name}",
        attempts=1,
        **fields,
    )
    db.session.add(rec)
    db.session.commit()
    return rec


# --- the notice ------------------------------------------------------------------------------


@pytest.fixture
def world(app):
    return World(candidates=2)


def _interview_call(world, candidate, accepted_at, ended_at=None):
    call = Call(
        candidate_id=candidate.id,
        panel_id=world.panel.id,
        kind="interview",
        room=world.panel.interview_room,
        called_at=accepted_at - timedelta(seconds=20),
        accept_by=accepted_at + timedelta(seconds=40),
        accepted_at=accepted_at,
        ended_at=ended_at,
        outcome="ended" if ended_at else "accepted",
    )
    db.session.add(call)
    db.session.commit()
    return call


def test_a_signed_notice_is_accepted_linked_to_candidate_and_session_and_one_job_per_file(
    rec_app, client, world, jibri_host
):
    # Jibri's clock is UTC here: the first candidate's interview ran 02:00-02:15, the second's after.
    rec_app.config["JIBRI_TIMEZONE"] = "UTC"
    base = world.now.replace(hour=2, minute=0, second=0)
    first, second = world.candidates
    _interview_call(world, first, base - timedelta(minutes=1), base + timedelta(minutes=15))
    _interview_call(world, second, base + timedelta(minutes=20))
    files = [
        make_recording_file(jibri_host, "sess-a", f"ir-e1-aaaa_{base:%Y-%m-%d-%H-%M-%S}.mp4", 1000),
        make_recording_file(
            jibri_host,
            "sess-a",
            f"ir-e1-aaaa_{base + timedelta(minutes=21):%Y-%m-%d-%H-%M-%S}.mp4",
            2000,
        ),
    ]
    response = post_notice(client, notice_body("sess-a", "ir-e1-aaaa", files))

    assert response.status_code == 202
    rows = db.session.scalars(db.select(Recording).order_by(Recording.id)).all()
    assert [(r.candidate_id, r.exam_id, r.panel_id, r.room_kind, r.status) for r in rows] == [
        (first.id, world.exam.id, world.panel.id, "interview", "waiting"),
        (second.id, world.exam.id, world.panel.id, "interview", "waiting"),
    ]
    assert rows[0].expected_sha256 == files[0]["sha256"] and rows[1].expected_size == 2000
    assert rows[0].metadata_json["participants"] == [{"name": "考官"}]
    queue = queue_of(rec_app)
    assert sorted(queue.job_ids) == sorted(job_id_for(r) for r in rows)
    job = Job.fetch(job_id_for(rows[0]), connection=queue.connection)
    assert job.func_name == "app.jobs.recordings.pull_recording" and job.args == (rows[0].id,)
    # Back-off: as many retries as intervals, waiting longer each time.
    assert job.retries_left == 4 and job.retry_intervals == [30, 120, 600, 1800]
    assert response.get_json()["enqueued"] == [r.id for r in rows]
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.kind == "recording_notice")
    ).all()
    assert sorted(e.candidate_id for e in events) == sorted(
        [first.id, second.id]
    )  # on their timelines


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "deadbeef", "sha256="])
def test_a_missing_or_forged_signature_is_refused_and_nothing_is_recorded(
    rec_app, client, jibri_host, signature
):
    body = notice_body(
        "sess-f",
        "ir-x",
        [make_recording_file(jibri_host, "sess-f", "ir-x_2026-11-23-02-00-00.mp4", 10)],
    )
    response = post_notice(client, body, secret=None, signature=signature)
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 0
    assert queue_of(rec_app).count == 0


def test_a_body_signed_with_another_secret_or_altered_after_signing_is_refused(
    rec_app, client, jibri_host
):
    entry = make_recording_file(jibri_host, "sess-f", "ir-x_2026-11-23-02-00-00.mp4", 10)
    body = notice_body("sess-f", "ir-x", [entry])
    assert post_notice(client, body, secret="another secret").status_code == 403
    tampered = body.replace(b'"size": 10', b'"size": 11')
    assert post_notice(client, tampered, signature=sign(body, SECRET)).status_code == 403
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 0


def test_without_a_configured_secret_every_notice_is_refused(rec_app, client, jibri_host):
    rec_app.config["JIBRI_WEBHOOK_SECRET"] = None
    body = notice_body("s", "ir-x", [make_recording_file(jibri_host, "s", "a.mp4", 10)])
    assert post_notice(client, body, signature=sign(body, "")).status_code == 403
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 0


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"not json", "not JSON"),
        (json.dumps({"session_id": "../etc", "files": []}).encode(), "session_id"),
        (json.dumps({"session_id": "s", "files": []}).encode(), "non-empty"),
        (
            json.dumps(
                {"session_id": "s", "files": [{"name": "../x.mp4", "size": 1, "sha256": "0" * 64}]}
            ).encode(),
            "plain file name",
        ),
        (
            json.dumps(
                {"session_id": "s", "files": [{"name": "x.mp4", "size": -1, "sha256": "0" * 64}]}
            ).encode(),
            "size",
        ),
        (
            json.dumps(
                {"session_id": "s", "files": [{"name": "x.mp4", "size": 1, "sha256": "xyz"}]}
            ).encode(),
            "sha256",
        ),
    ],
)
def test_a_signed_body_that_is_not_a_notice_gets_400_with_the_reason(
    rec_app, client, payload, message
):
    response = post_notice(client, payload)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 0


def test_a_replayed_notice_stores_one_row_and_enqueues_nothing_new(
    rec_app, client, world, jibri_host
):
    body = notice_body(
        "sess-r",
        "ir-e1-aaaa",
        [make_recording_file(jibri_host, "sess-r", "ir-e1-aaaa_2026-11-23-02-00-00.mp4", 500)],
    )
    first = post_notice(client, body)
    again = post_notice(client, body)
    assert first.status_code == again.status_code == 202
    assert again.get_json()["accepted"] == [] and again.get_json()["enqueued"] == []
    assert again.get_json()["already_known"] == first.get_json()["accepted"]
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 1
    assert queue_of(rec_app).count == 1


def test_a_replay_re_enqueues_a_waiting_file_whose_job_was_lost(rec_app, client, world, jibri_host):
    body = notice_body(
        "sess-l",
        "ir-e1-aaaa",
        [make_recording_file(jibri_host, "sess-l", "ir-e1-aaaa_2026-11-23-02-00-00.mp4", 500)],
    )
    post_notice(client, body)
    queue_of(rec_app).connection.flushdb()  # Redis lost its data
    again = post_notice(client, body)
    rec = db.session.scalar(db.select(Recording))
    assert again.get_json()["enqueued"] == [rec.id]
    assert queue_of(rec_app).job_ids == [job_id_for(rec)]


def test_a_replay_does_not_retry_a_failed_file_by_itself(rec_app, client, world, jibri_host):
    body = notice_body(
        "sess-x",
        "ir-e1-aaaa",
        [make_recording_file(jibri_host, "sess-x", "ir-e1-aaaa_2026-11-23-02-00-00.mp4", 500)],
    )
    post_notice(client, body)
    queue_of(rec_app).connection.flushdb()
    rec = db.session.scalar(db.select(Recording))
    rec.status, rec.error = RecordingStatus.FAILED, "HTTP 404 from the Jibri host"
    db.session.commit()
    assert post_notice(client, body).get_json()["enqueued"] == []
    assert queue_of(rec_app).count == 0


def test_rest_room_debug_room_and_unknown_room_links(rec_app, client, world, jibri_host):
    debug = Call(
        candidate_id=world.candidates[0].id,
        panel_id=world.panel.id,
        kind="debug",
        room="ir-e1-debugroom",
        accept_by=world.now,
        accepted_at=world.now,
        outcome="ended",
    )
    db.session.add(debug)
    db.session.commit()
    for folder, room in [
        ("s-rest", "ir-e1-bbbb"),
        ("s-debug", "ir-e1-debugroom"),
        ("s-nobody", "ir-zz-unknown"),
    ]:
        entry = make_recording_file(jibri_host, folder, f"{room}_2026-11-23-02-00-00.mp4", 100)
        assert post_notice(client, notice_body(folder, room, [entry])).status_code == 202
    got = {
        r.session_folder: (r.exam_id, r.panel_id, r.candidate_id, r.room_kind)
        for r in db.session.scalars(db.select(Recording))
    }
    assert got == {
        "s-rest": (world.exam.id, world.panel.id, None, "rest"),
        "s-debug": (world.exam.id, world.panel.id, world.candidates[0].id, "debug"),
        "s-nobody": (None, None, None, None),  # kept, unassigned: never dropped
    }


def test_the_room_comes_from_the_file_name_when_metadata_is_missing(
    rec_app, client, world, jibri_host
):
    entry = make_recording_file(jibri_host, "s-nometa", "ir-e1-bbbb_2026-11-23-02-00-00.mp4", 100)
    body = json.dumps({"session_id": "s-nometa", "metadata": None, "files": [entry]}).encode()
    assert post_notice(client, body).status_code == 202
    assert db.session.scalar(db.select(Recording.room_kind)) == "rest"


def test_jibri_file_names_give_the_start_in_utc():
    started = started_at_from_name("ir-e1-aaaa_2026-11-23-10-05-30.mp4", "Asia/Shanghai")
    assert started.isoformat() == "2026-11-23T02:05:30+00:00"
    assert started_at_from_name("ir-e1-aaaa_2026-11-23-10-05-30.mp4", "UTC").hour == 10
    assert started_at_from_name("whatever.mp4", "UTC") is None


# --- the page --------------------------------------------------------------------------------


def _other_exam_staff():
    other = gen_exam(name="另一场考试")
    examiner = gen_user("outsider", role=Role.EXAMINER)
    panel = Panel(
        exam_id=other.id,
        name="外场",
        interview_room="ir-o-1",
        rest_room="ir-o-2",
        rest_room_code="111111",
        chief_examiner_id=examiner.id,
    )
    db.session.add(panel)
    db.session.flush()
    db.session.add(PanelMember(panel_id=panel.id, user_id=examiner.id, role="examiner"))
    db.session.commit()
    return examiner


def test_only_staff_of_the_exam_see_its_recordings(rec_app, client, staff, world, jibri_host):
    rec = stored_recording(
        rec_app,
        jibri_host,
        exam_id=world.exam.id,
        panel_id=world.panel.id,
        candidate_id=world.candidates[0].id,
        room_kind="interview",
    )
    _other_exam_staff()
    exam_page = f"/staff/recordings/exam/{world.exam.id}"
    urls = [exam_page, f"/staff/recordings/{rec.id}", f"/staff/recordings/{rec.id}/file"]

    for url in urls:  # not signed in: to the login page, never the file
        assert status_of(client.get(url)) == 302
    for username in ("hr", "chief", "assistant"):
        staff.login(username)
        for url in urls:
            assert status_of(client.get(url)) == 200, (username, url)
        staff.logout()
    staff.login("outsider")
    for url in urls:
        assert status_of(client.get(url)) == 403
    assert "另一场考试" in client.get("/staff/recordings/").get_data(as_text=True)
    assert world.exam.name not in client.get("/staff/recordings/").get_data(as_text=True)
    assert client.get("/staff/recordings/unassigned").status_code == 403


def test_a_candidate_never_gets_a_recording(rec_app, client, world, jibri_host):
    from tests.candidate_client import CandidateBrowser

    rec = stored_recording(
        rec_app, jibri_host, exam_id=world.exam.id, candidate_id=world.candidates[0].id
    )
    browser = CandidateBrowser(client)
    browser.enter_code(world.candidates[0].code)
    assert browser.page().status_code == 200  # signed in as a candidate
    for url in (f"/staff/recordings/{rec.id}/file", f"/staff/recordings/exam/{world.exam.id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_unassigned_recordings_are_shown_to_hr_only(rec_app, client, staff, world, jibri_host):
    stored_recording(rec_app, jibri_host, room="ir-zz-unknown")
    staff.login("hr")
    page = client.get("/staff/recordings/unassigned").get_data(as_text=True)
    assert "ir-e1-aaaa_2026-11-23-02-00-00.mp4" in page and "未知" in page
    staff.logout()
    staff.login("chief")
    assert client.get("/staff/recordings/unassigned").status_code == 403


def test_playback_answers_range_requests_so_the_player_can_seek(
    rec_app, client, staff, world, jibri_host
):
    rec = stored_recording(rec_app, jibri_host, size=300_000, exam_id=world.exam.id)
    data = (Path(rec_app.config["RECORDINGS_DIR"]) / rec.stored_path).read_bytes()
    staff.login("hr")
    url = f"/staff/recordings/{rec.id}/file"

    full = client.get(url)
    assert full.status_code == 200 and full.headers["Accept-Ranges"] == "bytes"
    assert full.headers["Content-Type"] == "video/mp4" and full.data == data

    part = client.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == "bytes 1000-1999/300000"
    assert part.data == data[1000:2000]

    tail = client.get(url, headers={"Range": "bytes=299990-"})
    assert tail.status_code == 206 and tail.headers["Content-Range"] == "bytes 299990-299999/300000"
    assert tail.data == data[299990:]

    assert status_of(client.get(url, headers={"Range": "bytes=400000-"})) == 416

    download = client.get(url + "?download=1")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert rec.file_name in download.headers["Content-Disposition"]

    page = client.get(f"/staff/recordings/{rec.id}").get_data(as_text=True)
    assert f'<video controls preload="metadata" class="recording-player" src="{url}"' in page
    for r in (full, part, tail, download):
        r.close()


def test_the_page_shows_each_status_with_progress_reason_and_retry(
    rec_app, client, staff, world, jibri_host
):
    common = {
        "room": "ir-e1-aaaa",
        "exam_id": world.exam.id,
        "panel_id": world.panel.id,
        "expected_sha256": "0" * 64,
    }
    db.session.add_all(
        [
            Recording(
                session_folder="s1",
                file_name="waiting.mp4",
                expected_size=100,
                status="waiting",
                candidate_id=world.candidates[0].id,
                **common,
            ),
            Recording(
                session_folder="s2",
                file_name="pulling.mp4",
                expected_size=1000,
                bytes_pulled=250,
                status="pulling",
                candidate_id=world.candidates[1].id,
                **common,
            ),
            Recording(
                session_folder="s3",
                file_name="failed.mp4",
                expected_size=100,
                status="failed",
                error="checksum mismatch: SHA-256 abc, expected 000",
                **common,
            ),
            Recording(
                session_folder="s4",
                file_name="stored.mp4",
                expected_size=2_500_000,
                status="stored",
                stored_path="s4/stored.mp4",
                duration_seconds=124,
                **common,
            ),
        ]
    )
    db.session.commit()
    # The assistant: examiners see only interview-room files, without names
    # (test_hardening_recordings.py).
    staff.login("assistant")
    page = client.get(f"/staff/recordings/exam/{world.exam.id}").get_data(as_text=True)
    assert ">等待</span>" in page
    assert '<progress max="1000" value="250">' in page and "(25%)" in page
    assert "checksum mismatch: SHA-256 abc, expected 000" in page and ">重试</button>" in page
    assert 'hx-trigger="every 3s"' in page  # keeps polling while something is in progress
    assert ">1 失败</span>" in page  # the menu entry shows the failure on every staff page

    assert "考生0" in page and "考生1" in page
    assert ">已保存</span>" in page and "2:04" in page and "2.5 MB" in page
    assert page.count(">未知</span>") == 3  # no duration known for the other three
    fragment = client.get(f"/staff/recordings/exam/{world.exam.id}?fragment=1").get_data(
        as_text=True
    )
    assert fragment.startswith('<div id="recordings-table"') and "<html" not in fragment
    # The same page for an assistant who reads English.
    assistant = db.session.scalar(db.select(User).filter_by(username="assistant"))
    assistant.language = "en"
    db.session.commit()
    english = client.get(f"/staff/recordings/exam/{world.exam.id}").get_data(as_text=True)
    assert ">waiting</span>" in english and ">Retry</button>" in english
    assert ">stored</span>" in english and ">1 failed</span>" in english and "Sign out" in english
    assert "重试" not in english and "已保存" not in english
    staff.logout()
    _other_exam_staff()
    staff.login("outsider")
    assert "失败</span>" not in client.get("/staff/recordings/").get_data(as_text=True)


def test_the_retry_button_queues_a_failed_pull_again(rec_app, client, staff, world, jibri_host):
    from tests.conftest import csrf_token_from

    rec = Recording(
        room="ir-e1-aaaa",
        exam_id=world.exam.id,
        session_folder="s3",
        file_name="f.mp4",
        expected_size=100,
        expected_sha256="0" * 64,
        status="failed",
        error="HTTP 503",
    )
    db.session.add(rec)
    db.session.commit()
    staff.login("assistant")
    page = client.get(f"/staff/recordings/exam/{world.exam.id}").get_data(as_text=True)
    response = client.post(
        f"/staff/recordings/{rec.id}/retry", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    db.session.refresh(rec)
    assert rec.status == "waiting"
    job = Job.fetch(job_id_for(rec), connection=queue_of(rec_app).connection)
    assert job.get_status() == "queued" and job.retries_left == 4
    assert db.session.scalar(db.select(AuditEvent.kind).where(AuditEvent.kind == "recording_retry"))
    # A second click while it waits queues nothing more.
    client.post(f"/staff/recordings/{rec.id}/retry", data={"csrf_token": csrf_token_from(page)})
    assert queue_of(rec_app).count == 1


def test_the_same_notice_from_two_deliverers_at_once_makes_one_row_per_file(
    rec_app, world, jibri_host
):
    """Two spool deliverers (or a deliverer and an operator re-running finalize.sh) racing: the
    unique (session, file) guard decides, both are told 202, one row and one job per file."""
    from tests.conftest import at_once

    files = [
        make_recording_file(jibri_host, "sess-race", f"ir-e1-aaaa_2026-11-23-0{i}-00-00.mp4", 100)
        for i in range(3)
    ]
    body = notice_body("sess-race", "ir-e1-aaaa", files)
    answers = at_once(rec_app, 4, lambda i: post_notice(rec_app.test_client(), body))
    assert [a.status_code for a in answers] == [202] * 4, answers
    assert sum(len(a.get_json()["accepted"]) for a in answers) == 3  # each file taken once
    rows = db.session.scalars(db.select(Recording)).all()
    assert len(rows) == 3
    assert sorted(queue_of(rec_app).job_ids) == sorted(job_id_for(r) for r in rows)
    notices = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.kind == "recording_notice")
    ).all()
    assert len(notices) == 3
