"""Rasa's SQL tracker store, configured from one SQLAlchemy URL (``KEJIBANG_TRACKER_DB``), and the bot's
erasures of its events (no Rasa import: the bot's process stays light)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine.url import make_url

if TYPE_CHECKING:
    from rasa_plugins.session_tracker_store import SessionSQLTrackerStore


def sql_tracker_store(url: str) -> SessionSQLTrackerStore:
    """The tracker store for an SQLAlchemy URL (sqlite file or PostgreSQL)."""
    from rasa_plugins.session_tracker_store import SessionSQLTrackerStore

    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return SessionSQLTrackerStore(dialect="sqlite", db=parsed.database)
    return SessionSQLTrackerStore(dialect=parsed.drivername, host=parsed.host, port=parsed.port,
                                  db=parsed.database, username=parsed.username, password=parsed.password)


def _delete_events(url: str, condition: str, values: dict) -> int:
    """Delete the tracker store's events matching an SQL condition; 0 when Rasa has stored nothing yet."""
    engine = create_engine(url, future=True)
    try:
        if not inspect(engine).has_table("events"):
            return 0
        with engine.begin() as connection:
            return connection.execute(text(f"DELETE FROM events WHERE {condition}"), values).rowcount
    finally:
        engine.dispose()


def forget_events_before(url: str, cutoff: datetime) -> int:
    """Delete the conversation events Rasa's SQL tracker store holds from before ``cutoff``; returns how many.

    Slots set in a deleted event are gone with it: what must outlive the retention period (who is
    registered, their needs) lives in the assistant's own store, not in the dialogue.
    """
    return _delete_events(url, "timestamp < :cutoff", {"cutoff": cutoff.timestamp()})


def forget_conversation(url: str, sender_id: str) -> int:
    """Delete every stored event of one conversation (a person's data deletion); returns how many.

    Run after the turn that asked for it has been saved, so Rasa does not write the events back.
    """
    return _delete_events(url, "sender_id = :sender", {"sender": sender_id})
