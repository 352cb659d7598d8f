"""The shared SQLite connection every storage area writes through: one lock, one transaction helper, the
migrations, and the text and time conversions of the stored columns."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from core.times import from_store, stored
from storage.schema import MEMORY_REBUILD, MEMORY_VERSION, MIGRATIONS


def utcnow() -> datetime:
    """The current time in UTC (the store's default clock)."""
    return datetime.now(UTC)


def storable(text: str) -> str:
    """`text` as SQLite can store it. A lone surrogate (JSON's "\\ud800" escape decodes to one) cannot be encoded
    as UTF-8, so it is kept as that backslash escape, readable, instead of failing the whole transaction."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def storable_values(values: tuple) -> tuple:
    """`values` with every text value made `storable`; the same tuple when all its text is ASCII (most rows)."""
    for value in values:
        if isinstance(value, str) and not value.isascii():
            return tuple(storable(v) if isinstance(v, str) else v for v in values)
    return values


def storable_row(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with every text value made `storable`."""
    return {key: storable(value) if isinstance(value, str) else value for key, value in row.items()}


iso = stored  # the store's time format, owned by core.times
parse_iso = from_store


class Database:
    """One connection shared across the bot's threads, guarded by a lock; WAL journal so a crash loses nothing
    that was committed."""

    def __init__(self, path: str | Path, clock: Callable[[], datetime] = utcnow) -> None:
        self.path = str(path)
        self.clock = clock
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        self.sql = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        self.migrate()

    @contextmanager
    def tx(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction (BEGIN IMMEDIATE), rolled back if the block raises."""
        with self.lock:
            self.sql.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.sql
            except BaseException:
                self.sql.conn.execute("ROLLBACK")
                raise
            self.sql.conn.execute("COMMIT")

    def now(self) -> str:
        """The clock's time as the store writes it."""
        return iso(self.clock())

    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version."""
        with self.tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
            done = {row[0] for row in db.execute("SELECT version FROM schema_migrations").fetchall()}
            for version, step in enumerate(MIGRATIONS, start=1):
                if version not in done:
                    step(db)
                    db["schema_migrations"].insert({"version": version, "applied_at": self.now()})
            if done and MEMORY_VERSION not in done:  # an older database: its rules' memory is still in its rows
                db["cursors"].insert({"key": MEMORY_REBUILD, "value": "pending", "updated_at": self.now()})
        return len(MIGRATIONS)

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.sql.conn.close()


class Area:
    """A part of the store that owns some tables, over the shared Database."""

    def __init__(self, db: Database) -> None:
        self._db = db
