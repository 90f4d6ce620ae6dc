"""Budgets on guessing staff passwords, and the browsers that are exempt from most of them.

Four budgets count failed passwords only (a right password costs nothing), in moving windows in
Redis shared by every worker and node:

- per address and account (STAFF_LOGIN_FAILURES_PER_ADDRESS): someone mistyping, or a guesser
  on one machine. It refuses that account at that address only, so a colleague behind the same
  NAT (an exam office) still signs in.
- per address, all accounts (STAFF_LOGIN_FAILURES_PER_ADDRESS_TOTAL): one machine trying one
  password on many accounts.
- per account, all addresses (STAFF_LOGIN_FAILURES_PER_ACCOUNT): many machines on one account,
  one guess each. The account's password sign-in is locked while it lasts (audited once, shown
  on the admin page, which can lift it).
- global (STAFF_LOGIN_FAILURES_GLOBAL): many machines spraying many accounts.

Any of the last three would let an attacker keep staff out on an exam morning. So a browser that
signed in to an account before carries a signed device cookie for it (the OWASP "device
cookie"), and for that account it meets only the first budget. A guesser has no such cookie.

The budgets are checked before the password is: a refused attempt says nothing about whether
its password was right. If Redis is down, each process counts in its own memory instead.
"""

import time
from dataclasses import dataclass

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter
from werkzeug.wrappers import Response

from app.refusals import Refused
from app.security.limits import client_address, limiter

PREFIX = "ir-limit/staff-login"
DEVICE_COOKIE = "ir_staff_device"
DEVICE_COOKIE_DAYS = 60
DEVICE_ACCOUNTS = 8  # a shared office PC remembers this many accounts

_memory = MovingWindowRateLimiter(MemoryStorage())


@dataclass(frozen=True)
class Budget:
    config: str  # the config variable holding its limit
    exempts_known_browsers: bool

    def item(self) -> RateLimitItem:
        return parse(current_app.config[self.config])


PER_ADDRESS = Budget("STAFF_LOGIN_FAILURES_PER_ADDRESS", False)
PER_ADDRESS_TOTAL = Budget("STAFF_LOGIN_FAILURES_PER_ADDRESS_TOTAL", True)
PER_ACCOUNT = Budget("STAFF_LOGIN_FAILURES_PER_ACCOUNT", True)
GLOBAL = Budget("STAFF_LOGIN_FAILURES_GLOBAL", True)


def account_key(username: str) -> str:
    """One counter per spelling a user could mean: "HR1 " and "hr1" are the same guesses."""
    return username.strip().lower()[:64]


def _keys(username: str) -> list[tuple[Budget, tuple[str, ...]]]:
    address, account = client_address(), account_key(username)
    return [
        (PER_ADDRESS, ("address-account", address, account)),
        (PER_ADDRESS_TOTAL, ("address", address)),
        (PER_ACCOUNT, ("account", account)),
        (GLOBAL, ("all",)),
    ]


def _shared() -> RateLimiter:
    return limiter.limiter


def _call(method: str, item: RateLimitItem, *keys: str):
    """Redis first; if it does not answer, this process's own memory (not: everyone in). A hung
    Redis costs one timeout: the connection's breaker (app/redis_conn.py) then refuses at once
    until its next trial, so no extra timer is kept here."""
    try:
        return getattr(_shared(), method)(item, PREFIX, *keys)
    except Exception:  # redis.ConnectionError, TimeoutError, BreakerOpen: counted here instead
        current_app.logger.warning("sign-in budgets: Redis unreachable, counting in memory")
    return getattr(_memory, method)(item, PREFIX, *keys)


@dataclass(frozen=True)
class Spent:
    refused: Refused  # what the sign-in page says
    retry_after: int  # seconds


def _refused(budget: Budget) -> Refused:
    if budget is PER_ACCOUNT:
        return Refused("sign_in_account_locked", minutes=lock_minutes())
    if budget is GLOBAL:
        return Refused("sign_in_busy")
    return Refused("sign_in_too_many")


def spent_budget(username: str, known_browser: bool) -> Spent | None:
    """The budget that refuses this attempt, before its password is looked at; None if none."""
    for budget, keys in _keys(username):
        if known_browser and budget.exempts_known_browsers:
            continue
        item = budget.item()
        if not _call("test", item, *keys):
            stats = _call("get_window_stats", item, *keys)
            return Spent(_refused(budget), max(1, int(stats.reset_time - time.time())))
    return None


def count_failure(username: str) -> bool:
    """Charge a wrong password to every budget; True if this failure locked the account."""
    locked_now = False
    for budget, keys in _keys(username):
        item = budget.item()
        was_open = budget is PER_ACCOUNT and _call("test", item, *keys)
        _call("hit", item, *keys)
        if was_open and not _call("test", item, *keys):
            locked_now = True
    return locked_now


def account_locked(username: str) -> bool:
    return not _call("test", PER_ACCOUNT.item(), "account", account_key(username))


def unlock_account(username: str) -> None:
    _call("clear", PER_ACCOUNT.item(), "account", account_key(username))


def lock_minutes() -> int:
    item = PER_ACCOUNT.item()
    return max(1, item.get_expiry() // 60)


# --- the device cookie --------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="staff-device")


def known_accounts() -> list[int]:
    """The accounts that signed in from this browser before (signed, so not forgeable)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        ids = _serializer().loads(raw, max_age=DEVICE_COOKIE_DAYS * 86400)
    except BadSignature:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def remember_browser(response: Response, user_id: int) -> None:
    ids = [user_id] + [i for i in known_accounts() if i != user_id]
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(ids[:DEVICE_ACCOUNTS]),
        max_age=DEVICE_COOKIE_DAYS * 86400,
        path="/staff/login",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
