"""Weekly 科普 pushes: who wants which domain, and what they were last sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from common.clock import utcnow
from common.database import Database
from store.models import Subscription

PUSH_EVERY = timedelta(days=7)


class Subscriptions:
    """Subscriptions of conversations to domains."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def subscribe(self, sender_id: str, domain: str) -> bool:
        """Subscribe; False when it already was."""
        with self.db.transaction() as session:
            if session.get(Subscription, (sender_id, domain)) is not None:
                return False
            session.add(Subscription(sender_id=sender_id, domain=domain))
            return True

    def unsubscribe(self, sender_id: str, domain: str | None = None) -> list[str]:
        """Drop one domain (or all); returns the domains dropped."""
        with self.db.transaction() as session:
            query = select(Subscription).where(Subscription.sender_id == sender_id)
            if domain:
                query = query.where(Subscription.domain == domain)
            rows = list(session.execute(query).scalars())
            for row in rows:
                session.delete(row)
            return [row.domain for row in rows]

    def domains_of(self, sender_id: str) -> list[str]:
        """The domains a conversation receives."""
        with self.db.transaction() as session:
            return list(session.execute(select(Subscription.domain).where(Subscription.sender_id == sender_id)
                                        .order_by(Subscription.created_at)).scalars())

    def due(self, now: datetime | None = None) -> list[tuple[str, str, str | None]]:
        """(sender, domain, last article id) of every subscription not pushed in the last week."""
        cutoff = (now or utcnow()) - PUSH_EVERY
        with self.db.transaction() as session:
            rows = session.execute(select(Subscription).where(
                or_(Subscription.last_pushed_at.is_(None), Subscription.last_pushed_at <= cutoff))).scalars()
            return [(r.sender_id, r.domain, r.last_article_id) for r in rows]

    def pushed(self, sender_id: str, domain: str, article_id: str, now: datetime | None = None) -> None:
        """Record a push, so the next one waits a week and sends another article."""
        with self.db.transaction() as session:
            row = session.get(Subscription, (sender_id, domain))
            if row is not None:
                row.last_pushed_at = now or utcnow()
                row.last_article_id = article_id
