"""posted needs, subscriptions, handoff cases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:43:13.537818
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handoff_cases',
    sa.Column('number', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sender_id', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('volunteer', sa.String(length=100), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    with op.batch_alter_table('handoff_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoff_cases_sender_id'), ['sender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handoff_cases_status'), ['status'], unique=False)

    op.create_table('posted_needs',
    sa.Column('sender_id', sa.String(length=100), nullable=False),
    sa.Column('need_id', sa.String(length=40), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sender_id', 'need_id')
    )
    op.create_table('subscriptions',
    sa.Column('sender_id', sa.String(length=100), nullable=False),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_pushed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_article_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('sender_id', 'domain')
    )


def downgrade() -> None:
    op.drop_table('subscriptions')
    op.drop_table('posted_needs')
    with op.batch_alter_table('handoff_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_cases_status'))
        batch_op.drop_index(batch_op.f('ix_handoff_cases_sender_id'))

    op.drop_table('handoff_cases')
