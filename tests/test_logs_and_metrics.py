"""Issue 18, Deliver 2: request ids on every line and in the response, JSON lines on request,
unchanged polls at DEBUG, and Prometheus metrics at /metrics for the allowed only."""

import io
import json
import logging
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import __version__, db
from app.models import Call, Recording
from app.models.candidate import CandidateState as S
from app.request_log import configure_logging
from app.timeutil import utcnow
from tests.candidate_client import CandidateBrowser
from tests.conftest import csrf_token_from, signed_in_staff
from tests.factories import gen_candidate, gen_exam, gen_user


@pytest.fixture
def log_lines():
    """The app's log as JSON lines, for one test; the root logger is put back afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)

    def read(level_name: str | None = None) -> list[dict]:
        lines = [json.loads(line) for line in stream.getvalue().splitlines() if line]
        return [x for x in lines if level_name is None or x["level"] == level_name]

    read.stream = stream
    yield read
    root.handlers[:] = handlers
    root.setLevel(level)


def test_every_response_names_its_request_id_and_a_sane_incoming_one_is_kept(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    assert client.get("/healthz", headers={"X-Request-ID": "nginx-0123abcd"}).headers[
        "X-Request-ID"
    ] == ("nginx-0123abcd")
    for insane in ("<script>alert(1)</script>", "x" * 200, "short"):
        echoed = client.get("/healthz", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert echoed != insane and len(echoed) == 32


def test_json_lines_carry_the_request_id_and_the_staff_id(app, log_lines):
    user = gen_user("hr")
    hr = signed_in_staff(app, "hr")
    answer = hr.get("/hr/exams")
    line = next(x for x in log_lines("INFO") if x.get("path") == "/hr/exams")
    assert line["request_id"] == answer.headers["X-Request-ID"]
    assert line["staff_id"] == user.id and line["candidate_id"] == "-"
    assert line["method"] == "GET" and line["status"] == 200 and line["logger"] == "app.requests"
    assert line["message"].startswith("GET /hr/exams 200 ")


def test_unchanged_polls_are_debug_and_the_candidate_is_named(app, client, log_lines):
    exam = gen_exam()
    candidate = gen_candidate(exam, state=S.CONFIRMED)
    browser = CandidateBrowser(client)
    browser.enter_code(candidate.code)
    etag = browser.poll("confirmed").headers["ETag"].strip('"')
    assert browser.poll("confirmed", etag).status_code == 304
    info = [x for x in log_lines("INFO") if x.get("path") == "/me/state"]
    assert [x["status"] for x in info] == [200]  # the 304 is not at INFO
    assert info[0]["candidate_id"] == candidate.id
    logging.getLogger().setLevel("DEBUG")
    response = browser.poll("confirmed", etag)
    (line,) = [x for x in log_lines("DEBUG") if x.get("path") == "/me/state"]
    # Answered by the poll's own lane (app/day/poll_lane.py), named all the same.
    assert line["status"] == 304 and line["endpoint"] == "candidate.state"
    assert line["candidate_id"] == candidate.id
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_text_lines_by_default(app, client):
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        configure_logging("text", "INFO", stream)
        configure_logging("text", "INFO", stream)  # again: replaced, never doubled
        request_id = client.get("/healthz").headers["X-Request-ID"]
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    lines = [line for line in stream.getvalue().splitlines() if "/healthz" in line]
    assert len(lines) == 1 and f"[{request_id} staff=- candidate=-]" in lines[0]


def _scrape(client, **kw) -> dict:
    answer = client.get("/metrics", **kw)
    assert answer.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_are_served_to_loopback_or_the_token_and_hidden_from_everyone_else(app, client):
    outside = {"REMOTE_ADDR": "203.0.113.5"}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    assert _scrape(client)  # the test client is 127.0.0.1
    app.config["METRICS_TOKEN"] = "t" * 32
    try:
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", environ_base=outside, headers=wrong).status_code == 404
        right = {"Authorization": "Bearer " + "t" * 32}
        assert _scrape(client, environ_base=outside, headers=right)
        app.config["METRICS_ALLOW"] = "203.0.113.0/24"
        assert _scrape(client, environ_base=outside)
    finally:
        app.config["METRICS_TOKEN"] = app.config["METRICS_ALLOW"] = None


def test_metrics_count_requests_polls_code_refusals_and_read_the_day(app, client):
    exam = gen_exam()
    waiting = gen_candidate(exam, state=S.CONFIRMED)
    gen_candidate(exam, state=S.CONFIRMED)
    db.session.add(
        Call(
            candidate_id=waiting.id,
            kind="debug",
            room="r",
            accept_by=utcnow() - timedelta(seconds=1),
            outcome="lapsed",
        )
    )
    db.session.add(
        Recording(
            room="r",
            session_folder="s",
            file_name="f.mp4",
            expected_size=1,
            expected_sha256="0" * 64,
            status="failed",
        )
    )
    db.session.commit()
    before = _scrape(client)
    page = client.get("/").get_data(as_text=True)
    assert client.post(
        "/", data={"code": "000000", "csrf_token": csrf_token_from(page)}
    ).status_code in (400, 401)
    browser = CandidateBrowser(client)
    browser.enter_code(waiting.code)
    etag = browser.poll("confirmed").headers["ETag"].strip('"')
    assert browser.poll("confirmed", etag).status_code == 304
    after = _scrape(client)

    def grew(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("interview_room_code_refusals_total", code="invitation", reason="wrong") == 1
    assert grew("interview_room_polls_total", kind="candidate", outcome="unchanged") == 1
    assert (
        grew(
            "interview_room_requests_total", endpoint="candidate.state", method="GET", status="304"
        )
        == 1
    )
    assert (
        after[("interview_room_candidates", (("exam", str(exam.id)), ("state", S.CONFIRMED)))] == 2
    )
    assert after[("interview_room_call_lapses", (("exam", str(exam.id)),))] == 1
    assert after[("interview_room_recordings", (("status", "failed"),))] == 1
    assert after[("interview_room_redis_up", ())] == 1
    assert after[("interview_room_build_info", (("version", __version__),))] == 1
    assert ("interview_room_rq_jobs", (("queue", app.config["RQ_QUEUE"]),)) in after
    assert any(name == "interview_room_request_duration_seconds_bucket" for name, _ in after)


def test_the_sample_grafana_dashboard_asks_only_for_series_the_app_exports(app, client):
    import re
    from pathlib import Path

    dashboard = json.loads(
        (Path(__file__).resolve().parents[1] / "deploy/grafana/interview-room.json").read_text()
    )
    text = client.get("/metrics").get_data(as_text=True)
    exported = {family.name for family in text_string_to_metric_families(text)}
    exported |= {name for name, _ in _scrape(client)}
    asked = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            asked |= set(re.findall(r"interview_room_[a-z_]+", target["expr"]))
    assert asked and asked <= exported | {n + "_total" for n in exported}, asked - exported
