"""staff language preference (issue 17): Chinese by default, English on request

Revision ID: e3f1a2b4c5d6
Revises: d9a4b6c2e815
Create Date: 2026-12-02 16:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e3f1a2b4c5d6"
down_revision = "d9a4b6c2e815"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("language")
