"""The exchange's database: the common machinery (``common.database``) on the exchange's own migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from common.database import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def exchange_database(url: str) -> Database:
    """The exchange's database at ``url``, migrated to its newest schema."""
    return Database(url, MIGRATIONS)


def one(session: Session, model: type, key: object, code: str, message: str):
    """The row of ``model`` with primary key ``key``, or ``NotFound(code, message)`` (also for a non-string key)."""
    from exchange.errors import NotFound

    row = session.get(model, key) if isinstance(key, str) else None
    if row is None:
        raise NotFound(code, message)
    return row
