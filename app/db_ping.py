"""Ping a pooled PostgreSQL connection before use only when it has sat idle.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` on every checkout: one more round trip for every
request, which on an exam day is most of what an unchanged poll costs the database and a good
part of what it costs the app (the bench's held load spends as long in the ping as in the
poll's one SELECT). What the ping is for is a connection that died while it sat in the pool
(PostgreSQL restarted, a failover, a firewall dropping idle connections). A connection used a
moment ago was alive a moment ago; if the server went away since, the first statement that
fails on any connection invalidates the whole pool (SQLAlchemy's disconnect handling), so every
later checkout connects afresh. So the ping is kept for connections idle longer than
`IDLE_SECONDS`, and skipped for the busy ones, which is every one of them under load.

A failed ping raises `DisconnectionError`, on which the pool discards that connection and
checks out another (SQLAlchemy's documented custom pessimistic ping).
"""

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

IDLE_SECONDS = 1.0
_CHECKED_IN = "ir_checked_in_at"


def ping_when_idle(engine: Engine, idle_seconds: float = IDLE_SECONDS) -> None:
    """Install the idle-only ping on `engine` (which must not also have pool_pre_ping)."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _fresh(dbapi_connection, record) -> None:
        record.info[_CHECKED_IN] = time.monotonic()  # a new connection needs no ping

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        if time.monotonic() - record.info.get(_CHECKED_IN, 0.0) <= idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(f"idle connection failed its ping: {error}") from error
