"""A pooled connection is pinged before use only after sitting idle (app/db_ping.py).

The busy exam day: back-to-back requests send no `SELECT 1` between them. The quiet hour: a
connection that died in the pool (killed on the server, as a restart or failover does) is
pinged, found dead and replaced before the request uses it, so nobody sees an error.
"""

import pytest
import sqlalchemy as sa

from app import db
from app.db_ping import _CHECKED_IN
from tests.conftest import ON_POSTGRES


@pytest.fixture
def pings(app, monkeypatch):
    engine = db.engine
    count = {"n": 0}
    real = engine.dialect.do_ping

    def counting(dbapi_connection):
        count["n"] += 1
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return count


def _idle_for(connection, seconds: float) -> None:
    """Make the pool believe `connection` (checked out now) was checked in `seconds` ago."""
    record = connection.connection._connection_record
    connection.close()
    record.info[_CHECKED_IN] -= seconds


def test_no_pre_ping_option_left_on_the_engine(app):
    assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert db.engine.pool._pre_ping is False


def test_back_to_back_checkouts_send_no_ping(app, pings):
    for _ in range(20):
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    assert pings["n"] == 0


def test_a_connection_idle_longer_than_the_limit_is_pinged(app, pings):
    conn = db.engine.connect()
    _idle_for(conn, 5)
    with db.engine.connect() as again:
        assert again.execute(sa.text("SELECT 1")).scalar() == 1
    assert pings["n"] == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="kills a server process: PostgreSQL")
def test_a_connection_killed_while_idle_is_replaced_before_use(app):
    """PostgreSQL ends the pooled connection's backend (as a restart does to all of them);
    the next request's checkout pings it, finds it dead, and gets a live one instead."""
    db.engine.dispose()
    conn = db.engine.connect()
    pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    other = db.engine.connect()  # a second pooled connection does the killing
    _idle_for(conn, 5)
    other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.close()
    for _ in range(3):  # both pooled connections, whichever comes first
        with db.engine.connect() as fresh:
            assert fresh.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid


def test_a_request_after_a_quiet_while_on_a_dead_connection_succeeds(app):
    """The same through a whole request: the page answers, no 500, no 503."""
    db.engine.dispose()  # the pool holds this one connection only
    conn = db.engine.connect()
    dbapi = conn.connection.dbapi_connection
    _idle_for(conn, 5)
    dbapi.close()  # dead underneath the pool, as after a restart the pool did not see
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
