"""outbox dead letters: writes the exchange refused, out of everyone's way

Why: a write the exchange could never take stayed in the outbox and the worker stopped at it on every pass,
so one person's bad write held up everybody's. Refused and unreadable answers now go to their own table,
with the reason, for an operator to list and retry. Entries the old worker had marked 'rejected' (their
content already cleared) move there too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outbox_dead_letters',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('idempotency_key', sa.String(length=200), nullable=False),
        sa.Column('sender_id', sa.String(length=100), nullable=False),
        sa.Column('method', sa.String(length=40), nullable=False),
        sa.Column('arguments', sa.Text(), nullable=False),
        sa.Column('code', sa.String(length=60), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('dead_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idempotency_key'),
    )
    with op.batch_alter_table('outbox_dead_letters', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_dead_letters_sender_id', ['sender_id'], unique=False)
    op.execute(
        "INSERT INTO outbox_dead_letters (id, idempotency_key, sender_id, method, arguments, code, reason, attempts,"
        " created_at, dead_at) SELECT id, idempotency_key, sender_id, method, '[]', substr(last_error, 1, 60),"
        " last_error, attempts, created_at, created_at FROM outbox WHERE status = 'rejected'")
    op.execute("DELETE FROM outbox WHERE status = 'rejected'")


def downgrade() -> None:
    op.drop_table('outbox_dead_letters')
