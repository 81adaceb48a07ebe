"""The inbox: every incoming update is written down before it is answered, so none is answered twice
(a channel re-delivers what it thinks was not taken) and none is lost (a bot killed mid-way picks up what
it had received but not finished when it starts again).

An update gets one second chance, not more: one that was cut off again while being taken again (say,
a message that brings the bot down every time) is given up, or it would take the bot down forever.
One bot process reads the inbox (a Telegram bot has one poller or one webhook), so there is no claiming.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from common.clock import utcnow
from common.database import Database
from store.models import InboxEntry

log = logging.getLogger(__name__)
RECEIVED, REPLAY, RETAKEN, PROCESSED = "received", "replay", "retaken", "processed"


class Inbox:
    """Incoming updates by their channel's own key (``telegram:<update_id>``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def receive(self, key: str, sender_id: str, payload: dict) -> bool:
        """Write an update down before answering it; False when it was seen before (a re-delivery).
        An update handed back by ``to_replay`` is taken once more: that is how an unfinished one is finished.
        """
        return self._written(key, sender_id, payload) or self._retaken(key)

    def _written(self, key: str, sender_id: str, payload: dict) -> bool:
        """A new update kept; False when its key is there already. A plain insert, not a session's unit of
        work: it runs for every message."""
        try:
            with self.db.engine.begin() as connection:
                connection.execute(insert(InboxEntry).values(
                    key=key, sender_id=sender_id, payload=json.dumps(payload, ensure_ascii=False)))
            return True
        except IntegrityError:  # seen before, or the same update arrived twice at the same moment
            return False

    def _retaken(self, key: str) -> bool:
        """An update seen before is taken again only when ``to_replay`` handed it back."""
        with self.db.transaction() as session:
            entry = session.get(InboxEntry, key)
            if entry is None or entry.status != REPLAY:
                return False
            entry.status = RETAKEN
            return True

    def processed(self, key: str) -> None:
        """The update was answered: keep its key (re-deliveries stay recognisable), drop its content."""
        with self.db.engine.begin() as connection:
            connection.execute(update(InboxEntry).where(InboxEntry.key == key)
                               .values(status=PROCESSED, payload=None, processed_at=utcnow()))

    def to_replay(self, channel: str) -> list[dict]:
        """At start-up: the channel's updates received but never finished, oldest first, each to be taken once
        more (those already given their second chance are given up). Per channel: each replays its own kind."""
        with self.db.transaction() as session:
            entries = session.execute(select(InboxEntry).where(InboxEntry.status.in_((RECEIVED, REPLAY, RETAKEN)),
                                                               InboxEntry.key.startswith(f"{channel}:"))
                                      .order_by(InboxEntry.received_at)).scalars().all()
            again = [entry for entry in entries if entry.status == RECEIVED and entry.payload]
            for entry in entries:
                if entry in again:
                    entry.status = REPLAY
                else:
                    entry.status, entry.payload, entry.processed_at = PROCESSED, None, utcnow()
            if len(entries) > len(again):
                log.warning("inbox: %d update(s) cut off twice, given up", len(entries) - len(again))
            return [json.loads(entry.payload) for entry in again]

    def purge(self, before: datetime) -> int:
        """Forget processed updates older than ``before`` (the channel stopped re-delivering them long ago)."""
        with self.db.transaction() as session:
            return session.execute(delete(InboxEntry).where(InboxEntry.status == PROCESSED,
                                                            InboxEntry.processed_at < before)).rowcount
