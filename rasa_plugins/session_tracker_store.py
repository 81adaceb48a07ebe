"""Rasa's SQL tracker store without a COUNT query on every save, and without re-reading a conversation its
own process saved last (the embedded default, every worker and every production Rasa server:
deploy/endpoints.production.yml)."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, NamedTuple

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from common.database import open_engine

KEPT_TRACKERS = 256  # conversations kept in memory per process, the least recently saved dropped first


class _Kept(NamedTuple):
    """A conversation as this process saved it: the tracker, how many events it held then, and the
    stored (count, highest id) of the person's events right after."""

    tracker: DialogueStateTracker
    events: int
    stamp: tuple[int, int | None]


class SessionSQLTrackerStore(SQLTrackerStore):
    """Rasa's ``SQLTrackerStore``, minus one query a turn.

    To tell which events of a conversation are new, Rasa's ``save`` counts the stored events of its
    latest session (a COUNT over the person's events with a MAX subquery for the session's start) on
    every turn, a scan that grows with the conversation. Every turn starts by retrieving that very
    session, so the count is already known: the events retrieved. It is kept per person from the
    retrieve to the next save; the lock store lets one turn per person run at a time (across Rasa
    servers too), so no other process adds events in between. A save with no retrieve before it in
    this process counts as Rasa does.

    On an SQLite file it also keeps its connections: Rasa opens a new one for every retrieve and every
    save (SQLAlchemy 1.4's default for files), in rollback-journal mode with a full sync, which made the
    save's commit a tenth of a turn's CPU. Pooled connections in write-ahead-log mode (the assistant
    store's settings, ``common/database.py``) also let a worker read while another writes.

    And it keeps the trackers it saved last. Rasa rebuilds a conversation from the database at every
    turn: reads and decodes every event of the session and replays them, a cost that grows with the
    conversation (a quarter of a turn's CPU after twenty messages). A kept tracker is handed out
    instead when the person's stored events are still exactly what this process saved: the same count
    and the same highest id, one indexed query. Anything else (another Rasa server took a turn, the
    person's data was erased, retention deleted old events) reads the database as Rasa does. A kept
    tracker is handed out once: the turn that gets it changes it, and only its save keeps it again,
    so a turn that failed half-way leaves nothing half-done behind.
    """

    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._retrieved: dict[str, int] = {}  # person → events of their latest session, as last retrieved
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        events = self.SQLEvent.__table__
        # built once: it runs twice a turn, and building it cost more than running it
        self._stamp_query = select(func.count(events.c.id), func.max(events.c.id)).where(
            events.c.sender_id == bindparam("sender"))
        if self.engine.dialect.name == "sqlite":
            rasas, self.engine = self.engine, open_engine(str(self.engine.url))
            rasas.dispose()
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> Any:
        kept = self._kept.pop(sender_id, None)
        if kept is not None and len(kept.tracker.events) == kept.events and self._stamp(sender_id) == kept.stamp:
            tracker = kept.tracker
        else:
            tracker = await super().retrieve(sender_id)
        self._retrieved[sender_id] = len(tracker.events) if tracker is not None else 0
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        self._kept.pop(tracker.sender_id, None)
        if _one_session(tracker):
            self._kept[tracker.sender_id] = _Kept(tracker, len(tracker.events), self._stamp(tracker.sender_id))
            if len(self._kept) > KEPT_TRACKERS:
                self._kept.popitem(last=False)

    def _stamp(self, sender_id: str) -> tuple[int, int | None]:
        """How many events the database holds for a person, and the highest id among them."""
        with self.engine.connect() as connection:
            count, highest = connection.execute(self._stamp_query, {"sender": sender_id}).one()
        return int(count), highest

    def _additional_events(self, session: Any, tracker: Any) -> Iterator:
        stored = self._retrieved.pop(tracker.sender_id, None)
        kept = self._kept.get(tracker.sender_id)
        if stored is None and kept is not None and kept.tracker is tracker:
            stored = kept.events  # saved again with no retrieve in between: all it held then is stored
        if stored is None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))


def _one_session(tracker: DialogueStateTracker) -> bool:
    """Whether a tracker holds one conversation session, as Rasa's retrieve returns it. A turn that
    started a new session still holds the old one; keeping it would carry old sessions along forever."""
    return not any(isinstance(event, SessionStarted) for event in itertools.islice(tracker.events, 2, None))
