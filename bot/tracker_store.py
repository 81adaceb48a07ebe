"""Rasa's SQL tracker store, configured from one SQLAlchemy URL (``KEJIBANG_TRACKER_DB``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine.url import make_url


def sql_tracker_store(url: str):
    """An ``SQLTrackerStore`` for an SQLAlchemy URL (sqlite file or PostgreSQL)."""
    from rasa.core.tracker_store import SQLTrackerStore

    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return SQLTrackerStore(dialect="sqlite", db=parsed.database)
    return SQLTrackerStore(dialect=parsed.drivername, host=parsed.host, port=parsed.port, db=parsed.database,
                           username=parsed.username, password=parsed.password)
