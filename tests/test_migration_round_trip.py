"""Every migration upgrades and downgrades cleanly (issue 18, deliverable 6): on a fresh database
of its own, upgrade to head one revision at a time, downgrade one at a time to base, then upgrade
again. Going down, the schema at each revision must be the one seen there going up (a downgrade
that forgets an index, a constraint or a column shows), base must leave nothing behind (on
PostgreSQL: no table, type, sequence or function, the classic leftover being an enum type), and
the schema built the second time must match the models.

Both passes run it: on SQLite the migrations use batch mode (render_as_batch), which rebuilds a
table to drop or alter a column.
"""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from app import create_app, db
from tests.conftest import ON_POSTGRES


def _revisions_base_to_head() -> list[str]:
    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, f"more than one head: {script.get_heads()}"
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _schema(engine) -> dict:
    """What a downgrade must put back: every table's columns, keys, indexes and constraints."""
    inspector = sa.inspect(engine)
    snapshot = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (uq["name"], tuple(uq["column_names"]))
                for uq in inspector.get_unique_constraints(table)
            ),
            "checks": sorted(
                (ck["name"], " ".join(ck["sqltext"].split()))
                for ck in inspector.get_check_constraints(table)
            ),
        }
    return snapshot


def _postgres_leftovers(engine) -> dict:
    queries = {
        "types": "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        " WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c')"
        " AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')",
        "sequences": "SELECT c.relname FROM pg_class c JOIN pg_namespace n"
        " ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'S'",
        "functions": "SELECT p.proname FROM pg_proc p JOIN pg_namespace n"
        " ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
    }
    with engine.connect() as conn:
        return {kind: sorted(conn.execute(sa.text(sql)).scalars()) for kind, sql in queries.items()}


@pytest.fixture
def fresh_database(config_class, tmp_path):
    """A database of this test's own: the shared test database stays at head for the others."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'round-trip.db'}"
        return
    url = sa.make_url(config_class.SQLALCHEMY_DATABASE_URI)
    name = f"{url.database}_round_trip_{os.getpid()}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_every_migration_upgrades_and_downgrades_cleanly(config_class, fresh_database):
    config = type("RoundTripConfig", (config_class,), {"SQLALCHEMY_DATABASE_URI": fresh_database})
    app = create_app(config)
    with app.app_context():
        engine = db.engine
        revisions = _revisions_base_to_head()
        assert _schema(engine) == {}

        seen_going_up = {}
        for revision in revisions:
            upgrade(revision=revision)
            seen_going_up[revision] = _schema(engine)

        # Walk down: each step lands on the revision before and must look as it did going up.
        for index in range(len(revisions) - 1, 0, -1):
            downgrade(revision=revisions[index - 1])
            assert _schema(engine) == seen_going_up[revisions[index - 1]], (
                f"downgrading {revisions[index]} did not restore {revisions[index - 1]}"
            )
        downgrade(revision="base")
        assert _schema(engine) == {}, "base left tables behind"
        if engine.dialect.name == "postgresql":
            assert _postgres_leftovers(engine) == {"types": [], "sequences": [], "functions": []}

        upgrade()
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        assert _schema(engine) == seen_going_up[revisions[-1]]
        db.session.remove()
        engine.dispose()
