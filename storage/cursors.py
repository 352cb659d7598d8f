"""Cursors (where a poller got to, pending rebuilds) and dead letters (messages that could not be read)."""

from __future__ import annotations

from core.rows import DeadLetterRow
from storage.db import Area, storable_row


class Cursors(Area):
    """The cursors and dead_letters tables."""

    def add_dead_letter(self, source: str, reason: str, body: str | bytes) -> int:
        """Keep an unreadable message with the reason (text made `storable`); returns its id."""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        row = storable_row({"source": source, "reason": reason, "body": text, "received_at": self._db.now()})
        with self._db.tx() as db:
            return db["dead_letters"].insert(row).last_pk

    def dead_letters(self) -> list[DeadLetterRow]:
        """Every kept dead letter, oldest first."""
        with self._db.lock:
            return [DeadLetterRow.from_row(row) for row in self._db.sql["dead_letters"].rows_where(order_by="id")]

    def cursor(self, key: str) -> str | None:
        """A stored cursor value, or None."""
        with self._db.lock:
            rows = list(self._db.sql["cursors"].rows_where("key = ?", [key]))
        return rows[0]["value"] if rows else None

    def set_cursor(self, key: str, value: str) -> None:
        """Store a cursor value."""
        with self._db.tx() as db:
            db["cursors"].upsert({"key": key, "value": value, "updated_at": self._db.now()}, pk="key")

    def clear_cursor(self, key: str) -> None:
        """Forget a cursor."""
        with self._db.tx() as db:
            db.execute("DELETE FROM cursors WHERE key = ?", [key])
