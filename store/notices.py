"""Notices left for a person by a process that cannot message them (the operator's command line), told
by the bot the next time the person writes: nobody loses a role, say, without being told why."""

from __future__ import annotations

from sqlalchemy import delete, select

from common.database import Database
from store.models import PendingNotice


def leave_notice(session, sender_id: str, text: str) -> None:
    """Leave a notice inside a caller's transaction (it goes with the change it tells of, or not at all)."""
    session.add(PendingNotice(sender_id=sender_id, text=text))


class Notices:
    """Notices waiting for their person."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def leave(self, sender_id: str, text: str) -> None:
        """Leave a notice for the person's next message."""
        with self.db.transaction() as session:
            leave_notice(session, sender_id, text)

    def take(self, sender_id: str) -> list[str]:
        """The person's notices, oldest first; they are gone once taken (told once)."""
        with self.db.transaction() as session:
            rows = list(session.execute(select(PendingNotice).where(PendingNotice.sender_id == sender_id)
                                        .order_by(PendingNotice.id)).scalars())
            if rows:
                session.execute(delete(PendingNotice).where(PendingNotice.id.in_([r.id for r in rows])))
            return [r.text for r in rows]
