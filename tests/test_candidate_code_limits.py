"""Code guessing: failures limited per address and across all addresses; counted for HR alerts."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from app import db
from app.models import AuditEvent
from app.security import code_alerts as code_guard
from app.timeutil import utcnow
from tests.candidate_client import CandidateBrowser
from tests.factories import gen_candidate, gen_exam


def test_failures_per_address_are_limited_with_a_chinese_429_on_the_code_page(app, client):
    gen_candidate(gen_exam(), code="123456")
    guesser = CandidateBrowser(client, "203.0.113.9")
    for guess in range(10):
        assert guesser.enter_code(f"{900000 + guess}").status_code == 400
    blocked = guesser.enter_code("123456")  # even the right code waits now
    html = blocked.get_data(as_text=True)
    assert (
        blocked.status_code == 429 and "邀请码输入错误次数过多" in html and "请输入邀请码" in html
    )
    assert 'name="code"' in html  # the form is still there
    guesser.enter_code("123456")
    limited = db.session.scalars(select(AuditEvent).filter_by(kind="candidate.code_limited")).all()
    assert (
        len(limited) == 1 and limited[0].data["scope"] == "address"
    )  # once a minute, not per request
    # someone else, elsewhere, signs in as usual
    assert (
        CandidateBrowser(app.test_client(), "198.51.100.1").enter_code("123456").status_code == 303
    )
    assert code_guard.recent_failures() == 10


def test_right_codes_cost_nothing(app, client):
    exam = gen_exam()
    for i in range(12):
        gen_candidate(exam, code=f"{200000 + i}", id_number=f"1101051990010100{i:02d}")
    browser = CandidateBrowser(client, "203.0.113.10")
    for i in range(12):
        assert browser.enter_code(f"{200000 + i}").status_code == 303
    assert code_guard.recent_failures() == 0


def test_the_global_budget_stops_guesses_spread_over_many_addresses(app):
    app.config["CODE_FAILURES_GLOBAL"] = "5 per minute"
    gen_candidate(gen_exam(), code="123456")
    for i in range(5):
        browser = CandidateBrowser(app.test_client(), f"203.0.113.{20 + i}")
        assert browser.enter_code("000000").status_code == 400
    fresh = CandidateBrowser(app.test_client(), "198.51.100.77")
    blocked = fresh.enter_code("000001")
    assert blocked.status_code == 429 and "系统已暂时限制邀请码登录" in blocked.get_data(
        as_text=True
    )
    limited = db.session.scalars(select(AuditEvent).filter_by(kind="candidate.code_limited")).one()
    assert limited.data["scope"] == "global"


def test_recent_failures_per_exam_and_the_spike_alert(app, client):
    now = utcnow()
    open_exam = gen_exam("开放中")
    later = gen_exam(
        "明天",
        login_opens_at=now + timedelta(days=1),
        login_closes_at=now + timedelta(days=1, hours=2),
    )
    gen_candidate(later, code="555555")
    browser = CandidateBrowser(client, "203.0.113.40")
    browser.enter_code("555555")  # the later exam's code, before its window: attributed to it
    browser.enter_code("777777")  # matches nothing: aimed at every open exam
    browser.enter_code("12ab")  # malformed: counted for the site too
    assert code_guard.recent_failures() == 3
    assert code_guard.recent_failures(later.id) == 1  # its window is not open: only its own
    assert code_guard.recent_failures(open_exam.id) == 2
    assert not code_guard.failures_spiking()
    app.config["CODE_FAILURE_ALERT_THRESHOLD"] = 3
    assert code_guard.failures_spiking()
    with time_machine.travel(now + timedelta(minutes=6), tick=False):
        assert code_guard.recent_failures() == 0  # the window has moved on
    refused = db.session.scalars(select(AuditEvent).filter_by(kind="candidate.code_refused")).all()
    assert {e.data["address"] for e in refused} == {"203.0.113.40"}
    assert [e.exam_id for e in refused] == [later.id, None, None]


def test_the_poll_and_the_pulse_skip_the_limiter_and_the_code_page_does_not(app, monkeypatch):
    """The two requests every page sends every 2 s carry no limit: Flask-Limiter is told so up
    front instead of walking its limits for each (app/security/limits.py)."""
    from app.security.limits import limiter

    walked = []
    real = limiter.limit_manager.resolve_limits
    monkeypatch.setattr(
        limiter.limit_manager,
        "resolve_limits",
        lambda app_, endpoint, *rest: walked.append(endpoint) or real(app_, endpoint, *rest),
    )
    client = app.test_client()
    client.get("/me/state?stage=invited", headers={"HX-Request": "true"})
    client.get("/pulse/1/1/x")
    assert walked == []
    client.get("/")
    assert walked and walked[0] == "candidate.index"
