"""township funnel indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:34:31.007372
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index('ix_needs_township_created', ['township_code', 'created_at'], unique=False)
        batch_op.create_index('ix_needs_township_matched', ['township_code', 'matched_at'], unique=False)
        batch_op.create_index('ix_needs_township_resolved', ['township_code', 'resolved_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_township_created', ['township_code', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_township_created')

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_township_resolved')
        batch_op.drop_index('ix_needs_township_matched')
        batch_op.drop_index('ix_needs_township_created')

