"""The migrations build exactly the schema the models describe (what `flask db check` checks)."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import db
from app.models import AuditEvent


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_the_audit_log_refuses_updates_and_deletes_in_the_orm(app):
    from app.models.audit import AppendOnlyViolation

    event = AuditEvent(kind="x", actor_type="system", data={})
    db.session.add(event)
    db.session.commit()
    event.kind = "y"
    with pytest.raises(AppendOnlyViolation):
        db.session.commit()
    db.session.rollback()
    db.session.delete(event)
    with pytest.raises(AppendOnlyViolation):
        db.session.commit()
    db.session.rollback()


def test_the_audit_log_refuses_raw_sql_deletes_on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    db.session.add(AuditEvent(kind="x", actor_type="system", data={}))
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text("DELETE FROM audit_event"))
    db.session.rollback()
