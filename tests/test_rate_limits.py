"""Guessing limits: only failures count, per address and (for codes) across all addresses."""

from app.models import Role
from tests.conftest import csrf_token_from
from tests.factories import gen_user


def _login(client, password, address="198.51.100.7"):
    token = csrf_token_from(client.get("/staff/login").get_data(as_text=True))
    return client.post(
        "/staff/login",
        data={"username": "hr1", "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_staff_sign_in_failures_are_limited_per_address(app, client):
    gen_user("hr1", role=Role.HR)
    for _ in range(10):
        assert _login(client, "wrong").status_code == 401
    blocked = _login(client, "correct horse battery")
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.get_data(as_text=True)
    # another address is not affected
    assert _login(app.test_client(), "correct horse battery", "203.0.113.5").status_code == 302


def test_successful_sign_ins_cost_nothing(app, client):
    gen_user("hr1", role=Role.HR)
    for _ in range(12):
        assert _login(client, "correct horse battery").status_code == 302
        client.post(
            "/staff/logout",
            data={"csrf_token": csrf_token_from(client.get("/hr/exams").get_data(as_text=True))},
        )


def test_the_budget_is_a_moving_minute_not_a_clock_minute(app, client):
    """Failures just before and just after a minute boundary add up (a fixed window would
    hand a guesser a fresh budget at hh:mm:00)."""
    from datetime import UTC, datetime

    import time_machine

    gen_user("hr1", role=Role.HR)
    with time_machine.travel(datetime(2026, 11, 23, 12, 0, 50, tzinfo=UTC), tick=False):
        for _ in range(9):
            assert _login(client, "wrong").status_code == 401
    with time_machine.travel(datetime(2026, 11, 23, 12, 1, 5, tzinfo=UTC), tick=False):
        assert _login(client, "wrong").status_code == 401
        assert _login(client, "correct horse battery").status_code == 429
    with time_machine.travel(datetime(2026, 11, 23, 12, 2, 6, tzinfo=UTC), tick=False):
        assert _login(client, "correct horse battery").status_code == 302
