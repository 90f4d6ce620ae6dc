"""live supervision (issue 16): waiting-room recording, phone check, signal counts, 巡考

Revision ID: d9a4b6c2e815
Revises: c5d8e1a7f310
Create Date: 2026-12-02 08:15:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d9a4b6c2e815"
down_revision = "c5d8e1a7f310"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("exam", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("record_waiting_room", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("second_camera_verified_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("switch_signals", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("takeovers", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "exam_supervisor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["exam_id"], ["exam.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exam_id", "user_id"),
    )
    with op.batch_alter_table("exam_supervisor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exam_supervisor_exam_id"), ["exam_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exam_supervisor_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("exam_supervisor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exam_supervisor_user_id"))
        batch_op.drop_index(batch_op.f("ix_exam_supervisor_exam_id"))
    op.drop_table("exam_supervisor")
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_column("takeovers")
        batch_op.drop_column("switch_signals")
        batch_op.drop_column("second_camera_verified_at")
    with op.batch_alter_table("exam", schema=None) as batch_op:
        batch_op.drop_column("record_waiting_room")
