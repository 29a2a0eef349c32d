"""Engines, sessions and migrations for the warehouse (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Select, create_engine, event, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def utcnow() -> dt.datetime:
    """Naive UTC now, the convention for administrative timestamps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@cache
def engine_for(url: str) -> Engine:
    """One engine per database URL for the life of the process."""
    engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and this URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the warehouse schema to the newest migration (idempotent)."""
    engine = engine_for(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def has_schema(url: str) -> bool:
    """True when the warehouse exists and has been migrated; never creates a database file or a schema."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return False
    try:
        return inspect(engine_for(url)).has_table("alembic_version")
    except OperationalError:  # an unreachable server holds no warehouse this process could use
        return False


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    factory = sessionmaker(engine_for(url), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def driver_times(values: pd.Series) -> pd.Series:
    """Times or dates as the driver gives them (text on SQLite, objects elsewhere), parsed at once."""
    given = values.dropna()
    if given.empty:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    if isinstance(given.iloc[0], str):
        return pd.to_datetime(values, format="ISO8601").astype("datetime64[us]")
    return pd.to_datetime(values).astype("datetime64[us]")


def fetch_chunks(session: Session, query: Select[Any], size: int) -> Iterator[Sequence[Sequence[Any]]]:
    """A query's rows, `size` at a time, without holding them all.

    On SQLite (the embedded default, whose driver steps through the rows as they are fetched) the rows
    are taken straight from the DBAPI cursor as the driver's tuples: for a large read that is half the
    time of building Row objects, and no result type processing applies, so select only columns the
    driver returns as wanted. Elsewhere a server-side cursor streams Row objects.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        result = connection.execute(query)
        try:
            while rows := result.cursor.fetchmany(size):
                yield rows
        finally:
            result.close()
        return
    # Options on the statement, not the connection: a connection's options stay for everything after.
    for rows in connection.execute(query.execution_options(stream_results=True)).partitions(size):
        yield [tuple(row) for row in rows]
