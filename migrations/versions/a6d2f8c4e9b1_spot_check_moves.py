"""spot-check moves counted on the candidate row (issue 20): the board and the room leave them out of their version

Revision ID: a6d2f8c4e9b1
Revises: f4c3e9a1b7d2
Create Date: 2026-12-04 02:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6d2f8c4e9b1'
down_revision = 'f4c3e9a1b7d2'
branch_labels = None
depends_on = None


def upgrade():
    # Zero for every row: versions so far include spot-check moves, which only shifts the
    # board's and the room's version once (one full render), never hides a change.
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spot_check_moves', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_column('spot_check_moves')
