"""handoff cases keep the need's domain (the volunteers' group is told it instead of the user's words)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoff_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('domain', sa.String(length=80), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('handoff_cases', schema=None) as batch_op:
        batch_op.drop_column('domain')
