"""Prometheus metrics at `/metrics` (prometheus_client), for the exam-day dashboard.

Counted as requests are served: requests and their latency by endpoint, polls (a request with
If-None-Match, as every polling page sends) and how many were unchanged (304), refused
invitation and phone codes (wrong, or over the guessing budget). Read from PostgreSQL and Redis
when scraped: candidates by state per exam, calls that lapsed per exam, recordings by status, RQ
queue depth and failed jobs. A scrape costs a handful of aggregate queries, never a row scan.

Under gunicorn every worker counts in its own process; gunicorn.conf.py gives them one
PROMETHEUS_MULTIPROC_DIR and the scrape adds them up (prometheus_client's multiprocess mode).

Reachable only with `Authorization: Bearer $METRICS_TOKEN` or from METRICS_ALLOW (addresses or
networks, comma-separated; default loopback only). Anyone else gets a 404: the endpoint says
nothing about the exam day to the internet.
"""

import hmac
import ipaddress
import os
import time
from functools import lru_cache

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app import __version__, db

REQUESTS = Counter(
    "interview_room_requests_total", "HTTP requests answered", ["endpoint", "method", "status"]
)
LATENCY = Histogram(
    "interview_room_request_duration_seconds",
    "Time to answer a request, by endpoint",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POLLS = Counter(
    "interview_room_polls_total",
    "Polls (requests with If-None-Match) by page kind and whether anything changed",
    ["kind", "outcome"],
)
CODE_REFUSALS = Counter(
    "interview_room_code_refusals_total",
    "Invitation and phone codes refused: wrong (a guess or a typo) or over the budget",
    ["code", "reason"],
)
# endpoint -> (which code it checks, its method, the statuses that mean "wrong code"); 429 there
# means the guessing budget is spent.
CODE_ENDPOINTS = {
    "candidate.index": ("invitation", "POST", (400, 401)),
    "calls.phone": ("phone", "GET", (404,)),
}
POLL_KINDS = {"candidate": "candidate", "calls": "phone"}

bp = Blueprint("metrics", __name__)


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = current_app.config.get("METRICS_ALLOW") or "127.0.0.1/32,::1/128"
    for network in str(networks).split(","):
        if network.strip() and address in ipaddress.ip_network(network.strip(), strict=False):
            return True
    return False


@bp.get("/metrics")
def metrics():
    if not _allowed():
        abort(404)
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    output = generate_latest(registry) + generate_latest(_ExamDayRegistry())
    return Response(output, mimetype=CONTENT_TYPE_LATEST)


class _ExamDayRegistry(CollectorRegistry):
    """The state of the day, read when scraped (not counted per process)."""

    def __init__(self):
        super().__init__(auto_describe=False)
        self.register(ExamDayCollector())


class ExamDayCollector:
    def collect(self):
        from app.models import Call, Candidate, Recording

        candidates = GaugeMetricFamily(
            "interview_room_candidates", "Candidates by state, per exam", labels=["exam", "state"]
        )
        lapses = GaugeMetricFamily(
            "interview_room_call_lapses",
            "Calls that rang out unanswered, per exam",
            labels=["exam"],
        )
        recordings = GaugeMetricFamily(
            "interview_room_recordings", "Recordings by status", labels=["status"]
        )
        try:
            for exam_id, state, n in db.session.execute(
                select(Candidate.exam_id, Candidate.state, func.count()).group_by(
                    Candidate.exam_id, Candidate.state
                )
            ):
                candidates.add_metric([str(exam_id), str(state)], n)
            for exam_id, n in db.session.execute(
                select(Candidate.exam_id, func.count(Call.id))
                .join(Candidate, Candidate.id == Call.candidate_id)
                .where(Call.outcome == "lapsed")
                .group_by(Candidate.exam_id)
            ):
                lapses.add_metric([str(exam_id)], n)
            for status, n in db.session.execute(
                select(Recording.status, func.count()).group_by(Recording.status)
            ):
                recordings.add_metric([str(status)], n)
        except SQLAlchemyError:
            db.session.rollback()  # the scrape shows the counters; the dashboard shows the gap
        yield candidates
        yield lapses
        yield recordings
        yield from _queue_metrics()
        yield _build_info()


def _build_info() -> GaugeMetricFamily:
    """Each node is scraped on its own: during a rolling upgrade the dashboard shows which nodes
    already run the new release (the Prometheus `*_build_info` convention)."""
    info = GaugeMetricFamily(
        "interview_room_build_info", "The release this node runs", labels=["version"]
    )
    info.add_metric([__version__], 1)
    return info


def _queue_metrics():
    from redis.exceptions import RedisError

    from app.jobs.queue import get_queue

    depth = GaugeMetricFamily("interview_room_rq_jobs", "RQ jobs waiting", labels=["queue"])
    failed = GaugeMetricFamily("interview_room_rq_failed_jobs", "RQ jobs failed", labels=["queue"])
    up = GaugeMetricFamily("interview_room_redis_up", "1 when Redis answered this scrape")
    try:
        queue = get_queue()
        depth.add_metric([queue.name], queue.count)
        failed.add_metric([queue.name], queue.failed_job_registry.count)
        up.add_metric([], 1)
    except (RedisError, OSError):
        up.add_metric([], 0)
    yield depth
    yield failed
    yield up


def count_request(
    endpoint: str, method: str, status: int, seconds: float | None, poll_kind: str | None = None
) -> None:
    """One answered request in the metrics; `poll_kind` for a poll (it sent If-None-Match).
    Also called by the poll's own lane (app/day/poll_lane.py), which Flask's hooks never see."""
    requests, latency, polls = _series(endpoint, method, status, poll_kind)
    requests.inc()
    if seconds is not None:
        latency.observe(seconds)
    if polls is not None:
        polls.inc()


@lru_cache(maxsize=4096)  # endpoints × methods × statuses: a few hundred series at most
def _series(endpoint: str, method: str, status: int, poll_kind: str | None):
    """The labelled series of one kind of answer, looked up once (every poll counts one)."""
    return (
        REQUESTS.labels(endpoint, method, str(status)),
        LATENCY.labels(endpoint),
        POLLS.labels(poll_kind, "unchanged" if status == 304 else "changed")
        if poll_kind is not None
        else None,
    )


def init_metrics(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.after_request
    def _count(response):
        endpoint = request.endpoint or "unmatched"
        if endpoint == "metrics.metrics":
            return response
        # The request's one clock, started by app/request_log.py (registered before this).
        started = g.get("request_started")
        polled = request.method == "GET" and bool(request.if_none_match)
        count_request(
            endpoint,
            request.method,
            response.status_code,
            time.perf_counter() - started if started is not None else None,
            POLL_KINDS.get(request.blueprint or "", "staff") if polled else None,
        )
        checked = CODE_ENDPOINTS.get(endpoint)
        if checked is not None and request.method == checked[1]:
            if response.status_code == 429:
                CODE_REFUSALS.labels(checked[0], "budget").inc()
            elif response.status_code in checked[2]:
                CODE_REFUSALS.labels(checked[0], "wrong").inc()
        return response
