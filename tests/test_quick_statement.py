"""The unchanged poll's one statement sent on the driver's own cursor (app/quick_statement.py):
the same row as SQLAlchemy's execution gives, seen by the statement listeners, and the pooled
connection handed back as the ORM expects it, whatever happened."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app import db
from app.day import poll
from app.models import Candidate, CandidateResult
from app.quick_statement import QuickStatement
from app.timeutil import utcnow
from tests.conftest import ON_POSTGRES
from tests.factories import World


@pytest.fixture
def world(app):
    return World()


def _by_sqlalchemy(statement, candidate_id: int) -> tuple:
    with db.engine.connect() as conn:
        return tuple(conn.execute(statement, {"candidate_id": candidate_id}).one())


def test_the_row_is_sqlalchemy_s_own_datetimes_scores_and_counts_included(world):
    ahead, c = world.candidates[:2]
    for lot, who in enumerate((ahead, c), start=1):
        world.to_waiting(who)
        db.session.get(Candidate, who.id).lot_number = lot
    row = db.session.get(Candidate, c.id)
    row.deadline_at = utcnow() + timedelta(minutes=5)
    db.session.add(CandidateResult(candidate_id=c.id, final_score=Decimal("87.25")))
    db.session.commit()

    for statement in (poll._STATEMENT, poll._STATEMENT_WITH_EXTRAS):
        quick = QuickStatement(statement).one_or_none(db.engine, {"candidate_id": c.id})
        assert quick == _by_sqlalchemy(statement, c.id)
    view = poll.read_poll_view(c.id, with_extras=True)
    assert view.deadline_at.tzinfo is not None  # aware, as UTCDateTime hands them back
    assert view.ahead == 1
    assert Decimal("87.25") in view.extras


def test_no_row_is_none(world):
    assert QuickStatement(poll._STATEMENT).one_or_none(db.engine, {"candidate_id": -1}) is None


def test_the_statement_listeners_see_it_once(world):
    candidate_id, seen = world.candidates[0].id, []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        poll.read_poll_view(candidate_id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("SELECT")


@pytest.fixture
def one_connection(app):
    """An engine whose pool holds exactly one connection: what the quick read hands back is
    what the next user gets."""
    engine = sa.create_engine(db.engine.url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.mark.skipif(not ON_POSTGRES, reason="psycopg's own cursor: PostgreSQL")
def test_the_connection_goes_back_in_transaction_mode(world, one_connection):
    c = world.candidates[0]
    assert QuickStatement(poll._STATEMENT).one_or_none(one_connection, {"candidate_id": c.id})
    with one_connection.connect() as conn:
        assert conn.connection.driver_connection.autocommit is False
        # A write and its rollback: nothing of it stays, as on any pooled connection.
        conn.execute(sa.text("UPDATE candidate SET name = 'x' WHERE id = :id"), {"id": c.id})
        conn.rollback()
    assert db.session.get(Candidate, c.id).name != "x"


@pytest.mark.skipif(not ON_POSTGRES, reason="kills a server process: PostgreSQL")
def test_a_connection_that_died_raises_sqlalchemy_s_error_and_is_replaced(world, one_connection):
    """The lane falls back to Flask on SQLAlchemy's errors (the 503 page); the dead
    connection must not stay in the pool for the next poll."""
    c = world.candidates[0]
    quick = QuickStatement(poll._STATEMENT)
    with one_connection.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    with db.engine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(sa.exc.DBAPIError):
        quick.one_or_none(one_connection, {"candidate_id": c.id})
    assert quick.one_or_none(one_connection, {"candidate_id": c.id})[0] == c.id
    with one_connection.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid


def test_a_server_away_is_sqlalchemy_s_error(world):
    engine = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/none"
        if ON_POSTGRES
        else "sqlite:////nonexistent/folder/x.db"
    )
    try:
        with pytest.raises(sa.exc.DBAPIError):
            QuickStatement(poll._STATEMENT).one_or_none(engine, {"candidate_id": 1})
    finally:
        engine.dispose()
