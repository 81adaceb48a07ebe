"""contact requests and the places an expert serves

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('serves', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    op.create_table(
        'contact_requests',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('need_id', sa.String(length=40), nullable=False),
        sa.Column('expert_id', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['need_id'], ['needs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('contact_requests', schema=None) as batch_op:
        batch_op.create_index('ix_contact_requests_need_id', ['need_id'], unique=False)
        batch_op.create_index('ix_contact_requests_expert_status', ['expert_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_table('contact_requests')
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.drop_column('serves')
