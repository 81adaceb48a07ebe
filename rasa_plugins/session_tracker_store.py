"""Rasa's SQL tracker store without a COUNT query on every save (the embedded default, every worker and
every production Rasa server: deploy/endpoints.production.yml)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from common.database import open_engine


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
    """

    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._retrieved: dict[str, int] = {}  # person → events of their latest session, as last retrieved
        if self.engine.dialect.name == "sqlite":
            rasas, self.engine = self.engine, open_engine(str(self.engine.url))
            rasas.dispose()
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> Any:
        tracker = await super().retrieve(sender_id)
        self._retrieved[sender_id] = len(tracker.events) if tracker is not None else 0
        return tracker

    def _additional_events(self, session: Any, tracker: Any) -> Iterator:
        stored = self._retrieved.pop(tracker.sender_id, None)
        if stored is None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))
