"""Faults of an exam day: Redis away, the database restarting, a poll storm after a network blip.

Redis away: a second app on the same database points at a closed port. The database restart:
the app talks to PostgreSQL through a TCP proxy (a thread here) that the test cuts and restores,
which is what a restart or a failover looks like from the app: every pooled connection dies at
once and new ones are refused for a while.
"""

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from app import db
from app.models import Candidate, Role
from app.redis_conn import close_redis, get_redis
from tests.conftest import app_with, csrf_token_from, release_app
from tests.factories import gen_exam, gen_user

HTMX = {"HX-Request": "true"}
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _candidates(exam, count: int, first_code: int = 100000) -> list[Candidate]:
    rows = [
        Candidate(
            exam_id=exam.id,
            name=f"考生{i}",
            id_number=f"11010519900101{i:04d}",
            phone=f"138{i:08d}",
            position="岗位",
            code=f"{first_code + i:06d}",
        )
        for i in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def _sign_in(client: FlaskClient, code: str, address: str = "192.0.2.10"):
    token = csrf_token_from(
        client.get("/", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    )
    return client.post(
        "/", data={"code": code, "csrf_token": token}, environ_base={"REMOTE_ADDR": address}
    )


def _staff_login(client: FlaskClient, username: str):
    token = csrf_token_from(client.get("/staff/login").get_data(as_text=True))
    return client.post(
        "/staff/login",
        data={"username": username, "password": "correct horse battery", "csrf_token": token},
    )


def _poll(client: FlaskClient, stage: str, etag: str | None = None):
    headers = dict(HTMX)
    if etag:
        headers["If-None-Match"] = etag
    return client.get(f"/me/state?stage={stage}", headers=headers)


# --- Redis away --------------------------------------------------------------------------------


@pytest.fixture
def no_redis(app, config_class):
    other = app_with(config_class, REDIS_URL=CLOSED_PORT_REDIS)
    yield other
    release_app(other)


def test_without_redis_pages_serve_and_healthz_says_redis_is_down(app, no_redis):
    gen_user("hr1", role=Role.HR)
    exam = gen_exam()
    (candidate,) = _candidates(exam, 1)
    staff, browser = no_redis.test_client(), no_redis.test_client()

    assert staff.get("/staff/login").status_code == 200
    assert _staff_login(staff, "hr1").status_code == 302
    assert staff.get("/hr/exams").status_code == 200
    assert staff.get(f"/hr/exams/{exam.id}/candidates").status_code == 200

    assert _sign_in(browser, candidate.code).status_code == 303
    assert browser.get("/me").status_code == 200
    first = _poll(browser, "invited")
    assert first.status_code == 200
    # The ETag's Redis parts read as unknown but stable: an unchanged page is still a 304.
    assert _poll(browser, "invited", first.headers["ETag"]).status_code == 304

    health = no_redis.test_client().get("/healthz")
    assert health.status_code == 503
    assert health.json["status"] == "degraded"
    assert health.json["redis"]["ok"] is False
    assert health.json["database"] == {"ok": True}


def test_without_redis_code_guessing_is_still_limited_in_memory(app, no_redis):
    """app/security/limits.py: Flask-Limiter falls back to each process's memory, so a guesser is
    still stopped (per process) and nobody is locked out for Redis's sake."""
    exam = gen_exam()
    (candidate,) = _candidates(exam, 1)
    guesser = no_redis.test_client()
    statuses = [_sign_in(guesser, "999999", "198.51.100.9").status_code for _ in range(12)]
    assert statuses[:10] == [400] * 10
    assert statuses[-1] == 429
    # Another address with the right code gets in.
    assert _sign_in(no_redis.test_client(), candidate.code, "203.0.113.5").status_code == 303


def test_enqueue_without_redis_fails_fast_with_a_redis_error(app, no_redis):
    """A job that cannot be queued is an error the caller sees at once (and handles: the Jibri
    hook answers 503 so that the finalize script retries), not a request that hangs."""
    import redis

    from app.jobs.queue import get_queue

    with no_redis.app_context(), pytest.raises(redis.RedisError):
        get_queue().enqueue(print, "never runs")


def _jibri_notice(folder: str) -> bytes:
    import json

    files = [{"name": "ir-e1-room_2026-11-23-02-00-00.mp4", "size": 1000, "sha256": "0" * 64}]
    return json.dumps(
        {
            "session_id": folder,
            "metadata": {"meeting_url": "https://meet/ir-e1-room"},
            "files": files,
        }
    ).encode()


def test_a_recording_noticed_while_redis_is_away_is_kept_and_queued_when_it_returns(
    app, config_class
):
    """Jobs resume: the hook keeps the row and answers 503 (finalize.sh retries); once Redis is
    back, the replayed notice or the worker's start-up recovery queues the pull."""
    from rq import Queue

    from app.models import Recording, RecordingStatus
    from app.recordings.notice import sign
    from app.recordings.pulls import job_id_for, recover_recordings

    secret = "fault-test-secret"
    other = app_with(config_class, REDIS_URL=CLOSED_PORT_REDIS, JIBRI_WEBHOOK_SECRET=secret)
    body = _jibri_notice("session-during-outage")
    headers = {"Content-Type": "application/json", "X-Jibri-Signature": sign(body, secret)}
    try:
        refused = other.test_client().post("/hooks/jibri", data=body, headers=headers)
    finally:
        release_app(other)
    assert refused.status_code == 503
    (recording,) = db.session.scalars(sa.select(Recording)).all()
    assert recording.status == RecordingStatus.WAITING

    # Redis is back (the live app): the worker's recovery queues exactly that pull, once.
    assert recover_recordings() == 1
    assert recover_recordings() == 0
    queue = Queue(app.config["RQ_QUEUE"], connection=get_redis())
    assert job_id_for(recording) in queue.job_ids


def test_redis_coming_back_is_seen_without_a_restart(app, config_class):
    """The client reconnects by itself: the first request after Redis returns finds it."""
    other = app_with(config_class, REDIS_URL=CLOSED_PORT_REDIS)
    try:
        assert other.test_client().get("/healthz").status_code == 503
        # Redis returns (here: the same app is pointed at the live server, as a restart would).
        close_redis(other)
        other.extensions["redis_url"] = config_class.REDIS_URL
        assert other.test_client().get("/healthz").status_code == 200
        with other.app_context():
            assert get_redis().ping()
    finally:
        release_app(other)


# --- the database restarting -------------------------------------------------------------------


class TcpProxy:
    """A TCP forwarder that can be cut: `cut()` drops every connection and refuses new ones
    (accepted, then closed at once, as a restarting PostgreSQL does); `restore()` undoes it."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.stopping = False
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                thread = threading.Thread(target=self._pump, args=(src, dst), daemon=True)
                self.threads.append(thread)
                thread.start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.stopping = True
        self.acceptor.join()
        self.listener.close()
        for thread in self.threads:
            thread.join(timeout=5)
        with self.lock:
            for sock in self.sockets:
                sock.close()


@pytest.fixture
def db_proxy(database_uri):
    if not database_uri.startswith("postgresql"):
        pytest.skip("the database restart is a PostgreSQL fault")
    url = sa.make_url(database_uri)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


def test_database_restart_fails_requests_cleanly_and_recovers(app, config_class, db_proxy):
    proxy, proxied_url = db_proxy
    gen_user("hr1", role=Role.HR)
    exam = gen_exam()
    (candidate,) = _candidates(exam, 1)
    other = app_with(config_class, SQLALCHEMY_DATABASE_URI=proxied_url)
    try:
        staff, browser = other.test_client(), other.test_client()
        assert _staff_login(staff, "hr1").status_code == 302
        assert staff.get("/hr/exams").status_code == 200
        assert _sign_in(browser, candidate.code).status_code == 303
        etag = _poll(browser, "invited").headers["ETag"]

        proxy.cut()
        page = staff.get("/hr/exams")
        assert page.status_code == 503
        assert "系统繁忙，请稍候几秒后刷新重试；您的数据不会丢失。" in page.get_data(as_text=True)
        assert page.headers["Retry-After"]
        poll = _poll(browser, "invited", etag)
        assert poll.status_code == 503
        assert "系统繁忙，请稍候几秒后刷新重试；您的数据不会丢失。" in poll.get_data(as_text=True)
        health = other.test_client().get("/healthz")
        assert health.status_code == 503
        assert health.json["database"]["ok"] is False
        assert other.test_client().get("/readyz").status_code == 503  # out of the pool

        proxy.restore()
        # The failures invalidated the pool (and a connection idle since is pinged first:
        # app/db_ping.py), so the very first request after the restart succeeds.
        assert staff.get("/hr/exams").status_code == 200
        assert _poll(browser, "invited", etag).status_code == 304
        assert other.test_client().get("/healthz").status_code == 200
        assert other.test_client().get("/readyz").status_code == 200
    finally:
        release_app(other)


# --- a poll storm after a network blip ---------------------------------------------------------


def test_poll_storm_after_a_blip_answers_304_without_errors(app):
    """Every page of a region reconnects at once: all their polls arrive together, each with
    its ETag, and each gets a 304 (nothing rendered, no error)."""
    exam = gen_exam()
    people = _candidates(exam, 40)
    clients = []
    for person in people:
        client = app.test_client()
        assert _sign_in(client, person.code, f"192.0.2.{len(clients) + 1}").status_code == 303
        first = _poll(client, "invited")
        assert first.status_code == 200
        clients.append((client, first.headers["ETag"]))

    start = threading.Barrier(len(clients))

    def storm(pair):
        client, etag = pair
        with app.app_context():
            start.wait(timeout=30)
            return [_poll(client, "invited", etag).status_code for _ in range(3)]

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        results = list(pool.map(storm, clients))
    assert [s for statuses in results for s in statuses] == [304] * (3 * len(clients))


def test_poll_storm_right_after_a_change_renders_once_per_candidate(app):
    """A broadcast during the blip changes every ETag: each page gets one 200, then 304s."""
    from app.day.poll_versions import bump_exam

    exam = gen_exam()
    people = _candidates(exam, 20, first_code=200000)
    clients = []
    for i, person in enumerate(people):
        client = app.test_client()
        assert _sign_in(client, person.code, f"192.0.2.{100 + i}").status_code == 303
        clients.append([client, _poll(client, "invited").headers["ETag"]])
    bump_exam(exam.id)

    def storm(pair):
        client, etag = pair
        with app.app_context():
            statuses = []
            for _ in range(3):
                response = _poll(client, "invited", etag)
                statuses.append(response.status_code)
                etag = response.headers.get("ETag", etag)
            return statuses

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        results = list(pool.map(storm, clients))
    assert results == [[200, 304, 304]] * len(clients)
