"""Photos of needs: a sick leaf or a swollen joint says more than a villager can type.

A photo joins the sender's most recent need (posted within ``RECENT``), or waits for the next one
(``Accounts.remember_need`` adopts waiting photos). File references are the channel's own (a
Telegram file_id), so an expert on the same channel is sent the very same file.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from common.clock import utcnow
from common.database import Database
from store.models import NeedPhoto, PostedNeed

RECENT = timedelta(days=2)
PER_NEED = 5


class NeedPhotos:
    """Attaching photos to needs and finding them again."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def attach(self, sender_id: str, file_ref: str) -> str | None:
        """Keep a photo; returns the need it joined, or None when it waits for the next need."""
        with self.db.transaction() as session:
            need_id = session.execute(select(PostedNeed.need_id).where(
                PostedNeed.sender_id == sender_id, PostedNeed.posted_at >= utcnow() - RECENT)
                .order_by(PostedNeed.posted_at.desc())).scalars().first()
            session.add(NeedPhoto(sender_id=sender_id, need_id=need_id, file_ref=file_ref[:300]))
            return need_id

    def of_need(self, need_id: str) -> list[str]:
        """The first photos of a need, in the order they were sent."""
        with self.db.transaction() as session:
            return list(session.execute(select(NeedPhoto.file_ref).where(NeedPhoto.need_id == need_id)
                                        .order_by(NeedPhoto.id).limit(PER_NEED)).scalars())
