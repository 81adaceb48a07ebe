"""expert contact columns: phone, wechat, email and share_contact out of the public ``extra``

Why: ``extra`` was returned whole by public reads, so an expert's contacts travelled with every search.
Contacts now live in their own columns, which no public read selects; the values already imported are
moved out of ``extra`` here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:00:00
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CONTACTS = ('phone', 'wechat', 'email')
LIMITS = {'phone': 40, 'wechat': 100, 'email': 254}


def upgrade() -> None:
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('wechat', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('share_contact', sa.Boolean(), nullable=False, server_default=sa.false()))
    experts = sa.table('experts', sa.column('id', sa.String), sa.column('extra', sa.JSON),
                       *(sa.column(name, sa.String) for name in CONTACTS), sa.column('share_contact', sa.Boolean))
    connection = op.get_bind()
    for expert_id, extra in connection.execute(sa.select(experts.c.id, experts.c.extra)).all():
        extra = json.loads(extra) if isinstance(extra, str) else dict(extra or {})
        if not any(key in extra for key in (*CONTACTS, 'share_contact')):
            continue
        moved = {key: str(extra.pop(key) or '')[:LIMITS[key]] for key in CONTACTS if key in extra}
        moved['share_contact'] = extra.pop('share_contact', False) is True
        connection.execute(experts.update().where(experts.c.id == expert_id).values(extra=extra, **moved))


def downgrade() -> None:
    experts = sa.table('experts', sa.column('id', sa.String), sa.column('extra', sa.JSON),
                       *(sa.column(name, sa.String) for name in CONTACTS), sa.column('share_contact', sa.Boolean))
    connection = op.get_bind()
    rows = connection.execute(sa.select(experts.c.id, experts.c.extra, *(experts.c[n] for n in CONTACTS),
                                        experts.c.share_contact)).all()
    for expert_id, extra, *contacts, shared in rows:
        extra = json.loads(extra) if isinstance(extra, str) else dict(extra or {})
        extra.update({k: v for k, v in zip(CONTACTS, contacts, strict=True) if v})
        if shared:
            extra['share_contact'] = True
        connection.execute(experts.update().where(experts.c.id == expert_id).values(extra=extra))
    with op.batch_alter_table('experts', schema=None) as batch_op:
        for name in ('share_contact', *reversed(CONTACTS)):
            batch_op.drop_column(name)
