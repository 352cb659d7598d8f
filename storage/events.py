"""Events, alerts and the rules' memory: what ingest stores in one transaction per batch, and the alerts read back.
Owns the tables events, alerts (the outbox area owns their posting columns) and rule_memory."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

from core.alert import Alert
from core.feed import AccountFeed
from core.rows import AlertRow, EventRow, Fact, MemoryRow
from core.states import AlertStatus, PostState
from core.times import utc
from storage.cursors import Cursors
from storage.db import Area, iso, storable, storable_row, storable_values
from storage.schema import MEMORY_REBUILD

EVENT_COLUMNS = ("event_id", "event_name", "event_time", "account", "actor", "error_code", "source", "stored_at")
EVENT_FIELDS = EVENT_COLUMNS[:-1]  # an event's keys (or, as a tuple, its fields' order); stored_at is the batch's stamp
MEMORY_COLUMNS = ("memory", "key", "event_id", "rule", "value", "at")
# Each account's latest stored event, by the index on (account, stored_at): the recursive part steps from one
# account to the next (one index seek each), then one seek per account finds its latest row. A GROUP BY would read
# every event ever stored.
_LATEST_PER_ACCOUNT = """
WITH RECURSIVE accounts(account) AS (
    SELECT min(account) FROM events WHERE account > ''
    UNION ALL
    SELECT (SELECT min(account) FROM events WHERE account > accounts.account) FROM accounts
    WHERE accounts.account IS NOT NULL
)
SELECT accounts.account, latest.event_time, latest.stored_at FROM accounts
JOIN events AS latest ON latest.event_id = (
    SELECT event_id FROM events WHERE account = accounts.account ORDER BY stored_at DESC LIMIT 1
)
ORDER BY latest.stored_at DESC LIMIT ?
"""


def _all_ascii(rows: list[tuple]) -> bool:
    """Whether `rows` hold only ASCII text, so none of it needs `storable`: one pass in C over a whole batch instead
    of a test per value in Python (a replay stores tens of thousands of events a minute). False, to be judged value
    by value, when some value is not text (an event given without an actor)."""
    try:
        return all(map(str.isascii, chain.from_iterable(rows)))
    except TypeError:
        return False


_ROWS_PER_INSERT = 100  # 800 parameters a statement, within the 999 older SQLite builds allow
_ROW_MARKS = f"({', '.join('?' * len(EVENT_COLUMNS))})"


def _insert_events(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Insert `rows` (in EVENT_COLUMNS' order) in order, skipping those already stored, _ROWS_PER_INSERT rows per
    statement: one multi-row INSERT costs less than as many one-row runs of executemany (a replay's batch of
    events is stored in about a fifth less time)."""
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        conn.execute(
            f"INSERT OR IGNORE INTO events ({', '.join(EVENT_COLUMNS)})"  # noqa: S608
            f" VALUES {', '.join([_ROW_MARKS] * len(chunk))}",
            list(chain.from_iterable(chunk)),
        )


class Events(Area):
    """Events, alerts and the rules' memory."""

    def seen_events(self, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` already stored (a redelivered event posts nothing new)."""
        ids = [storable(e) for e in event_ids if e]
        if not ids:
            return set()
        with self._db.lock:
            return self._stored_ids(ids)

    def store_batch(
        self,
        events: Iterable[dict | tuple],
        alerts: Iterable[Alert],
        dedup_windows: dict[str, int] | None = None,
        memory: Iterable[Fact] = (),
        forget: dict[str, datetime] | None = None,
    ) -> list[int]:
        """Durably store processed events, their alerts and the rules' memory in one transaction; returns new
        alert ids.

        `events` are {"event_id", "event_name", "event_time", "account", "source"} plus optionally "actor" and
        "error_code", or tuples of all seven in EVENT_FIELDS' order (the pipeline's: no dict per event); an event
        already stored is skipped together with its alerts. Text is stored as `storable` makes it (an event id with
        a lone surrogate is the same event as its escaped form). An alert whose rule has a dedup window (minutes, in
        `dedup_windows`) and whose dedup key already has an alert in that window is folded into it. `memory`'s facts
        are kept once per memory, key and event; `forget` drops each named memory's rows from before its time.
        """
        windows = dedup_windows or {}
        now = self._db.clock()
        stamp = iso(now)
        raw = [  # in EVENT_COLUMNS' order
            (*event, stamp) if type(event) is tuple else (*map(event.get, EVENT_FIELDS), stamp) for event in events
        ]
        if not _all_ascii(raw):  # each row made storable on its own
            raw = [storable_values(row) for row in raw]
        rows: dict[str, tuple] = {}
        for row in raw:
            rows.setdefault(row[0], row)
        facts = [storable_values((f.memory, f.key, f.event_id, f.rule, f.value, iso(f.at))) for f in memory]
        alerts = list(alerts)
        created: list[int] = []
        with self._db.tx() as db:
            conn = db.conn
            # Only an alert needs to know whether its event was stored before (by another instance since the caller
            # looked): the events themselves are kept once by their primary key, without a lookup per event.
            stored_before = self._stored_ids([i for i in {storable(a.event_id) for a in alerts} if i in rows])
            _insert_events(conn, list(rows.values()))
            conn.executemany(
                f"INSERT OR IGNORE INTO rule_memory ({', '.join(MEMORY_COLUMNS)})"  # noqa: S608
                f" VALUES ({', '.join('?' * len(MEMORY_COLUMNS))})",
                facts,
            )
            for name, before in (forget or {}).items():
                conn.execute("DELETE FROM rule_memory WHERE memory = ? AND at < ?", [storable(name), iso(before)])
            for alert in alerts:
                event_id = storable(alert.event_id)
                if event_id not in rows or event_id in stored_before:
                    continue
                minutes = windows.get(alert.rule, 0)
                if minutes:
                    since = iso(now - timedelta(minutes=minutes))
                    key = storable(alert.dedup_key)
                    prior = list(db["alerts"].rows_where("dedup_key = ? AND created_at >= ?", [key, since], limit=1))
                    if prior:
                        db.execute("UPDATE alerts SET occurrences = occurrences + 1 WHERE id = ?", [prior[0]["id"]])
                        continue
                row = alert.as_row()
                row["facts"] = json.dumps(row["facts"])
                row["remediation"] = json.dumps(row["remediation"])
                row["mfa"] = None if alert.mfa is None else int(alert.mfa)
                row["created_at"] = stamp
                row = storable_row(row)
                cursor = conn.execute(
                    f"INSERT INTO alerts ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",  # noqa: S608
                    list(row.values()),
                )
                created.append(cursor.lastrowid)
        return created

    def _stored_ids(self, ids: list[str]) -> set[str]:
        # One statement for all of them, the ids handed over as one JSON array: a batch's 2000 lookups cost about
        # half what IN lists of bound parameters (500 at most each) did. ensure_ascii=False: text reaches SQLite as
        # it is, never as \u escapes for SQLite's JSON reader to decode.
        rows = self._db.sql.conn.execute(
            "SELECT events.event_id FROM json_each(?) AS asked JOIN events ON events.event_id = asked.value",
            [json.dumps(ids, ensure_ascii=False)],
        )
        return {r[0] for r in rows.fetchall()}

    def memory_rows(self, memories: Iterable[str], after: int = 0) -> list[MemoryRow]:
        """The stored memory rows of the named memories stored after sequence number `after`, in the order they were
        stored."""
        names = sorted({storable(m) for m in memories})
        if not names:
            return []
        columns = ("seq", *MEMORY_COLUMNS)
        with self._db.lock:
            cursor = self._db.sql.conn.execute(
                f"SELECT {', '.join(columns)} FROM rule_memory"  # noqa: S608
                f" WHERE seq > ? AND memory IN ({','.join('?' * len(names))}) ORDER BY seq",
                [after, *names],
            )
            return [MemoryRow.from_row(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]

    def memory_rebuild_pending(self) -> bool:
        """Whether this database predates rule_memory and the memory has not been rebuilt from its rows yet."""
        return Cursors(self._db).cursor(MEMORY_REBUILD) == "pending"

    def memory_rebuilt(self, memory: Iterable[Fact]) -> None:
        """Store the memory rebuilt from older rows (as store_batch's `memory`) and clear the pending rebuild."""
        self.store_batch([], [], memory=memory)
        Cursors(self._db).clear_cursor(MEMORY_REBUILD)

    def events_since(self, event_time: str) -> list[EventRow]:
        """Stored events with an eventTime at or after `event_time` (CloudTrail's text), oldest first."""
        with self._db.lock:
            cursor = self._db.sql.conn.execute(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE event_time >= ? ORDER BY event_time",  # noqa: S608
                [storable(event_time)],
            )
            return [EventRow.from_row(dict(zip(EVENT_COLUMNS, row, strict=True))) for row in cursor.fetchall()]

    def latest_event_time(self) -> str | None:
        """The latest stored eventTime (CloudTrail's text), or None when no event is stored."""
        with self._db.lock:
            return self._db.sql.conn.execute("SELECT max(event_time) FROM events").fetchone()[0]

    def latest_event_per_account(self, limit: int = 50) -> list[AccountFeed]:
        """Each account's latest stored event (its eventTime and when it was stored), most recent first, at most
        `limit` accounts (events the bot made itself, with no account, left out)."""
        with self._db.lock:
            rows = self._db.sql.conn.execute(_LATEST_PER_ACCOUNT, [limit]).fetchall()
        return [AccountFeed(account, utc(event_at), utc(stored_at)) for account, event_at, stored_at in rows]

    def alert(self, alert_id: int) -> AlertRow | None:
        """One alert by id, or None."""
        with self._db.lock:
            rows = list(self._db.sql["alerts"].rows_where("id = ?", [alert_id]))
        return AlertRow.from_row(rows[0]) if rows else None

    def alerts(self, **where: Any) -> list[AlertRow]:
        """Alerts whose columns equal the given values (e.g. status="open"), oldest first."""
        clause = " AND ".join(f"{k} = ?" for k in where) or "1"
        with self._db.lock:
            rows = self._db.sql["alerts"].rows_where(clause, list(where.values()), order_by="id")
            return [AlertRow.from_row(r) for r in rows]

    def posted_alerts(self, account: str, until: datetime) -> list[AlertRow]:
        """The alerts of `account` posted to Slack and raised at or before `until`, oldest first (the messages a
        remediation may have made stale)."""
        with self._db.lock:
            rows = self._db.sql["alerts"].rows_where(
                "account = ? AND post_state = ? AND created_at <= ?",
                [storable(account), PostState.POSTED, iso(until)],
                order_by="id",
            )
            return [AlertRow.from_row(r) for r in rows]

    def acknowledge(self, alert_id: int, user: str) -> tuple[bool, AlertRow]:
        """Mark an alert acknowledged by `user`; returns (changed, alert). A second call changes nothing."""
        with self._db.tx() as db:
            row = db["alerts"].get(alert_id)
            if row["status"] == AlertStatus.ACKNOWLEDGED:
                return False, AlertRow.from_row(row)
            db["alerts"].update(
                alert_id, {"status": AlertStatus.ACKNOWLEDGED, "acked_by": user, "acked_at": self._db.now()}
            )
            return True, AlertRow.from_row(db["alerts"].get(alert_id))

    def alerts_between(self, since: datetime, until: datetime) -> int:
        """How many alerts were raised in [since, until)."""
        with self._db.lock:
            return self._db.sql["alerts"].count_where("created_at >= ? AND created_at < ?", [iso(since), iso(until)])

    def alerts_raised(self, since: datetime, until: datetime) -> list[AlertRow]:
        """The alerts raised in [since, until) (muted ones too), oldest first."""
        with self._db.lock:
            rows = self._db.sql["alerts"].rows_where(
                "created_at >= ? AND created_at < ?", [iso(since), iso(until)], order_by="id"
            )
            return [AlertRow.from_row(r) for r in rows]
