"""Fail closed: a production start with a missing or unsafe setting refuses, naming each one.

Production is the default. Only two things say otherwise: `INTERVIEW_ROOM_ENV=development`, which
`make run` (app/devserver.py) sets for itself and the processes it starts, and a config with
`TESTING` (the test suite). Before this, a production node without DATABASE_URL quietly wrote to
SQLite in instance/, one without REDIS_URL started its own embedded Redis (so the nodes shared no
rate limits, no queue and no poll versions), one without SECRET_KEY made a key of its own (so a
candidate's session died when the load balancer sent her to another node), and one without
JITSI_DOMAIN put candidates into public meet.jit.si rooms with no token.

The web server (gunicorn, `flask run`) and the worker (`flask worker` calls `enforce` itself)
refuse; other `flask` commands, run by an operator at a terminal (`flask db upgrade`, `flask jitsi
check`), only warn when the app is made, so that they can still explain or prepare.
"""

import os
import sys
from collections.abc import Mapping

import click

from app.jitsi.tokens import ConfigError, JitsiSettings
from app.recordings.clock import is_time_zone

ENVIRONMENT_VARIABLE = "INTERVIEW_ROOM_ENV"
DEVELOPMENT = "development"
MIN_SECRET_KEY_BYTES = 32


def is_production(config: Mapping[str, object]) -> bool:
    if config.get("TESTING"):
        return False
    return os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower() != DEVELOPMENT


def problems(config: Mapping[str, object], environ: Mapping[str, str] = os.environ) -> list[str]:
    """One line per missing or unsafe setting, named as the operator sets it."""
    found = []
    database = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if not environ.get("DATABASE_URL"):
        found.append("DATABASE_URL is not set: production runs on PostgreSQL (postgresql://...)")
    elif not database.startswith("postgresql"):
        found.append("DATABASE_URL must name a PostgreSQL database (postgresql://...)")
    if not config.get("REDIS_URL"):
        found.append("REDIS_URL is not set: every node must share one Redis (redis://...)")
    secret = str(config.get("SECRET_KEY") or "")
    if not secret:
        found.append(
            f"SECRET_KEY is not set: the same random value of at least {MIN_SECRET_KEY_BYTES}"
            " bytes on every node (e.g. `openssl rand -hex 32`)"
        )
    elif len(secret.encode()) < MIN_SECRET_KEY_BYTES:
        found.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes")
    jitsi = JitsiSettings.from_config(config)
    if not jitsi.secured and not _bool(environ.get("JITSI_ALLOW_PUBLIC")):
        found.append(
            "JITSI_DOMAIN is not set: calls would go to the public meet.jit.si without tokens"
            " (set JITSI_DOMAIN and JITSI_APP_ID/JITSI_APP_SECRET, or JITSI_ALLOW_PUBLIC=1 to"
            " accept that)"
        )
    else:
        try:
            jitsi.validate()
        except ConfigError as error:
            found.append(str(error))
    zone = config.get("JIBRI_TIMEZONE")
    if zone and not is_time_zone(str(zone)):
        found.append(
            f"JIBRI_TIMEZONE={zone} is not a time zone name (e.g. Asia/Shanghai, UTC): recordings"
            " could not be linked to candidates"
        )
    if not config.get("JIBRI_WEBHOOK_SECRET"):
        found.append(
            "JIBRI_WEBHOOK_SECRET is not set: recordings' finalize notices could not be checked"
        )
    return found


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def check_at_start(config: Mapping[str, object]) -> None:
    """Called by create_app: refuse under gunicorn and `flask run`, warn under other commands."""
    if not is_production(config):
        return
    found = problems(config)
    if not found:
        return
    ctx = click.get_current_context(silent=True)
    # Commands the app registers (db, worker...) make the app while `flask` itself is resolving
    # them, so the context there is the group's: only `run` is known by name at this point.
    if ctx is not None and ctx.info_name != "run":
        for line in found:
            click.echo(f"warning: {line} (the web server would refuse to start)", err=True)
        return
    _refuse(found)


def enforce(config: Mapping[str, object]) -> None:
    """For a serving command: refuse outright, whatever the command line."""
    if is_production(config):
        found = problems(config)
        if found:
            _refuse(found)


def _refuse(found: list[str]) -> None:
    sys.stderr.write(
        "Interview Room refuses to start in production with these settings"
        f" ({ENVIRONMENT_VARIABLE}=development is for `make run` only):\n"
    )
    for line in found:
        sys.stderr.write(f"  {line}\n")
    sys.stderr.flush()
    raise SystemExit(2)
