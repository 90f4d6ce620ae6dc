"""Limits on guessing invitation codes (staff passwords: app/security/sign_in.py).

A 6-digit code is identifier and secret at once, and one guess is tried against every live code:
with 2,000 candidates signed up, one guess in 500 hits someone. So failures are counted per
client address (a person mistyping is not punished: only failures count) AND globally across
all addresses (a botnet cannot spread its guesses thin). Counters live in Redis, shared by every
gunicorn worker and node; if Redis is down each process falls back to its own memory rather than
letting everyone in or locking everyone out.
"""

from flask import Flask, current_app, request
from flask_limiter import Limiter

from app.redis_conn import breaker_pool, redis_url


def client_address() -> str:
    # Behind nginx, ProxyFix (PROXY_COUNT) has already put the real client here.
    return request.remote_addr or "unknown"


def everyone() -> str:
    return "all-clients"


def failed(response) -> bool:
    """Only refusals count against the budget: a right code or password costs nothing."""
    return response.status_code in (400, 401)


limiter = Limiter(
    key_func=client_address,
    key_prefix="ir-limit",
    in_memory_fallback_enabled=True,
    swallow_errors=True,
    headers_enabled=True,
)


# The 2-second poll and the pulse carry no limit of their own (a signed-in read, a cached
# answer): skipping Flask-Limiter's walk through every limit that could apply is a tenth of
# what an unchanged poll costs the app (the bench's held load is mostly these two).
UNLIMITED_ENDPOINTS = frozenset({"candidate.state", "candidate.pulse"})


@limiter.request_filter
def _not_limited() -> bool:
    return request.endpoint in UNLIMITED_ENDPOINTS


def storage_uri(url: str) -> str:
    return "redis+unix://" + url[len("unix://") :] if url.startswith("unix://") else url


def init_rate_limits(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(redis_url(app)))
    # A moving window: with fixed windows a guesser gets twice the budget across a boundary
    # (10 at 12:00:59, 10 more at 12:01:00), and "10 per minute" would not mean what it says.
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        # The app's short timeouts, no retries and a breaker (app/redis_conn.py): with Redis
        # hung, Flask-Limiter's fallback to memory and its periodic re-checks cost nothing.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"connection_pool": breaker_pool(app)})
    limiter.init_app(app)


def code_limit_per_address() -> str:
    return current_app.config["CODE_FAILURES_PER_ADDRESS"]


def code_limit_global() -> str:
    return current_app.config["CODE_FAILURES_GLOBAL"]
