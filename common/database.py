"""Engines and sessions for the project's databases (the exchange's and the assistant store's), each migrated
to the newest schema of its own Alembic folder on open.

Here, not in ``exchange/``, because the assistant's store (``store/``) uses the same machinery without
being part of the exchange: it depends on ``exchange.api`` and on this package only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, Row
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql import Executable


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets the bot, the action server and the exchange read while one of them writes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def open_engine(url: str) -> Engine:
    """An engine for an SQLAlchemy URL; the SQLite file's folder is created if missing."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 opens a new connection per transaction for an SQLite file (NullPool): four pragmas
        # and a file open each time, most of a small request's cost. Pooled connections keep their pragmas.
        engine = create_engine(url, future=True, poolclass=QueuePool, pool_size=5, max_overflow=10,
                               connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=10, max_overflow=10)


def migrate(engine: Engine, migrations: Path) -> None:
    """Bring the schema to the newest Alembic revision of ``migrations`` (a no-op when it already is)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """One engine and its session factory, migrated on open to the newest revision of ``migrations`` (the
    exchange's or the assistant store's)."""

    def __init__(self, url: str, migrations: Path) -> None:
        self.engine = open_engine(url)
        migrate(self.engine, migrations)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, future=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def first(self, statement: Executable, **parameters: object) -> Row | None:
        """The first row a read gives, on a plain connection: the lookups made on every turn (is this person
        registered, did they share a place) cost a session and a transaction each otherwise, more than the
        query. ``statement`` is built once by the caller, with bound parameters."""
        with self.engine.connect() as connection:
            return connection.execute(statement, parameters).first()

    def close(self) -> None:
        """Release every pooled connection; an SQLite file is checkpointed first, so the file alone is whole
        (pooled connections keep the write-ahead log open, and a copied file would miss its tail)."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        self.engine.dispose()
