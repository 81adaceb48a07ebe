"""The assistant store's database: one migrated engine per URL and process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from common.database import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@lru_cache(maxsize=4)
def store_database(url: str) -> Database:
    """The store at ``url``, migrated to the newest schema on first use."""
    return Database(url, MIGRATIONS)
