"""Issue 14, finding 9: staff sign-in budgets per address and account, per address for all
accounts, and global; a browser that signed in before is not kept out by someone else's
failures (app/security/sign_in.py)."""

from app import db
from app.models import AuditEvent, Role
from tests.conftest import StaffActions, csrf_token_from, csrf_token_of
from tests.factories import gen_user

RIGHT = "correct horse battery"


def _login(client, username, password, address):
    token = csrf_token_from(client.get("/staff/login").get_data(as_text=True))
    return client.post(
        "/staff/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def _address(i: int) -> str:
    return f"198.51.{100 + i // 250}.{1 + i % 250}"


def _events(kind):
    return db.session.scalars(db.select(AuditEvent).filter_by(kind=kind)).all()


def test_one_guess_each_from_many_addresses_locks_the_account(app):
    """15 addresses x 1 guess were never refused: the account has a budget of its own."""
    gen_user("hr1", role=Role.HR)
    budget = 20  # STAFF_LOGIN_FAILURES_PER_ACCOUNT, "20 per 15 minutes"
    for i in range(budget):
        assert _login(app.test_client(), "hr1", f"guess{i}", _address(i)).status_code == 401
    locked = _login(app.test_client(), "hr1", RIGHT, _address(budget))
    assert locked.status_code == 429
    page = locked.get_data(as_text=True)
    assert "该账号" in page and "锁定" in page
    assert "Retry-After" in locked.headers
    # Audited once, when the budget ran out (not at every refused attempt after it).
    _login(app.test_client(), "hr1", RIGHT, _address(budget + 1))
    events = _events("staff.login_locked")
    assert len(events) == 1 and events[0].data["username"] == "hr1"
    # A colleague's account is not affected.
    gen_user("hr2", role=Role.HR)
    assert _login(app.test_client(), "hr2", RIGHT, _address(budget + 2)).status_code == 302


def test_unknown_usernames_are_budgeted_like_accounts(app):
    """The answer must not tell a guesser which usernames exist."""
    for i in range(20):
        assert _login(app.test_client(), "nobody", f"g{i}", _address(i)).status_code == 401
    assert _login(app.test_client(), "nobody", "g", _address(30)).status_code == 429
    assert _login(app.test_client(), "NoBody ", "g", _address(31)).status_code == 429


def test_a_browser_that_signed_in_before_is_not_locked_out_by_an_attack(app):
    """Locking an account must not hand an attacker a way to keep its owner out."""
    gen_user("hr1", role=Role.HR)
    own = app.test_client()
    assert _login(own, "hr1", RIGHT, "192.0.2.10").status_code == 302
    StaffActions(own).logout()
    for i in range(25):
        _login(app.test_client(), "hr1", f"guess{i}", _address(i))
    assert _login(app.test_client(), "hr1", RIGHT, _address(40)).status_code == 429
    assert _login(own, "hr1", RIGHT, "192.0.2.10").status_code == 302
    # ... the device cookie names the account, not the browser: another account is not let in.
    gen_user("hr2", role=Role.HR)
    for i in range(20):
        _login(app.test_client(), "hr2", f"guess{i}", _address(i))
    StaffActions(own).logout()
    assert _login(own, "hr2", RIGHT, "192.0.2.10").status_code == 429


def test_a_shared_address_does_not_lock_out_a_colleague(app):
    """An exam office behind one NAT: one person's failures do not refuse another's password."""
    office = "203.0.113.50"
    for name in ("hr1", "hr2", "hr3"):
        gen_user(name, role=Role.HR)
    for _ in range(10):
        assert _login(app.test_client(), "hr1", "wrong", office).status_code == 401
    # hr1 is refused at this address (STAFF_LOGIN_FAILURES_PER_ADDRESS, per account) ...
    assert _login(app.test_client(), "hr1", RIGHT, office).status_code == 429
    # ... but hr2 and hr3, at the same address, sign in.
    assert _login(app.test_client(), "hr2", RIGHT, office).status_code == 302
    for _ in range(5):
        assert _login(app.test_client(), "hr3", "wrong", office).status_code == 401
    assert _login(app.test_client(), "hr3", RIGHT, office).status_code == 302


def test_spraying_from_one_address_is_refused_but_known_browsers_still_sign_in(app):
    office = "203.0.113.60"
    gen_user("hr1", role=Role.HR)
    gen_user("hr2", role=Role.HR)
    own = app.test_client()
    assert _login(own, "hr1", RIGHT, office).status_code == 302
    StaffActions(own).logout()
    for i in range(30):  # STAFF_LOGIN_FAILURES_PER_ADDRESS_TOTAL, "30 per minute"
        assert _login(app.test_client(), f"user{i}", "123456", office).status_code == 401
    refused = _login(app.test_client(), "hr2", RIGHT, office)
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    assert _login(own, "hr1", RIGHT, office).status_code == 302
    # Another address is not affected.
    assert _login(app.test_client(), "hr2", RIGHT, "192.0.2.77").status_code == 302


def test_spraying_from_many_addresses_meets_the_global_budget(app, monkeypatch):
    gen_user("hr1", role=Role.HR)
    monkeypatch.setitem(app.config, "STAFF_LOGIN_FAILURES_GLOBAL", "40 per minute")
    for i in range(40):
        assert _login(app.test_client(), f"user{i}", "123456", _address(i)).status_code == 401
    assert _login(app.test_client(), "hr1", RIGHT, _address(99)).status_code == 429


def test_admin_sees_a_locked_account_and_unlocks_it(app):
    admin = gen_user("admin1", role=Role.ADMIN)
    hr = gen_user("hr1", role=Role.HR)
    for i in range(20):
        _login(app.test_client(), "hr1", f"guess{i}", _address(i))
    client = app.test_client()
    assert _login(client, "admin1", RIGHT, "192.0.2.1").status_code == 302
    page = client.get("/admin/staff").get_data(as_text=True)
    assert "密码登录已锁定" in page
    assert admin.username in page
    response = client.post(
        f"/admin/staff/{hr.id}/unlock-sign-in", data={"csrf_token": csrf_token_of(client)}
    )
    assert response.status_code == 302
    assert "密码登录已锁定" not in client.get("/admin/staff").get_data(as_text=True)
    assert len(_events("staff.login_unlocked")) == 1
    assert _login(app.test_client(), "hr1", RIGHT, _address(50)).status_code == 302


def test_a_redis_outage_neither_locks_everyone_out_nor_lets_guessing_run(app, monkeypatch):
    import redis
    from limits.storage import MemoryStorage
    from limits.strategies import MovingWindowRateLimiter

    from app.security import sign_in

    gen_user("hr1", role=Role.HR)
    calls = []

    def down(*args, **kwargs):
        calls.append(args)
        raise redis.ConnectionError("down")

    monkeypatch.setattr(sign_in, "_shared", lambda: _Broken(down))
    monkeypatch.setattr(sign_in, "_memory", MovingWindowRateLimiter(MemoryStorage()))
    assert _login(app.test_client(), "hr1", RIGHT, "192.0.2.5").status_code == 302
    for i in range(20):
        _login(app.test_client(), "hr1", f"guess{i}", _address(i))
    assert _login(app.test_client(), "hr1", RIGHT, _address(60)).status_code == 429
    # Every budget asked Redis first and counted in memory when it failed (that a hung Redis
    # costs one timeout, not one per budget, is the connection breaker's: test_redis_faults.py).
    assert calls


class _Broken:
    def __init__(self, fail):
        self.hit = self.test = self.clear = self.get_window_stats = fail
