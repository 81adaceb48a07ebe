"""invites

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:22:12.126574
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('invites',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('township_code', sa.String(length=12), nullable=False),
    sa.Column('chair', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invites_township_code'), ['township_code'], unique=False)

    op.create_table('invite_uses',
    sa.Column('sender_id', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('township_code', sa.String(length=12), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['code'], ['invites.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sender_id')
    )
    with op.batch_alter_table('invite_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invite_uses_township_code'), ['township_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('invite_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invite_uses_township_code'))

    op.drop_table('invite_uses')
    with op.batch_alter_table('invites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invites_township_code'))

    op.drop_table('invites')
