"""retention settings per exam, review hold per candidate (issue 18, Deliver 3)

Revision ID: f4a7c2d9e1b3
Revises: e3f1a2b4c5d6
Create Date: 2026-12-03 09:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

import app.timeutil

# revision identifiers, used by Alembic.
revision = "f4a7c2d9e1b3"
down_revision = "e3f1a2b4c5d6"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, no default: an existing exam keeps everything until the exam office sets days.
    with op.batch_alter_table("exam", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retain_recordings_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retain_id_photos_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retain_evidence_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("review_hold_at", app.timeutil.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("review_hold_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("review_closed_at", app.timeutil.UTCDateTime(), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_column("review_closed_at")
        batch_op.drop_column("review_hold_reason")
        batch_op.drop_column("review_hold_at")
    with op.batch_alter_table("exam", schema=None) as batch_op:
        batch_op.drop_column("retain_evidence_days")
        batch_op.drop_column("retain_id_photos_days")
        batch_op.drop_column("retain_recordings_days")
