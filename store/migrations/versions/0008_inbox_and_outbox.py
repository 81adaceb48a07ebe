"""inbox of incoming updates and outbox of writes to the exchange

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'inbox',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('sender_id', sa.String(length=100), nullable=False),
        sa.Column('payload', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_sender_id', ['sender_id'], unique=False)
        batch_op.create_index('ix_inbox_status', ['status'], unique=False)
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('idempotency_key', sa.String(length=200), nullable=False),
        sa.Column('sender_id', sa.String(length=100), nullable=False),
        sa.Column('method', sa.String(length=40), nullable=False),
        sa.Column('arguments', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idempotency_key'),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_sender_id', ['sender_id'], unique=False)
        batch_op.create_index('ix_outbox_status', ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('outbox')
    op.drop_table('inbox')
