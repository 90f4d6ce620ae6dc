"""exam-day exceptions (issue 15): the schedule, frozen settings, overrides, score corrections

Revision ID: c5d8e1a7f310
Revises: b7c41f09e2d3
Create Date: 2026-12-02 08:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c5d8e1a7f310"
down_revision = "b7c41f09e2d3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("exam", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("login_lead_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("entry_cutoff_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("waiting_opens_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("confirm_opens_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("allow_early_finish", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("interviews_started_at", sa.DateTime(), nullable=True))
    # Exams from before the schedule start when their login opens (nothing gates on it for
    # them: their waiting room opens once debugged, as before).
    op.execute("UPDATE exam SET starts_at = login_opens_at WHERE starts_at IS NULL")
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reinstated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("requeued_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("candidate_result", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("corrected_from", sa.Numeric(precision=6, scale=2), nullable=True)
        )
        batch_op.add_column(sa.Column("corrected_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("candidate_result", schema=None) as batch_op:
        batch_op.drop_column("corrected_at")
        batch_op.drop_column("corrected_from")
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_column("requeued_at")
        batch_op.drop_column("reinstated_at")
    with op.batch_alter_table("exam", schema=None) as batch_op:
        batch_op.drop_column("interviews_started_at")
        batch_op.drop_column("allow_early_finish")
        batch_op.drop_column("confirm_opens_at")
        batch_op.drop_column("waiting_opens_minutes")
        batch_op.drop_column("entry_cutoff_minutes")
        batch_op.drop_column("login_lead_minutes")
        batch_op.drop_column("starts_at")
