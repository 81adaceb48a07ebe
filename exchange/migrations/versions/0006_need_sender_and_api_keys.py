"""need sender reference and scoped API keys

Why: a need posted before registering had no user link, so erasing the person left it (with the name and
village typed) on the exchange; ``needs.sender`` carries the assistant's opaque chat reference so it can be
found and deleted. ``api_keys`` holds one hashed key per caller (bot, operator, partner) with its scope.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_needs_sender'), ['sender'], unique=False)
    op.create_table(
        'api_keys',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('scope', sa.String(length=20), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash'),
    )


def downgrade() -> None:
    op.drop_table('api_keys')
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_needs_sender'))
        batch_op.drop_column('sender')
