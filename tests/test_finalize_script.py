"""jitsi/jibri/finalize.sh run for real against the app served by a real HTTP server on loopback."""

import json
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from rq import SimpleWorker
from werkzeug.serving import make_server

from app import db
from app.models import Recording
from tests.test_recordings import SECRET, jibri_host, make_recording_file, queue_of, rec_app  # noqa: F401

SCRIPT = Path(__file__).resolve().parent.parent / "jitsi" / "jibri" / "finalize.sh"
FILE = "ir-zz-room_2026-11-23-02-00-00.mp4"

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


@pytest.fixture
def app_server(rec_app):
    server = AppServer(rec_app)
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jibri_folder(server, session="7f3c2a10-session", size=2_000_000) -> tuple[Path, dict]:
    """A folder as Jibri leaves it: one recording and metadata.json."""
    entry = make_recording_file(server, session, FILE, size)
    folder = server.root / session
    (folder / "metadata.json").write_text(
        json.dumps(
            {
                "meeting_url": "https://meet.example.org/ir-zz-room",
                "participants": [{"user": {"name": "主考官"}}],
            },
            ensure_ascii=False,
        )
    )
    return folder, entry


def run_script(
    folder, app_url, secret=SECRET, path=None, extra=None, **kw
) -> subprocess.CompletedProcess:
    env = {
        "PATH": path or os.environ["PATH"],
        "INTERVIEW_APP_URL": app_url,
        "JIBRI_WEBHOOK_SECRET": secret,
        "FINALIZE_ENV_FILE": "/nonexistent",
        "FINALIZE_ATTEMPTS": "3",
        "FINALIZE_RETRY_DELAY": "0",
        **(extra or {}),
    }
    args = [str(SCRIPT)] + ([str(folder)] if folder is not None else [])
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, **kw)


def test_the_script_announces_the_folder_and_the_worker_stores_one_verified_copy(
    rec_app, app_server, jibri_host
):
    folder, entry = jibri_folder(jibri_host)
    for _ in range(3):  # Jibri retried, an operator re-ran it: still one copy, one job
        done = run_script(folder, app_server.url)
        assert done.returncode == 0, done.stderr
        assert "notified" in done.stderr and "(HTTP 202)" in done.stderr
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
    assert queue_of(rec_app).count == 1

    queue = queue_of(rec_app)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.refresh(rec)
    assert rec.status == "stored"
    stored = Path(rec_app.config["RECORDINGS_DIR"]) / rec.stored_path
    assert stored.read_bytes() == (folder / FILE).read_bytes()


def test_signing_with_openssl_when_python_is_absent(rec_app, app_server, jibri_host, tmp_path):
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
        "cat",
        "cut",
        "mktemp",
        "rm",
        "head",
        "sleep",
    ):
        os.symlink(shutil.which(tool), bin_dir / tool)
    folder, _ = jibri_folder(jibri_host, session="openssl-session")
    done = run_script(folder, app_server.url, path=str(bin_dir))
    assert done.returncode == 0, done.stderr
    assert db.session.scalar(db.select(Recording.session_folder)) == "openssl-session"


def test_a_wrong_secret_is_refused_at_once_and_the_script_fails(rec_app, app_server, jibri_host):
    folder, _ = jibri_folder(jibri_host)
    done = run_script(folder, app_server.url, secret="not the secret")
    assert done.returncode == 1
    assert "refused the notice (HTTP 403)" in done.stderr and "attempt" not in done.stderr
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 0


def test_the_script_retries_while_the_app_is_down_and_gives_up_with_non_zero(rec_app, jibri_host):
    folder, _ = jibri_folder(jibri_host)
    done = run_script(folder, f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert done.stderr.count("no 2xx") == 3 and "gave up" in done.stderr


def test_the_script_gets_through_once_the_app_is_back(rec_app, jibri_host):
    folder, _ = jibri_folder(jibri_host)
    port = free_port()
    env_extra = {"FINALIZE_ATTEMPTS": "6", "FINALIZE_RETRY_DELAY": "1"}
    script = subprocess.Popen(
        [str(SCRIPT), str(folder)],
        stderr=subprocess.PIPE,
        text=True,
        env={
            "PATH": os.environ["PATH"],
            "INTERVIEW_APP_URL": f"http://127.0.0.1:{port}",
            "JIBRI_WEBHOOK_SECRET": SECRET,
            "FINALIZE_ENV_FILE": "/nonexistent",
            **env_extra,
        },
    )
    try:
        line = ""
        while "attempt 1/6: no 2xx" not in line:  # curl's own complaint comes first
            line = script.stderr.readline()
            assert line, "the script ended before its first retry"
        server = AppServer(rec_app, port)  # the app comes back up
        try:
            assert script.wait(timeout=60) == 0
            assert "(HTTP 202)" in script.stderr.read()
        finally:
            server.stop()
    finally:
        if script.poll() is None:
            script.kill()
        script.wait()
        script.stderr.close()
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 1


def test_bad_usage_and_an_empty_folder(rec_app, tmp_path):
    assert run_script(None, "http://127.0.0.1:9").returncode == 2
    empty = tmp_path / "empty-session"
    empty.mkdir()
    (empty / "metadata.json").write_text("{}")
    done = run_script(empty, "http://127.0.0.1:9")
    assert done.returncode == 1 and "no recording files" in done.stderr


def test_the_settings_can_come_from_an_env_file(rec_app, app_server, jibri_host, tmp_path):
    folder, _ = jibri_folder(jibri_host)
    env_file = tmp_path / "finalize.env"
    env_file.write_text(f"INTERVIEW_APP_URL={app_server.url}\nJIBRI_WEBHOOK_SECRET={SECRET}\n")
    done = subprocess.run(
        [str(SCRIPT), str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "FINALIZE_ENV_FILE": str(env_file)},
    )
    assert done.returncode == 0, done.stderr
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 1
