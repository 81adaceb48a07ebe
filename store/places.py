"""Places people shared (a location pin), remembered so their next need is matched to nearby experts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, select

from common.clock import as_utc, utcnow
from common.database import Database
from store.models import SharedPlace

FRESH = timedelta(days=1)
_SHARED = select(SharedPlace.region, SharedPlace.shared_at).where(SharedPlace.sender_id == bindparam("sender"))


class SharedPlaces:
    """The last place each conversation shared, while it is fresh."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def remember(self, sender_id: str, region: str) -> None:
        """Keep the region a location resolved to (a newer one replaces it)."""
        with self.db.transaction() as session:
            place = session.get(SharedPlace, sender_id) or SharedPlace(sender_id=sender_id)
            place.region, place.shared_at = region, utcnow()
            session.add(place)

    def recent(self, sender_id: str) -> str | None:
        """The region shared within the last day, if any."""
        place = self.db.first(_SHARED, sender=sender_id)
        return place.region if place and as_utc(place.shared_at) >= utcnow() - FRESH else None
