"""hand-over tokens count wrong answers; failed code tries; notices left for a person

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('account_handovers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wrong_answers', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'code_failures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('sender_id', sa.String(length=100), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('code_failures', schema=None) as batch_op:
        batch_op.create_index('ix_code_failures_sender_id', ['sender_id'], unique=False)
        batch_op.create_index('ix_code_failures_at', ['at'], unique=False)
    op.create_table(
        'pending_notices',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('sender_id', sa.String(length=100), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('pending_notices', schema=None) as batch_op:
        batch_op.create_index('ix_pending_notices_sender_id', ['sender_id'], unique=False)


def downgrade() -> None:
    op.drop_table('pending_notices')
    op.drop_table('code_failures')
    with op.batch_alter_table('account_handovers', schema=None) as batch_op:
        batch_op.drop_column('wrong_answers')
