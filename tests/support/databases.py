"""Throwaway PostgreSQL databases on the local server (trust auth), for the tests and the benchmarks."""

from __future__ import annotations

import os

import sqlalchemy

POSTGRES_ADMIN_URL = os.environ.get("KEJIBANG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin() -> sqlalchemy.engine.Engine:
    return sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


def database_url(name: str) -> str:
    """The SQLAlchemy URL of a database on the same server as the admin URL."""
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def create_database(name: str, template: str | None = None) -> str:
    """Create the database (a copy of ``template`` when given); its SQLAlchemy URL is returned."""
    admin = _admin()
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    finally:
        admin.dispose()
    return database_url(name)


def drop_database(name: str) -> None:
    """Drop the database, closing whatever connections are still open on it."""
    admin = _admin()
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.dispose()
