"""Township invitations: a chair's deep link / QR code, and who started the bot from one."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select

from common.database import Database
from store.models import Invite, InviteUse
from store.roles import CODE_ALPHABET


class Invites:
    """Invitations by township chairs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, chair: str, township_code: str) -> str:
        """A new invitation code for the chair's township."""
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        with self.db.transaction() as session:
            session.add(Invite(code=code, township_code=township_code, chair=chair))
        return code

    def accept(self, sender_id: str, code: str) -> str | None:
        """The township code of a valid invitation (counted once per person), or None."""
        with self.db.transaction() as session:
            invite = session.get(Invite, code.strip().upper()) if code.strip() else None
            if invite is None:
                return None
            if session.get(InviteUse, sender_id) is None:
                session.add(InviteUse(sender_id=sender_id, code=invite.code, township_code=invite.township_code))
            return invite.township_code

    def invited(self, township_code: str, begin: datetime, end: datetime) -> int:
        """How many people started from this township's invitations in [begin, end)."""
        with self.db.transaction() as session:
            return session.execute(select(func.count()).select_from(InviteUse).where(
                InviteUse.township_code == township_code, InviteUse.used_at >= begin,
                InviteUse.used_at < end)).scalar_one()
