"""Redis faults bounded (issue 14, finding 4): hung, down, and restarted empty.

A hung Redis is a thread here that accepts connections and never answers, as a Redis stopped
with SIGSTOP (or a saturated one) looks from the app. The app's client has short timeouts, no
retries and a per-process breaker (app/redis_conn.py): the first command pays one timeout, the
rest fail at once without touching the network, which the fake server proves by counting the
connections it is offered. Timings are only generous bounds on single requests.

Redis down is a closed port; restarted empty is a flushdb of the test's own Redis database.
"""

import socket
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
import sqlalchemy as sa
from redis.connection import parse_url

from app import db
from app.day.broadcasts import post_broadcast
from app.jobs.queue import get_queue
from app.jobs.sweep import CHAIN_KEY, ensure_scheduled, restore_chain
from app.jobs.worker import AppWorker, restore_lost_jobs, worker_connection
from app.models import CandidateResult, HelpRequest, Recording, RecordingStatus
from app.models.candidate import CandidateState as S
from app.recordings.pulls import ensure_pull_enqueued, job_id_for
from app.redis_conn import Breaker, RedisUnavailable, breaker_of, get_redis
from app.timeutil import utcnow
from tests.conftest import app_with, csrf_token_from, release_app
from tests.factories import World

HTMX = {"HX-Request": "true"}
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


class HungRedis:
    """Accepts every connection, reads what it is sent, never answers."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.accepted = 0
        self.stopping = False
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)  # kept open, never answered

    def stop(self) -> None:
        self.stopping = True
        self.thread.join(timeout=2)
        for conn in self.held:
            conn.close()
        self.listener.close()


@pytest.fixture
def hung_redis():
    server = HungRedis()
    yield server
    server.stop()


@pytest.fixture
def hung_app(app, config_class, hung_redis):
    # The breaker stays open for the whole test (its half-open trial is tested on its own).
    other = app_with(config_class, REDIS_URL=hung_redis.url, REDIS_BREAKER_SECONDS=120)
    yield other
    release_app(other)


@pytest.fixture
def down_app(app, config_class):
    other = app_with(config_class, REDIS_URL=CLOSED_PORT_REDIS)
    yield other
    release_app(other)


def _sign_in(client, code: str, address: str = "192.0.2.10"):
    token = csrf_token_from(
        client.get("/", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    )
    return client.post(
        "/", data={"code": code, "csrf_token": token}, environ_base={"REMOTE_ADDR": address}
    )


def _poll(client, stage: str, etag: str | None = None):
    headers = dict(HTMX)
    if etag:
        headers["If-None-Match"] = etag
    return client.get(f"/me/state?stage={stage}", headers=headers)


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


# --- the breaker itself --------------------------------------------------------------------


def test_the_breaker_opens_on_a_failure_half_opens_for_one_trial_and_closes_on_success():
    breaker = Breaker(retry_after=0.2)
    assert breaker.allow() and breaker.report() == {"state": "ok", "breaker": "closed"}
    breaker.failed(TimeoutError("read timeout"))  # not redis's: still counts as "down"
    assert not breaker.allow()
    assert breaker.report()["state"] == "down" and breaker.report()["breaker"] == "open"
    time.sleep(0.25)
    assert breaker.allow()  # this thread is the trial...
    assert breaker.state == "half-open"
    others: list[bool] = []
    thread = threading.Thread(target=lambda: others.append(breaker.allow()))
    thread.start()
    thread.join()
    assert others == [False]  # ...and every other thread keeps failing fast meanwhile
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.allow()


# --- a hung Redis --------------------------------------------------------------------------


def test_a_hung_redis_costs_one_timeout_then_nothing_and_polls_answer(hung_app, hung_redis):
    world = World()
    candidate = world.candidates[0]
    browser = hung_app.test_client()
    signed_in, took = _timed(lambda: _sign_in(browser, candidate.code))
    assert signed_in.status_code == 303
    assert took < 4  # the rate limiter's and the app's client each pay one 0.5 s timeout

    first, took = _timed(lambda: _poll(browser, "invited"))
    assert first.status_code == 200 and took < 1
    offered = hung_redis.accepted
    etag = first.headers["ETag"]
    for _ in range(10):
        again, took = _timed(lambda: _poll(browser, "invited", etag))
        assert again.status_code == 304
        assert took < 1
    assert browser.get("/me").status_code == 200
    # Known bad: nothing more was even tried on the network while the breaker is open.
    assert hung_redis.accepted == offered
    with hung_app.app_context():
        breaker = breaker_of(get_redis())
        assert breaker is not None and breaker.state == "open"
        assert breaker.report()["state"] == "hung"
        with pytest.raises(RedisUnavailable):
            get_redis().get("anything")


def _staff_login(client, username: str):
    token = csrf_token_from(client.get("/staff/login").get_data(as_text=True))
    return client.post(
        "/staff/login",
        data={"username": username, "password": "correct horse battery", "csrf_token": token},
    )


@pytest.mark.parametrize(
    "username, poll",
    [
        ("hr", "/hr/exams/{exam}/overview"),
        ("hr", "/hr/exams/{exam}/candidates"),
        ("chief", "/examiner/panels/{panel}/room"),
        ("assistant", "/assistant/panels/{panel}/board"),
    ],
)
def test_staff_polls_answer_and_stay_cheap_with_a_hung_redis(hung_app, hung_redis, username, poll):
    world = World()
    staff = hung_app.test_client()
    assert _staff_login(staff, username).status_code == 302
    url = poll.format(exam=world.exam.id, panel=world.panel.id)
    first = staff.get(url, headers=HTMX)
    assert first.status_code == 200
    # Cheap means no Redis timeout paid per poll: once the breaker is open, nothing more is even
    # tried on the network (counted by the hung server, not by a clock a loaded machine skews).
    offered = hung_redis.accepted
    for _ in range(3):
        again = staff.get(url, headers={**HTMX, "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304
    # (Some staff polls never touch Redis at all; the others meet the open breaker.)
    assert hung_redis.accepted == offered


def test_health_says_redis_is_hung_and_readyz_keeps_the_node(hung_app):
    health, took = _timed(lambda: hung_app.test_client().get("/healthz"))
    assert took < 2
    assert health.status_code == 503
    assert health.json["status"] == "degraded"
    assert health.json["database"] == {"ok": True}
    assert health.json["redis"]["ok"] is False
    assert health.json["redis"]["state"] == "hung"
    assert health.json["redis"]["breaker"] == "open"

    ready, took = _timed(lambda: hung_app.test_client().get("/readyz"))
    assert took < 1
    assert ready.status_code == 200  # pages work without Redis: a shared fault, no 503
    assert ready.json["status"] == "ready" and ready.json["database"] == {"ok": True}
    assert ready.json["redis"] == {
        "ok": False,
        "state": "hung",
        "breaker": "open",
        "retry_in": ready.json["redis"]["retry_in"],
    }


def test_after_the_breaker_interval_one_request_tries_again_and_finds_redis_back(
    app, config_class, hung_redis
):
    other = app_with(config_class, REDIS_URL=hung_redis.url, REDIS_BREAKER_SECONDS=0.3)
    try:
        with other.app_context():
            client = get_redis()
            with pytest.raises(redis.TimeoutError):
                client.ping()
            assert breaker_of(client).state == "open"
            # Redis answers again (here: the same pool pointed at the live server).
            live = app.extensions["redis_url"]
            client.connection_pool.reset()
            client.connection_pool.connection_kwargs.update(
                {k: v for k, v in parse_url(live).items() if k != "connection_class"}
            )
            with pytest.raises(RedisUnavailable):
                client.ping()  # still open: no network
            time.sleep(0.35)
            assert client.ping() is True  # the half-open trial succeeds
            assert breaker_of(client).state == "closed"
    finally:
        release_app(other)


# --- Redis away: the pages still follow the database -----------------------------------------


def test_while_redis_is_down_a_broadcast_a_help_reply_and_a_score_reach_the_open_page(
    app, down_app
):
    world = World()
    invited = world.candidates[0]
    finished = world.candidate(S.FINISHED, lot=7)
    page, done = down_app.test_client(), down_app.test_client()
    assert _sign_in(page, invited.code).status_code == 303
    assert _sign_in(done, finished.code, "192.0.2.11").status_code == 303

    def changed(client, stage: str, etag: str) -> str:
        response = _poll(client, stage, etag)
        assert response.status_code == 200, "the page would have kept showing the old state"
        assert response.headers["ETag"] != etag
        return response.headers["ETag"]

    etag = _poll(page, "invited").headers["ETag"]
    assert _poll(page, "invited", etag).status_code == 304  # unchanged: still cheap

    post_broadcast(world.chief, world.panel, "面试推迟10分钟开始")
    etag = changed(page, "invited", etag)
    assert "面试推迟10分钟开始" in _poll(page, "invited").get_data(as_text=True)
    assert _poll(page, "invited", etag).status_code == 304

    help_request = HelpRequest(candidate_id=invited.id, message="听不到声音", created_at=utcnow())
    db.session.add(help_request)
    db.session.commit()
    etag = changed(page, "invited", etag)
    help_request.reply = "请检查耳机"
    help_request.replied_at = utcnow()
    db.session.commit()
    etag = changed(page, "invited", etag)
    assert "请检查耳机" in _poll(page, "invited").get_data(as_text=True)

    etag = _poll(done, "finished").headers["ETag"]
    result = CandidateResult(
        candidate_id=finished.id, final_score=Decimal("85.50"), confirmed_at=utcnow()
    )
    db.session.add(result)
    db.session.commit()
    etag = changed(done, "finished", etag)  # confirmed, held
    result.published_at = utcnow()
    db.session.commit()
    etag = changed(done, "finished", etag)
    assert "85.50" in _poll(done, "finished").get_data(as_text=True)
    assert _poll(done, "finished", etag).status_code == 304


def test_while_redis_is_away_the_quick_poll_is_still_one_statement(app, down_app):
    """The first poll goes the full way (extras in a statement of their own), the next is the
    quick answer (extras in its one SELECT): a 304 in one statement proves both the statement
    count and that the two paths compute the same fallback ETag."""
    world = World()
    candidate = world.candidates[0]
    page = down_app.test_client()
    assert _sign_in(page, candidate.code).status_code == 303
    etag = _poll(page, "invited").headers["ETag"]
    with down_app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert _poll(page, "invited", etag).status_code == 304
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert ".d" in etag  # the database's version, not Redis's counters


# --- Redis restarted empty: the running worker puts the jobs back -----------------------------


def _waiting_recording(name: str) -> Recording:
    recording = Recording(
        room="ir-x",
        session_folder="sess-1",
        file_name=name,
        expected_size=100,
        expected_sha256="0" * 64,
        status=RecordingStatus.WAITING,
        bytes_pulled=0,
        attempts=1,
        error="timeout (attempt 1; retrying)",
    )
    db.session.add(recording)
    db.session.commit()
    return recording


def test_after_redis_restarts_empty_the_running_worker_restores_the_sweep_and_the_pulls(app):
    queue = get_queue()
    assert ensure_scheduled(queue) is True
    retrying = _waiting_recording("ir-x_2026-11-23-02-00-00.mp4")
    queued = _waiting_recording("ir-x_2026-11-23-03-00-00.mp4")
    assert ensure_pull_enqueued(queued)
    # A pull waiting for its next retry sits in the scheduled registry.
    queue.enqueue_in(timedelta(seconds=120), print, job_id=job_id_for(retrying))
    assert restore_lost_jobs() == {"sweep": 0, "recordings": 0}  # nothing lost

    get_redis().flushdb()  # Redis restarted empty

    assert restore_lost_jobs() == {"sweep": 1, "recordings": 2}
    assert get_redis().exists(CHAIN_KEY)
    assert len(queue.scheduled_job_registry.get_job_ids()) == 1  # the sweep's next run
    assert set(queue.job_ids) == {job_id_for(retrying), job_id_for(queued)}
    assert restore_lost_jobs() == {"sweep": 0, "recordings": 0}  # once


def test_the_worker_loop_runs_the_restore_at_least_every_minute(app, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr("app.jobs.worker.restore_lost_jobs", lambda: calls.append(1) or {})
    worker = AppWorker(
        [get_queue().name],
        connection=worker_connection(),
        maintenance_interval=30,
        worker_ttl=45,
    )
    worker.run_maintenance_tasks()
    assert calls == [1]

    def database_away():
        raise sa.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr("app.jobs.worker.restore_lost_jobs", database_away)
    worker.run_maintenance_tasks()  # logged, and the worker keeps working
    # An idle worker's blocking dequeue returns, and its loop turns, within the interval.
    from app.jobs import worker as worker_module

    assert worker_module.DEQUEUE_SECONDS + worker_module.RESTORE_INTERVAL <= 60
    built = AppWorker(
        [get_queue().name],
        connection=worker_connection(),
        maintenance_interval=worker_module.MAINTENANCE_INTERVAL,
        worker_ttl=worker_module.WORKER_TTL,
    )
    assert built.dequeue_timeout == worker_module.DEQUEUE_SECONDS
    # The worker's long socket timeout stays on its own client, not on the app's.
    assert get_redis().connection_pool.connection_kwargs["socket_timeout"] <= 1


def test_a_lost_chain_is_restored_but_a_live_one_is_left_alone(app):
    queue = get_queue()
    assert restore_chain(queue) is True  # nothing scheduled yet
    assert restore_chain(queue) is False
    assert len(queue.scheduled_job_registry.get_job_ids()) == 1
