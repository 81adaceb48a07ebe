"""feedback idempotency key: feedback retried after a timeout is recorded once

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint('uq_feedback_idempotency_key', ['idempotency_key'])


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_constraint('uq_feedback_idempotency_key', type_='unique')
        batch_op.drop_column('idempotency_key')
