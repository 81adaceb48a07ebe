"""registration drafts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:40:13.764289
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registration_drafts',
    sa.Column('sender_id', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sender_id')
    )


def downgrade() -> None:
    op.drop_table('registration_drafts')
