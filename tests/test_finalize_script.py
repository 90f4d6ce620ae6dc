"""jitsi/jibri/finalize.sh run for real (bash) against the app, or a stand-in that records what it
is sent, served by real HTTP servers on loopback that go down and come back.

Issue 18, deliver 4: Jibri waits for the script, so it must never wait on the app. It spools the
notice and returns within seconds whatever the app does; `--deliver` / `--deliver-loop` post the
spool with back-off until the app answers 2xx, move what the app refuses for good to dead/, and
two deliverers never post one notice twice.
"""

import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rq import SimpleWorker
from werkzeug.serving import make_server

from app import db
from app.models import Recording
from tests.test_recordings import SECRET, jibri_host, make_recording_file, queue_of, rec_app  # noqa: F401

SCRIPT = Path(__file__).resolve().parent.parent / "jitsi" / "jibri" / "finalize.sh"
FILE = "ir-zz-room_2026-11-23-02-00-00.mp4"
METADATA = {
    "meeting_url": "https://meet.example.org/ir-zz-room",
    "participants": [{"user": {"name": "主考官"}}],
}
# What "returns within seconds" means here: the bound.
RETURNS_WITHIN = 5.0

pytestmark = pytest.mark.postgres_pass  # tests/conftest.py: not a database test


class AppServer:
    def __init__(self, app, port: int = 0):
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _CatcherHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        catcher = self.server.catcher
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with catcher.lock:
            catcher.received.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "signature": self.headers.get("X-Jibri-Signature"),
                    "body": body,
                }
            )
            status = catcher.statuses.pop(0) if catcher.statuses else catcher.status
        time.sleep(catcher.delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"status": status}).encode())


class NoticeCatcher:
    """A stand-in for the app's /hooks/jibri: records every POST, answers `status` (or the next
    of `statuses`) after `delay` seconds."""

    def __init__(self, port: int = 0, status: int = 202, delay: float = 0.0):
        self.received: list[dict] = []
        self.statuses: list[int] = []
        self.status = status
        self.delay = delay
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _CatcherHandler)
        self._server.daemon_threads = True
        self._server.catcher = self
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def app_server(rec_app):
    server = AppServer(rec_app)
    yield server
    server.stop()


@pytest.fixture
def catcher():
    server = NoticeCatcher()
    yield server
    server.stop()


@pytest.fixture
def spool(tmp_path) -> Path:
    return tmp_path / "spool"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jibri_folder(server, session="7f3c2a10-session", size=2_000_000) -> tuple[Path, dict]:
    """A folder as Jibri leaves it: one recording and metadata.json."""
    entry = make_recording_file(server, session, FILE, size)
    folder = server.root / session
    (folder / "metadata.json").write_text(json.dumps(METADATA, ensure_ascii=False))
    return folder, entry


def script_env(app_url, spool, secret=SECRET, path=None, extra=None) -> dict:
    return {
        "PATH": path or os.environ["PATH"],
        "INTERVIEW_APP_URL": app_url,
        "JIBRI_WEBHOOK_SECRET": secret,
        "FINALIZE_ENV_FILE": "/nonexistent",
        "FINALIZE_SPOOL_DIR": str(spool),
        "FINALIZE_RETRY_DELAY": "0",
        **(extra or {}),
    }


def run_script(folder, app_url, spool, secret=SECRET, path=None, extra=None, args=None):
    argv = [str(SCRIPT)] + (args or ([str(folder)] if folder is not None else []))
    return subprocess.run(
        argv,
        env=script_env(app_url, spool, secret, path, extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def deliver(app_url, spool, *flags, extra=None):
    return run_script(None, app_url, spool, extra=extra, args=["--deliver", *flags])


def spooled(spool: Path) -> list[Path]:
    return sorted(spool.glob("*.json"))


def timed(fn, *args, **kw):
    began = time.monotonic()
    result = fn(*args, **kw)
    return result, time.monotonic() - began


def expected_notice(folder: Path) -> dict:
    """What the old direct post sent for `folder`, plus the Jibri host's clock it now adds."""
    files = []
    for path in sorted(folder.iterdir()):
        if path.name == "metadata.json":
            continue
        data = path.read_bytes()
        files.append(
            {"name": path.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )
    return {"session_id": folder.name, "metadata": METADATA, "files": files}


def assert_is_the_notice_of(request: dict, folder: Path):
    assert request["path"] == "/hooks/jibri"
    assert request["content_type"] == "application/json"
    digest = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["signature"] == f"sha256={digest}"
    sent = json.loads(request["body"])
    clock = [{k: f.pop(k) for k in ("modified_at", "created_at") if k in f} for f in sent["files"]]
    finalized_at = sent.pop("finalized_at")
    assert sent == expected_notice(folder)  # the old notice, key for key
    assert finalized_at.endswith("Z") and all(c["modified_at"].endswith("Z") for c in clock)


# --- finalize.sh with the app up ------------------------------------------------------------


def test_the_script_announces_the_folder_and_the_worker_stores_one_verified_copy(
    rec_app, app_server, jibri_host, spool
):
    folder, entry = jibri_folder(jibri_host)
    for _ in range(3):  # Jibri retried, an operator re-ran it: still one copy, one job
        done = run_script(folder, app_server.url, spool)
        assert done.returncode == 0, done.stderr
        assert "delivered" in done.stderr and "(HTTP 202)" in done.stderr
    assert spooled(spool) == []  # delivered notices leave the spool
    rec = db.session.scalar(db.select(Recording))
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 1
    assert (
        rec.session_folder,
        rec.file_name,
        rec.expected_size,
        rec.expected_sha256,
        rec.room,
    ) == (folder.name, FILE, entry["size"], entry["sha256"], "ir-zz-room")
    assert rec.exam_id is None  # a room the app does not know: kept, unassigned
    assert rec.metadata_json["participants"] == [{"user": {"name": "主考官"}}]
    assert rec.metadata_json["jibri_clock"]["modified_at"]  # the host's clock came along
    assert queue_of(rec_app).count == 1

    queue = queue_of(rec_app)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.refresh(rec)
    assert rec.status == "stored"
    stored = Path(rec_app.config["RECORDINGS_DIR"]) / rec.stored_path
    assert stored.read_bytes() == (folder / FILE).read_bytes()


def test_the_notice_is_the_old_notice_signed_the_old_way(catcher, jibri_host, spool):
    folder, _ = jibri_folder(jibri_host)
    make_recording_file(jibri_host, folder.name, "ir-zz-room_2026-11-23-03-00-00.mp4", 1000)
    done = run_script(folder, catcher.url, spool)
    assert done.returncode == 0, done.stderr
    assert len(catcher.received) == 1
    assert_is_the_notice_of(catcher.received[0], folder)


def test_signing_with_openssl_when_python_is_absent(
    rec_app, app_server, jibri_host, tmp_path, spool
):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in (
        "bash",
        "env",
        "curl",
        "sha256sum",
        "stat",
        "openssl",
        "awk",
        "basename",
        "dirname",
        "cat",
        "cut",
        "date",
        "flock",
        "mkdir",
        "mktemp",
        "mv",
        "rm",
        "head",
        "sleep",
        "sync",
        "touch",
    ):
        os.symlink(shutil.which(tool), bin_dir / tool)
    folder, _ = jibri_folder(jibri_host, session="openssl-session")
    done = run_script(folder, app_server.url, spool, path=str(bin_dir))
    assert done.returncode == 0, done.stderr
    assert db.session.scalar(db.select(Recording.session_folder)) == "openssl-session"


def test_the_settings_can_come_from_an_env_file(rec_app, app_server, jibri_host, tmp_path):
    folder, _ = jibri_folder(jibri_host)
    env_file = tmp_path / "finalize.env"
    env_file.write_text(
        f"INTERVIEW_APP_URL={app_server.url}\nJIBRI_WEBHOOK_SECRET={SECRET}\n"
        f"FINALIZE_SPOOL_DIR={tmp_path / 'spool-from-file'}\n"
    )
    done = subprocess.run(
        [str(SCRIPT), str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "FINALIZE_ENV_FILE": str(env_file)},
    )
    assert done.returncode == 0, done.stderr
    assert str(tmp_path / "spool-from-file") in done.stderr
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 1


def test_the_default_env_file_is_on_the_containers_persistent_volume():
    """/etc/jitsi/jibri is a tmpfs in docker-jitsi-meet's jibri image; /config is the volume."""
    text = SCRIPT.read_text()
    first, fallback = (
        text.index("ENV_FILE=/config/finalize.env"),
        text.index("ENV_FILE=/etc/jitsi/jibri/finalize.env"),
    )
    assert first < fallback
    assert '"${FINALIZE_SPOOL_DIR:-/storage/finalize-spool}"' in text


# --- finalize.sh with the app away: spooled, returns at once, delivered later ------------------


def test_with_the_app_down_the_script_returns_at_once_and_the_spool_delivers_once_it_is_back(
    rec_app, jibri_host, spool
):
    folder, _ = jibri_folder(jibri_host)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    backoff = {"FINALIZE_RETRY_DELAY": "2"}
    done, took = timed(run_script, folder, url, spool, extra=backoff)
    assert done.returncode == 0, done.stderr
    assert took < RETURNS_WITHIN, took
    assert "spooled 1 file(s)" in done.stderr and "left for the delivery loop" in done.stderr
    assert len(spooled(spool)) == 1
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 0

    server = AppServer(rec_app, port)  # the app comes back up
    try:
        # Not due yet (the first back-off, 2 s): a pass leaves it alone...
        waiting = deliver(url, spool, extra=backoff)
        assert waiting.returncode == 1 and "not delivered in this pass" in waiting.stderr
        assert db.session.scalar(db.select(db.func.count(Recording.id))) == 0
        # ...once due, it goes.
        time.sleep(2.1)
        sent = deliver(url, spool, extra=backoff)
        assert sent.returncode == 0, sent.stderr
        assert "after 2 try(s)" in sent.stderr and "(HTTP 202)" in sent.stderr
    finally:
        server.stop()
    assert spooled(spool) == [] and list((spool / ".state").iterdir()) == []
    rec = db.session.scalar(db.select(Recording))
    assert (rec.session_folder, rec.file_name) == (folder.name, FILE)


def test_what_the_spool_delivers_later_is_exactly_the_notice(jibri_host, spool):
    folder, _ = jibri_folder(jibri_host)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    assert run_script(folder, url, spool).returncode == 0
    catcher = NoticeCatcher(port)
    try:
        assert deliver(url, spool).returncode == 0
    finally:
        catcher.stop()
    assert len(catcher.received) == 1
    assert_is_the_notice_of(catcher.received[0], folder)


def test_a_hung_app_holds_the_script_no_longer_than_its_own_timeout(jibri_host, spool):
    """The app accepts the connection and never answers (a stuck gunicorn, a dead proxy)."""
    folder, _ = jibri_folder(jibri_host)
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        done, took = timed(run_script, folder, url, spool)
    assert done.returncode == 0, done.stderr
    assert took < RETURNS_WITHIN, took
    assert len(spooled(spool)) == 1


def test_the_delivery_loop_delivers_once_the_app_is_back_and_stops_on_term(
    rec_app, jibri_host, spool
):
    folder, _ = jibri_folder(jibri_host)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    extra = {"FINALIZE_SPOOL_INTERVAL": "1", "FINALIZE_RETRY_DELAY": "1"}
    done = run_script(folder, url, spool, extra=extra)
    assert done.returncode == 0 and "WARNING: no delivery loop" in done.stderr
    loop = subprocess.Popen(
        [str(SCRIPT), "--deliver-loop"],
        env=script_env(url, spool, extra=extra),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = ""
        while "no 2xx" not in line:  # the loop tried and the app is still away
            line = loop.stderr.readline()
            assert line, "the loop ended"
        server = AppServer(rec_app, port)
        try:
            while "finalize.sh: delivered" not in line:
                line = loop.stderr.readline()
                assert line, "the loop ended before delivering"
            assert "(HTTP 202)" in line
            # A loop is running now: the next recording's finalize.sh does not warn.
            again = run_script(folder, f"http://127.0.0.1:{free_port()}", spool, extra=extra)
            assert "WARNING: no delivery loop" not in again.stderr
        finally:
            server.stop()
        loop.send_signal(signal.SIGTERM)
        assert loop.wait(timeout=10) == 0
    finally:
        if loop.poll() is None:
            loop.kill()
        loop.wait()
        loop.stderr.close()
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429, 301])
def test_a_passing_refusal_keeps_the_notice_with_back_off(catcher, jibri_host, spool, status):
    folder, _ = jibri_folder(jibri_host)
    catcher.status = status
    extra = {"FINALIZE_RETRY_DELAY": "5", "FINALIZE_RETRY_MAX_DELAY": "15"}
    done = run_script(folder, catcher.url, spool, extra=extra)
    assert done.returncode == 0, done.stderr
    assert f"(HTTP {status}); next try in 5s" in done.stderr
    for wait in ("10s", "15s", "15s"):  # doubled, then capped
        again = deliver(catcher.url, spool, "--now", extra=extra)
        assert again.returncode == 1 and f"next try in {wait}" in again.stderr
    assert len(spooled(spool)) == 1 and len(catcher.received) == 4
    catcher.status = 202
    assert deliver(catcher.url, spool, "--now").returncode == 0
    assert spooled(spool) == [] and len(catcher.received) == 5


def test_failures_past_finalize_attempts_are_logged_as_errors_and_never_dropped(jibri_host, spool):
    folder, _ = jibri_folder(jibri_host)
    url = f"http://127.0.0.1:{free_port()}"
    extra = {"FINALIZE_ATTEMPTS": "2"}
    assert "ERROR" not in run_script(folder, url, spool, extra=extra).stderr
    for _ in range(3):
        again = deliver(url, spool, extra=extra)
        assert "ERROR: " in again.stderr and "still not accepted after" in again.stderr
    assert len(spooled(spool)) == 1


def test_a_wrong_secret_is_refused_at_once_and_the_notice_moved_to_dead_letters(
    rec_app, app_server, jibri_host, spool
):
    folder, _ = jibri_folder(jibri_host)
    done = run_script(folder, app_server.url, spool, secret="not the secret")
    assert done.returncode == 1
    assert "refused the notice (HTTP 403)" in done.stderr and "try 1" not in done.stderr
    assert spooled(spool) == []
    dead = sorted((spool / "dead").glob("*.json"))
    assert len(dead) == 1
    reason = (spool / "dead" / f"{dead[0].name}.reason").read_text()
    assert reason.startswith("HTTP 403") and "X-Jibri-Signature" in reason
    # Not retried by the loop...
    assert deliver(app_server.url, spool, "--now").returncode == 0
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 0
    # ...until the operator has fixed the secret and moved it back.
    dead[0].rename(spool / dead[0].name)
    assert deliver(app_server.url, spool, "--now").returncode == 0
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 1


def test_a_notice_the_app_cannot_use_goes_to_dead_letters(catcher, jibri_host, spool):
    folder, _ = jibri_folder(jibri_host)
    catcher.status = 400
    done = run_script(folder, catcher.url, spool)
    assert done.returncode == 1 and "(HTTP 400)" in done.stderr
    assert spooled(spool) == [] and len(list((spool / "dead").glob("*.json"))) == 1
    assert deliver(catcher.url, spool, "--now").returncode == 0
    assert len(catcher.received) == 1


def test_two_deliverers_on_one_spool_post_each_notice_once(jibri_host, spool):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    folders = []
    for i in range(6):
        folder, _ = jibri_folder(jibri_host, session=f"session-{i}", size=1000 + i)
        assert run_script(folder, url, spool).returncode == 0
        folders.append(folder)
    assert len(spooled(spool)) == 6
    catcher = NoticeCatcher(port, delay=0.3)  # slow answers: the two passes overlap
    try:
        env = script_env(url, spool)
        passes = [
            subprocess.Popen(
                [str(SCRIPT), "--deliver", "--now"], env=env, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=60)[1] for p in passes]
    finally:
        catcher.stop()
    sessions = sorted(json.loads(r["body"])["session_id"] for r in catcher.received)
    assert sessions == sorted(f.name for f in folders), outputs
    assert spooled(spool) == []
    assert all(out.count("finalize.sh: delivered") < 6 for out in outputs)  # both did a share


def test_a_spool_that_cannot_be_written_falls_back_to_one_direct_try(
    rec_app, app_server, jibri_host, tmp_path
):
    folder, _ = jibri_folder(jibri_host)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    done = run_script(folder, app_server.url, blocked / "spool")
    assert done.returncode == 0, done.stderr
    assert "cannot write the spool" in done.stderr and "(HTTP 202)" in done.stderr
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 1
    gone = run_script(folder, f"http://127.0.0.1:{free_port()}", blocked / "spool")
    assert gone.returncode == 1 and "run finalize.sh on" in gone.stderr


def test_missing_settings_still_spool_the_notice(rec_app, app_server, jibri_host, spool):
    folder, _ = jibri_folder(jibri_host)
    done = run_script(folder, "", spool)
    assert done.returncode == 2 and "INTERVIEW_APP_URL not set" in done.stderr
    assert len(spooled(spool)) == 1
    assert deliver(app_server.url, spool).returncode == 0
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 1


def test_bad_usage_and_an_empty_folder(rec_app, tmp_path, spool):
    assert run_script(None, "http://127.0.0.1:9", spool).returncode == 2
    empty = tmp_path / "empty-session"
    empty.mkdir()
    (empty / "metadata.json").write_text("{}")
    done = run_script(empty, "http://127.0.0.1:9", spool)
    assert done.returncode == 1 and "no recording files" in done.stderr
    assert spooled(spool) == []


def test_a_deliverer_killed_mid_post_loses_nothing_and_frees_the_notice(jibri_host, spool):
    folder, _ = jibri_folder(jibri_host)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    assert run_script(folder, url, spool).returncode == 0
    catcher = NoticeCatcher(port, delay=30)  # answers far too late
    try:
        killed = subprocess.Popen(
            [str(SCRIPT), "--deliver", "--now"],
            env=script_env(url, spool),
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while not catcher.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert catcher.received, "the deliverer never posted"
        os.killpg(killed.pid, signal.SIGKILL)  # the container was killed mid-post
        killed.wait(timeout=10)
        assert len(spooled(spool)) == 1  # only a 2xx removes a notice
        catcher.delay = 0
        assert deliver(url, spool, "--now").returncode == 0  # its lock died with it
    finally:
        catcher.stop()
    assert spooled(spool) == []
    # Posted twice (the cut-off post, then the whole one): the app stores each file once.
    assert [json.loads(r["body"])["session_id"] for r in catcher.received] == [folder.name] * 2
