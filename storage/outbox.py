"""The outbox: alerts waiting for Slack to accept them, and where each post stands (the posting columns of
alerts: post_state, post_attempts, post_error, sending_since, channel, ts, thread_ts, posted_at)."""

from __future__ import annotations

from datetime import datetime

from core.rows import AlertRow
from core.states import PostState
from storage.db import Area, iso


def posted_columns(channel: str, ts: str, thread_ts: str | None, now: str) -> dict:
    """An alert's columns once Slack accepted its post (also written by storage/incidents.py with its incident)."""
    return {
        "post_state": PostState.POSTED,
        "channel": channel,
        "ts": ts,
        "thread_ts": thread_ts,
        "posted_at": now,
        "post_error": None,
    }


class Outbox(Area):
    """Alerts not yet posted and their posting state."""

    def alerts_to_post(self, limit: int = 50) -> list[AlertRow]:
        """Alerts not yet accepted by Slack, oldest first (a muted alert is never posted)."""
        with self._db.lock:
            rows = self._db.sql["alerts"].rows_where(
                "post_state IN (?, ?)", [PostState.PENDING, PostState.SENDING], order_by="id", limit=limit
            )
            return [AlertRow.from_row(r) for r in rows]

    def mark_sending(self, alert_id: int) -> None:
        """Record that a post is about to be attempted (so a crash mid-post can be checked on restart)."""
        with self._db.tx() as db:
            db.execute(
                "UPDATE alerts SET post_state = ?, sending_since = ?, post_attempts = post_attempts + 1 WHERE id = ?",
                [PostState.SENDING, self._db.now(), alert_id],
            )

    def mark_posted(self, alert_id: int, channel: str, ts: str, thread_ts: str | None) -> None:
        """Record Slack's acceptance of an alert."""
        with self._db.tx() as db:
            db["alerts"].update(alert_id, posted_columns(channel, ts, thread_ts, self._db.now()))

    def mark_post_failed(self, alert_id: int, error: str) -> None:
        """Record a failed post; the alert stays in the outbox."""
        with self._db.tx() as db:
            db["alerts"].update(alert_id, {"post_state": PostState.PENDING, "post_error": error[:500]})

    def thread_root(
        self, thread_key: str, since: datetime, exclude_id: int, channel: str | None = None
    ) -> AlertRow | None:
        """The first posted top-level alert of this thread key at or after `since` (in `channel` when given), if any."""
        in_channel = " AND channel = ?" if channel else ""
        with self._db.lock:
            rows = list(
                self._db.sql["alerts"].rows_where(
                    "thread_key = ? AND created_at >= ? AND post_state = ? AND thread_ts IS NULL AND id != ?"
                    + in_channel,
                    [thread_key, iso(since), PostState.POSTED, exclude_id, *([channel] if channel else [])],
                    order_by="id",
                    limit=1,
                )
            )
        return AlertRow.from_row(rows[0]) if rows else None
