"""The CloudTrail record of each event that raised an alert (the table event_records), kept as the pipeline hands it
over (already redacted: core/redaction.py) for an alert's Details view. Only alerting events are kept: an
ordinary event costs no more than its row in events."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from storage.db import Area, iso, storable


class EventRecords(Area):
    """Records of alerting events, by event id."""

    def keep_event_records(self, records: Iterable[dict]) -> int:
        """Store records (each with an eventID) not stored yet, in one transaction; returns how many were new."""
        stamp = iso(self._db.clock())
        rows = {storable(str(r["eventID"])): json.dumps(r, default=str) for r in records}
        if not rows:
            return 0
        with self._db.tx() as db:
            cursor = db.conn.executemany(
                "INSERT OR IGNORE INTO event_records (event_id, record, stored_at) VALUES (?, ?, ?)",
                [(event_id, record, stamp) for event_id, record in rows.items()],
            )
            return cursor.rowcount

    def event_record(self, event_id: str) -> dict[str, Any] | None:
        """One event's kept record, or None when it was not kept."""
        with self._db.lock:
            row = self._db.sql.conn.execute(
                "SELECT record FROM event_records WHERE event_id = ?", [storable(event_id)]
            ).fetchone()
        return json.loads(row[0]) if row else None
