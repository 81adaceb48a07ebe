"""expert links, expert cases, need photos, shared places and button payloads

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:35:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('role_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expert_id', sa.String(length=64), nullable=False, server_default=''))
    op.create_table(
        'expert_links',
        sa.Column('sender_id', sa.String(length=100), nullable=False),
        sa.Column('expert_id', sa.String(length=64), nullable=False),
        sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('current_case', sa.Integer(), nullable=True),
        sa.Column('summary_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('sender_id'),
        sa.UniqueConstraint('expert_id'),
    )
    op.create_table(
        'expert_cases',
        sa.Column('number', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('request_id', sa.String(length=40), nullable=False),
        sa.Column('need_id', sa.String(length=40), nullable=False),
        sa.Column('expert_id', sa.String(length=64), nullable=False),
        sa.Column('farmer', sa.String(length=100), nullable=False),
        sa.Column('expert_chat', sa.String(length=100), nullable=True),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('number'),
        sa.UniqueConstraint('request_id'),
    )
    with op.batch_alter_table('expert_cases', schema=None) as batch_op:
        batch_op.create_index('ix_expert_cases_farmer', ['farmer'], unique=False)
        batch_op.create_index('ix_expert_cases_expert_chat', ['expert_chat'], unique=False)
        batch_op.create_index('ix_expert_cases_status', ['status'], unique=False)
    op.create_table(
        'need_photos',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('sender_id', sa.String(length=100), nullable=False),
        sa.Column('need_id', sa.String(length=40), nullable=True),
        sa.Column('file_ref', sa.String(length=300), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('need_photos', schema=None) as batch_op:
        batch_op.create_index('ix_need_photos_sender_id', ['sender_id'], unique=False)
        batch_op.create_index('ix_need_photos_need_id', ['need_id'], unique=False)
    op.create_table(
        'shared_places',
        sa.Column('sender_id', sa.String(length=100), nullable=False),
        sa.Column('region', sa.String(length=200), nullable=False),
        sa.Column('shared_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sender_id'),
    )
    op.create_table(
        'button_payloads',
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('button_payloads', schema=None) as batch_op:
        batch_op.create_index('ix_button_payloads_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('button_payloads')
    op.drop_table('shared_places')
    op.drop_table('need_photos')
    op.drop_table('expert_cases')
    op.drop_table('expert_links')
    with op.batch_alter_table('role_codes', schema=None) as batch_op:
        batch_op.drop_column('expert_id')
