"""Short ids for button payloads, kept across restarts.

Messaging apps limit what a button may carry (Telegram: 64 bytes, and a Chinese character is 3), so
each payload travels as a short id. The ids live in the store, so a button on yesterday's message
still works after the bot was restarted or redeployed; a small in-memory cache spares the database
the common repeats. Ids older than ``KEEP`` are purged (an old button then says it has expired).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import timedelta

from sqlalchemy import delete, select

from common.clock import utcnow
from common.database import Database
from store.models import ButtonPayload

KEEP = timedelta(days=90)
CACHE = 20_000
MAX_KEY = 32


def short_id(payload: str) -> str:
    """A 16-character id, the same for the same payload (so repeats store nothing new)."""
    return hashlib.blake2s(payload.encode(), digest_size=8).hexdigest()


class ButtonPayloads:
    """Payload ↔ short id, durable, with a bounded cache of the most recent."""

    def __init__(self, db: Database, cache: int = CACHE) -> None:
        self.db = db
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._size = cache

    def short_ids(self, payloads: list[str]) -> list[str]:
        """The ids for one message's buttons, those not seen lately stored in one transaction (a read-back's
        buttons carry the need's own words: each is new)."""
        keys = [short_id(payload) for payload in payloads]
        new = {key: payload for key, payload in zip(keys, payloads, strict=True) if key not in self._cache}
        if new:
            with self.db.transaction() as session:
                stored = set(session.scalars(select(ButtonPayload.key).where(ButtonPayload.key.in_(new))))
                session.add_all(ButtonPayload(key=key, payload=payload) for key, payload in new.items()
                                if key not in stored)
        for key, payload in zip(keys, payloads, strict=True):
            self._remember(key, payload)
        return keys

    def payload(self, key: str) -> str | None:
        """The payload of an id; None for an unknown, purged or forged one."""
        if key in self._cache:
            return self._cache[key]
        if not key or len(key) > MAX_KEY:
            return None
        with self.db.transaction() as session:
            row = session.get(ButtonPayload, key)
            found = row.payload if row else None
        if found is not None:
            self._remember(key, found)
        return found

    def purge(self, keep: timedelta = KEEP) -> int:
        """Forget ids created more than ``keep`` ago; returns how many went."""
        with self.db.transaction() as session:
            return session.execute(delete(ButtonPayload).where(ButtonPayload.created_at < utcnow() - keep)).rowcount

    def _remember(self, key: str, payload: str) -> None:
        self._cache[key] = payload
        self._cache.move_to_end(key)
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)
