"""The SQLite store (via sqlite-utils). Nobody else writes SQL.

One connection shared across the bot's threads, guarded by a lock; WAL journal so a crash loses nothing
that was committed. Every method is one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from core.alert import Alert
from core.states import FINAL_STATES, ActionState, AlertStatus, ClaimVerdict, FindingState, PostState


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


def _storable_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: storable(value) if isinstance(value, str) else value for key, value in row.items()}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _v1(db: sqlite_utils.Database) -> None:
    db["events"].create(
        {
            "event_id": str,
            "event_name": str,
            "event_time": str,
            "account": str,
            "source": str,
            "stored_at": str,
        },
        pk="event_id",
    )
    db["alerts"].create(
        {
            "id": int,
            "rule": str,
            "severity": str,
            "title": str,
            "event_id": str,
            "event_name": str,
            "event_source": str,
            "event_time": str,
            "account": str,
            "region": str,
            "actor_arn": str,
            "actor_type": str,
            "actor_key_id": str,
            "actor_user": str,
            "mfa": int,
            "source_ip": str,
            "user_agent": str,
            "target": str,
            "facts": str,
            "remediation": str,
            "dedup_key": str,
            "thread_key": str,
            "occurrences": int,
            "status": str,  # open | acknowledged
            "acked_by": str,
            "acked_at": str,
            "created_at": str,
            "post_state": str,  # pending | sending | posted
            "post_attempts": int,
            "post_error": str,
            "sending_since": str,
            "channel": str,
            "ts": str,
            "thread_ts": str,
            "posted_at": str,
        },
        pk="id",
        defaults={"occurrences": 1, "status": "open", "post_state": "pending", "post_attempts": 0},
    )
    db["alerts"].create_index(["post_state"])
    db["alerts"].create_index(["thread_key", "created_at"])
    db["alerts"].create_index(["dedup_key", "created_at"])
    db["alerts"].create_index(["rule", "target"])
    db["actions"].create(
        {
            "id": int,
            "alert_id": int,
            "action": str,
            "state": str,  # awaiting_approval | running | done | noop | refused | failed
            "requested_by": str,
            "approved_by": str,
            "detail": str,
            "aws_request_id": str,
            "created_at": str,
            "finished_at": str,
        },
        pk="id",
        foreign_keys=[("alert_id", "alerts", "id")],
    )
    db["actions"].create_index(["alert_id", "action"])
    db["dead_letters"].create({"id": int, "source": str, "reason": str, "body": str, "received_at": str}, pk="id")
    db["cursors"].create({"key": str, "value": str, "updated_at": str}, pk="key")


def _v2(db: sqlite_utils.Database) -> None:
    """Audits: findings with their lifecycle, mutes, audit runs, scheduled job slots."""
    db["audits"].create(
        {
            "id": int,
            "trigger": str,
            "requested_by": str,
            "started_at": str,
            "finished_at": str,
            "accounts": str,
            "errors": str,
            "counts": str,
            "new": int,
            "resolved": int,
        },
        pk="id",
    )
    db["findings"].create(
        {
            "id": int,
            "check_id": str,
            "account": str,
            "resource": str,
            "severity": str,
            "title": str,
            "detail": str,
            "status": str,
            "first_seen": str,
            "last_seen": str,
            "resolved_at": str,
            "first_audit": int,
            "last_audit": int,
        },
        pk="id",
    )
    db["findings"].create_index(["check_id", "account", "resource"], unique=True)
    db["findings"].create_index(["status"])
    db["mutes"].create(
        {
            "id": int,
            "check_id": str,
            "account": str,
            "resource": str,
            "reason": str,
            "muted_by": str,
            "created_at": str,
            "expires_at": str,
            "removed_at": str,
            "removed_by": str,
        },
        pk="id",
    )
    db["job_runs"].create(
        {"job": str, "slot": str, "owner": str, "started_at": str, "finished_at": str, "outcome": str},
        pk=("job", "slot"),
    )


def _v3(db: sqlite_utils.Database) -> None:
    """Who made each processed event and the error AWS gave, for rules that count refused calls."""
    db["events"].add_column("actor", str)
    db["events"].add_column("error_code", str)
    db["events"].create_index(["actor", "event_time"])


def _v4(db: sqlite_utils.Database) -> None:
    """The rules' declared memory (detections.memory), one row per remembered event, whatever the rule. `seq` only
    grows (AUTOINCREMENT), so an instance can read what other instances remembered since it last looked."""
    db.execute(
        "CREATE TABLE rule_memory (seq INTEGER PRIMARY KEY AUTOINCREMENT, memory TEXT NOT NULL, key TEXT NOT NULL,"
        " event_id TEXT NOT NULL, rule TEXT, value TEXT, at TEXT NOT NULL, UNIQUE (memory, key, event_id))"
    )
    db["rule_memory"].create_index(["memory", "at"])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4]

MEMORY_VERSION = 4  # the migration that made rule_memory
MEMORY_REBUILD = "rule_memory.rebuild"  # cursor set while a database older than rule_memory awaits its rebuild
EVENT_COLUMNS = ("event_id", "event_name", "event_time", "account", "source", "actor", "error_code", "stored_at")
MEMORY_COLUMNS = ("memory", "key", "event_id", "rule", "value", "at")


class Store:
    """Every table of the bot: events, alerts, actions, dead letters, cursors."""

    def __init__(self, path: str | Path, clock: Callable[[], datetime] = utcnow) -> None:
        self.path = str(path)
        self.clock = clock
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        self.migrate()

    # -- plumbing -------------------------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite_utils.Database]:
        with self._lock:
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.conn.execute("ROLLBACK")
                raise
            self.db.conn.execute("COMMIT")

    def _now(self) -> str:
        return _iso(self.clock())

    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version."""
        with self._tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
            done = {row[0] for row in db.execute("SELECT version FROM schema_migrations").fetchall()}
            for version, step in enumerate(MIGRATIONS, start=1):
                if version not in done:
                    step(db)
                    db["schema_migrations"].insert({"version": version, "applied_at": self._now()})
            if done and MEMORY_VERSION not in done:  # an older database: its rules' memory is still in its rows
                db["cursors"].insert({"key": MEMORY_REBUILD, "value": "pending", "updated_at": self._now()})
        return len(MIGRATIONS)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.db.conn.close()

    # -- ingest ---------------------------------------------------------------------------------------------

    def seen_events(self, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` already stored (a redelivered event posts nothing new)."""
        ids = [storable(e) for e in event_ids if e]
        if not ids:
            return set()
        with self._lock:
            return self._stored_ids(ids)

    def store_batch(
        self,
        events: Iterable[dict],
        alerts: Iterable[Alert],
        dedup_windows: dict[str, int] | None = None,
        memory: Iterable[dict] = (),
        forget: dict[str, datetime] | None = None,
    ) -> list[int]:
        """Durably store processed events, their alerts and the rules' memory in one transaction; returns new
        alert ids.

        `events` are {"event_id", "event_name", "event_time", "account", "source"} plus optionally "actor" and
        "error_code"; an event already stored is skipped together with its alerts. Text is stored as `storable`
        makes it (an event id with a lone surrogate is the same event as its escaped form). An alert whose rule
        has a dedup window (minutes, in `dedup_windows`) and whose dedup key already has an alert in that window
        is folded into it. `memory` rows are {"memory", "key", "event_id", "rule", "value", "at"} (a datetime),
        kept once per memory, key and event; `forget` drops each named memory's rows from before its time.
        """
        windows = dedup_windows or {}
        now = self.clock()
        stamp = _iso(now)
        rows: dict[str, tuple] = {}
        for event in events:
            event = _storable_row({**event, "stored_at": stamp})
            rows.setdefault(event["event_id"], tuple(event.get(c) for c in EVENT_COLUMNS))
        facts = [
            tuple(storable(v) if isinstance(v, str) else _iso(v) for v in (f[c] for c in MEMORY_COLUMNS))
            for f in memory
        ]
        created: list[int] = []
        with self._tx() as db:
            conn = db.conn
            already = self._stored_ids(list(rows))
            fresh = rows.keys() - already
            conn.executemany(
                f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",  # noqa: S608
                [row for event_id, row in rows.items() if event_id in fresh],
            )
            conn.executemany(
                f"INSERT OR IGNORE INTO rule_memory ({', '.join(MEMORY_COLUMNS)})"  # noqa: S608
                f" VALUES ({', '.join('?' * len(MEMORY_COLUMNS))})",
                facts,
            )
            for name, before in (forget or {}).items():
                conn.execute("DELETE FROM rule_memory WHERE memory = ? AND at < ?", [storable(name), _iso(before)])
            for alert in alerts:
                if storable(alert.event_id) not in fresh:
                    continue
                minutes = windows.get(alert.rule, 0)
                if minutes:
                    since = _iso(now - timedelta(minutes=minutes))
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
                row = _storable_row(row)
                cursor = conn.execute(
                    f"INSERT INTO alerts ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",  # noqa: S608
                    list(row.values()),
                )
                created.append(cursor.lastrowid)
        return created

    def _stored_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.conn.execute(f"SELECT event_id FROM events WHERE event_id IN ({marks})", chunk)  # noqa: S608
            found.update(r[0] for r in rows.fetchall())
        return found

    def memory_rows(self, memories: Iterable[str], after: int = 0) -> list[dict]:
        """The stored memory rows of the named memories stored after sequence number `after`, in the order they were
        stored, each with its "seq" and with "at" as a datetime."""
        names = sorted({storable(m) for m in memories})
        if not names:
            return []
        columns = ("seq", *MEMORY_COLUMNS)
        with self._lock:
            cursor = self.db.conn.execute(
                f"SELECT {', '.join(columns)} FROM rule_memory"  # noqa: S608
                f" WHERE seq > ? AND memory IN ({','.join('?' * len(names))}) ORDER BY seq",
                [after, *names],
            )
            return [{**dict(zip(columns, row, strict=True)), "at": _parse_iso(row[-1])} for row in cursor.fetchall()]

    def memory_rebuild_pending(self) -> bool:
        """Whether this database predates rule_memory and the memory has not been rebuilt from its rows yet."""
        return self.cursor(MEMORY_REBUILD) == "pending"

    def memory_rebuilt(self, memory: Iterable[dict]) -> None:
        """Store the memory rebuilt from older rows (as store_batch's `memory`) and clear the pending rebuild."""
        self.store_batch([], [], memory=memory)
        with self._tx() as db:
            db.execute("DELETE FROM cursors WHERE key = ?", [MEMORY_REBUILD])

    def events_since(self, event_time: str) -> list[dict]:
        """Stored events with an eventTime at or after `event_time` (CloudTrail's text), oldest first."""
        with self._lock:
            cursor = self.db.conn.execute(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE event_time >= ? ORDER BY event_time",  # noqa: S608
                [storable(event_time)],
            )
            return [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in cursor.fetchall()]

    def latest_event_time(self) -> str | None:
        """The latest stored eventTime (CloudTrail's text), or None when no event is stored."""
        with self._lock:
            return self.db.conn.execute("SELECT max(event_time) FROM events").fetchone()[0]

    def refused_calls(
        self, actor: str, event_names: Iterable[str], error_codes: Iterable[str], since: str, until: str
    ) -> int:
        """How many stored events by `actor`, named one of `event_names`, failed with one of `error_codes` with
        an eventTime in [since, until] (CloudTrail's `YYYY-MM-DDTHH:MM:SSZ` text, compared as text)."""
        names, codes = sorted(set(event_names)), sorted(set(error_codes))
        if not names or not codes:
            return 0
        where = (
            f"actor = ? AND event_time >= ? AND event_time <= ? AND event_name IN ({','.join('?' * len(names))}) "
            f"AND error_code IN ({','.join('?' * len(codes))})"
        )
        with self._lock:
            params = [storable(v) for v in (actor, since, until, *names, *codes)]
            return self.db["events"].count_where(where, params)

    # -- outbox ---------------------------------------------------------------------------------------------

    def alerts_to_post(self, limit: int = 50) -> list[dict]:
        """Alerts not yet accepted by Slack, oldest first."""
        with self._lock:
            rows = self.db["alerts"].rows_where("post_state != ?", [PostState.POSTED], order_by="id", limit=limit)
            return [self._decode(r) for r in rows]

    def mark_sending(self, alert_id: int) -> None:
        """Record that a post is about to be attempted (so a crash mid-post can be checked on restart)."""
        with self._tx() as db:
            db.execute(
                "UPDATE alerts SET post_state = ?, sending_since = ?, post_attempts = post_attempts + 1 WHERE id = ?",
                [PostState.SENDING, self._now(), alert_id],
            )

    def mark_posted(self, alert_id: int, channel: str, ts: str, thread_ts: str | None) -> None:
        """Record Slack's acceptance of an alert."""
        with self._tx() as db:
            db["alerts"].update(
                alert_id,
                {
                    "post_state": PostState.POSTED,
                    "channel": channel,
                    "ts": ts,
                    "thread_ts": thread_ts,
                    "posted_at": self._now(),
                    "post_error": None,
                },
            )

    def mark_post_failed(self, alert_id: int, error: str) -> None:
        """Record a failed post; the alert stays in the outbox."""
        with self._tx() as db:
            db["alerts"].update(alert_id, {"post_state": PostState.PENDING, "post_error": error[:500]})

    def thread_root(self, thread_key: str, since: datetime, exclude_id: int) -> dict | None:
        """The first posted top-level alert of this thread key at or after `since`, if any."""
        with self._lock:
            rows = list(
                self.db["alerts"].rows_where(
                    "thread_key = ? AND created_at >= ? AND post_state = ? AND thread_ts IS NULL AND id != ?",
                    [thread_key, _iso(since), PostState.POSTED, exclude_id],
                    order_by="id",
                    limit=1,
                )
            )
        return self._decode(rows[0]) if rows else None

    # -- alerts and actions ---------------------------------------------------------------------------------

    def alert(self, alert_id: int) -> dict | None:
        """One alert by id, decoded, or None."""
        with self._lock:
            rows = list(self.db["alerts"].rows_where("id = ?", [alert_id]))
        return self._decode(rows[0]) if rows else None

    def alerts(self, **where: Any) -> list[dict]:
        """Alerts whose columns equal the given values (e.g. status="open"), oldest first."""
        clause = " AND ".join(f"{k} = ?" for k in where) or "1"
        with self._lock:
            rows = self.db["alerts"].rows_where(clause, list(where.values()), order_by="id")
            return [self._decode(r) for r in rows]

    def acknowledge(self, alert_id: int, user: str) -> tuple[bool, dict]:
        """Mark an alert acknowledged by `user`; returns (changed, alert). A second call changes nothing."""
        with self._tx() as db:
            row = db["alerts"].get(alert_id)
            if row["status"] == AlertStatus.ACKNOWLEDGED:
                return False, self._decode(row)
            db["alerts"].update(
                alert_id, {"status": AlertStatus.ACKNOWLEDGED, "acked_by": user, "acked_at": self._now()}
            )
            return True, self._decode(db["alerts"].get(alert_id))

    def claim_action(self, alert_id: int, action: str, user: str, approvals: int = 1) -> tuple[ClaimVerdict, dict]:
        """Decide, atomically, what a button click does. Returns (verdict, action row); ClaimVerdict says what
        each verdict means."""
        with self._tx() as db:
            rows = list(db["actions"].rows_where("alert_id = ? AND action = ?", [alert_id, action], order_by="id desc"))
            for row in rows:
                if row["state"] in (*FINAL_STATES, ActionState.RUNNING):
                    return ClaimVerdict.ALREADY, row
            waiting = next((r for r in rows if r["state"] == ActionState.AWAITING_APPROVAL), None)
            now = self._now()
            if approvals > 1:
                if waiting is None:
                    pk = (
                        db["actions"]
                        .insert(
                            {
                                "alert_id": alert_id,
                                "action": action,
                                "state": ActionState.AWAITING_APPROVAL,
                                "requested_by": user,
                                "created_at": now,
                            }
                        )
                        .last_pk
                    )
                    return ClaimVerdict.AWAITING, db["actions"].get(pk)
                if waiting["requested_by"] == user:
                    return ClaimVerdict.SAME_APPROVER, waiting
                db["actions"].update(waiting["id"], {"state": ActionState.RUNNING, "approved_by": user})
                return ClaimVerdict.RUN, db["actions"].get(waiting["id"])
            pk = (
                db["actions"]
                .insert(
                    {
                        "alert_id": alert_id,
                        "action": action,
                        "state": ActionState.RUNNING,
                        "requested_by": user,
                        "created_at": now,
                    }
                )
                .last_pk
            )
            return ClaimVerdict.RUN, db["actions"].get(pk)

    def finish_action(self, action_id: int, state: ActionState, detail: str, aws_request_id: str | None = None) -> dict:
        """Record an action's outcome (done, noop, refused, failed)."""
        with self._tx() as db:
            db["actions"].update(
                action_id,
                {
                    "state": state,
                    "detail": storable(detail),
                    "aws_request_id": aws_request_id,
                    "finished_at": self._now(),
                },
            )
            return db["actions"].get(action_id)

    def record_refusal(self, alert_id: int, action: str, user: str, reason: str) -> None:
        """Record a refused click (e.g. by a non-admin) in the audit trail."""
        with self._tx() as db:
            now = self._now()
            db["actions"].insert(
                {
                    "alert_id": alert_id,
                    "action": action,
                    "state": ActionState.REFUSED,
                    "requested_by": user,
                    "detail": storable(reason),
                    "created_at": now,
                    "finished_at": now,
                }
            )

    def actions(self, alert_id: int) -> list[dict]:
        """The audit trail of one alert, oldest first."""
        with self._lock:
            return list(self.db["actions"].rows_where("alert_id = ?", [alert_id], order_by="id"))

    def counts(self) -> dict[str, int]:
        """Open and acknowledged alerts, alerts not yet posted, and dead letters kept."""
        with self._lock:
            alerts = self.db["alerts"]
            return {
                AlertStatus.OPEN: alerts.count_where("status = ?", [AlertStatus.OPEN]),
                AlertStatus.ACKNOWLEDGED: alerts.count_where("status = ?", [AlertStatus.ACKNOWLEDGED]),
                "unposted": alerts.count_where("post_state != ?", [PostState.POSTED]),
                "dead_letters": self.db["dead_letters"].count,
            }

    # -- dead letters and cursors ---------------------------------------------------------------------------

    def add_dead_letter(self, source: str, reason: str, body: str | bytes) -> int:
        """Keep an unreadable message with the reason (text made `storable`); returns its id."""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        row = _storable_row({"source": source, "reason": reason, "body": text, "received_at": self._now()})
        with self._tx() as db:
            return db["dead_letters"].insert(row).last_pk

    def dead_letters(self) -> list[dict]:
        """Every kept dead letter, oldest first."""
        with self._lock:
            return list(self.db["dead_letters"].rows_where(order_by="id"))

    def cursor(self, key: str) -> str | None:
        """A stored cursor value, or None."""
        with self._lock:
            rows = list(self.db["cursors"].rows_where("key = ?", [key]))
        return rows[0]["value"] if rows else None

    def set_cursor(self, key: str, value: str) -> None:
        """Store a cursor value."""
        with self._tx() as db:
            db["cursors"].upsert({"key": key, "value": value, "updated_at": self._now()}, pk="key")

    # -- audits and findings --------------------------------------------------------------------------------

    def start_audit(self, trigger: str, requested_by: str | None, accounts: list[str]) -> int:
        """Record an audit's start; returns its id."""
        with self._tx() as db:
            return (
                db["audits"]
                .insert(
                    {
                        "trigger": trigger,
                        "requested_by": requested_by,
                        "started_at": self._now(),
                        "accounts": json.dumps(accounts),
                    }
                )
                .last_pk
            )

    def record_findings(
        self, audit_id: int, failing: list[dict], checked: set[tuple[str, str]], errors: list[str]
    ) -> dict[str, list[dict]]:
        """Fold one audit's failing results into the findings; returns {"new", "open", "resolved"} rows.

        `failing` holds {"check", "account", "resource", "severity", "title", "detail"}; `checked` the
        (account, check) pairs that ran, so a check that could not run resolves nothing.
        """
        now = self._now()
        diff: dict[str, list[dict]] = {"new": [], "open": [], "resolved": []}
        with self._tx() as db:
            table = db["findings"]
            seen: set[tuple[str, str, str]] = set()
            for item in failing:
                key = (item["check"], item["account"], item["resource"])
                if key in seen:
                    continue
                seen.add(key)
                values = {
                    "severity": item["severity"],
                    "title": item["title"],
                    "detail": item["detail"],
                    "last_seen": now,
                    "last_audit": audit_id,
                }
                rows = list(table.rows_where("check_id = ? AND account = ? AND resource = ?", list(key)))
                if rows and rows[0]["status"] == FindingState.OPEN:
                    table.update(rows[0]["id"], values)
                    diff["open"].append(table.get(rows[0]["id"]))
                elif rows:  # it was resolved and is back: new again
                    table.update(
                        rows[0]["id"],
                        {
                            **values,
                            "status": FindingState.OPEN,
                            "first_seen": now,
                            "resolved_at": None,
                            "first_audit": audit_id,
                        },
                    )
                    diff["new"].append(table.get(rows[0]["id"]))
                else:
                    pk = table.insert(
                        {
                            "check_id": key[0],
                            "account": key[1],
                            "resource": key[2],
                            **values,
                            "status": FindingState.OPEN,
                            "first_seen": now,
                            "first_audit": audit_id,
                        }
                    ).last_pk
                    diff["new"].append(table.get(pk))
            for row in list(table.rows_where("status = ?", [FindingState.OPEN])):
                key = (row["check_id"], row["account"], row["resource"])
                if (row["account"], row["check_id"]) in checked and key not in seen:
                    table.update(
                        row["id"], {"status": FindingState.RESOLVED, "resolved_at": now, "last_audit": audit_id}
                    )
                    diff["resolved"].append(table.get(row["id"]))
            counts: dict[str, int] = {}
            for row in table.rows_where("status = ?", [FindingState.OPEN]):
                counts[row["severity"]] = counts.get(row["severity"], 0) + 1
            db["audits"].update(
                audit_id,
                {
                    "finished_at": now,
                    "errors": json.dumps(errors),
                    "counts": json.dumps(counts),
                    "new": len(diff["new"]),
                    "resolved": len(diff["resolved"]),
                },
            )
        return diff

    def findings(self, status: FindingState | None = None) -> list[dict]:
        """Findings (optionally of one status), most severe first."""
        order = (
            "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 "
            "ELSE 4 END, check_id, resource"
        )
        with self._lock:
            if status:
                return list(self.db["findings"].rows_where("status = ?", [status], order_by=order))
            return list(self.db["findings"].rows_where(order_by=order))

    def findings_between(self, since: datetime, until: datetime) -> dict[str, list[dict]]:
        """Findings first seen (and still open), and findings resolved, in [since, until)."""
        window = [_iso(since), _iso(until)]
        with self._lock:
            table = self.db["findings"]
            return {
                "new": list(
                    table.rows_where(
                        "first_seen >= ? AND first_seen < ? AND status = ?", [*window, FindingState.OPEN], order_by="id"
                    )
                ),
                "resolved": list(table.rows_where("resolved_at >= ? AND resolved_at < ?", window, order_by="id")),
            }

    def alerts_between(self, since: datetime, until: datetime) -> int:
        """How many alerts were raised in [since, until)."""
        with self._lock:
            return self.db["alerts"].count_where("created_at >= ? AND created_at < ?", [_iso(since), _iso(until)])

    def last_audit(self) -> dict | None:
        """The most recent finished audit, decoded, or None."""
        with self._lock:
            rows = list(self.db["audits"].rows_where("finished_at IS NOT NULL", order_by="id desc", limit=1))
        if not rows:
            return None
        row = rows[0]
        return {**row, **{k: json.loads(row[k] or "null") for k in ("accounts", "errors", "counts")}}

    # -- mutes ----------------------------------------------------------------------------------------------

    def add_mute(self, check_id: str, account: str, resource: str, reason: str, muted_by: str, days: int) -> dict:
        """Mute a check for one resource (an ARN, `account`, or `tag:Key=Value`) for `days`."""
        now = self.clock()
        with self._tx() as db:
            pk = (
                db["mutes"]
                .insert(
                    {
                        "check_id": check_id,
                        "account": account,
                        "resource": resource,
                        "reason": reason,
                        "muted_by": muted_by,
                        "created_at": _iso(now),
                        "expires_at": _iso(now + timedelta(days=days)),
                    }
                )
                .last_pk
            )
            return db["mutes"].get(pk)

    def remove_mute(self, mute_id: int, removed_by: str) -> dict | None:
        """Lift a mute; returns it, or None when no active mute has that id."""
        with self._tx() as db:
            rows = list(db["mutes"].rows_where("id = ? AND removed_at IS NULL", [mute_id]))
            if not rows:
                return None
            db["mutes"].update(mute_id, {"removed_at": self._now(), "removed_by": removed_by})
            return db["mutes"].get(mute_id)

    def active_mutes(self) -> list[dict]:
        """Mutes neither lifted nor expired."""
        with self._lock:
            return list(
                self.db["mutes"].rows_where(
                    "removed_at IS NULL AND expires_at > ?", [self._now()], order_by="expires_at"
                )
            )

    def finding(self, finding_id: int) -> dict | None:
        """One finding by id, or None."""
        with self._lock:
            rows = list(self.db["findings"].rows_where("id = ?", [finding_id]))
        return rows[0] if rows else None

    def active_mute_for(self, check_id: str, account: str, resource: str) -> dict | None:
        """An active mute naming exactly this check, account and resource, if any."""
        for mute in self.active_mutes():
            if (mute["check_id"], mute["account"], mute["resource"]) == (check_id, account, resource):
                return mute
        return None

    def mutes_expiring(self, within: timedelta) -> list[dict]:
        """Active mutes that expire within `within`."""
        limit = _iso(self.clock() + within)
        return [m for m in self.active_mutes() if m["expires_at"] <= limit]

    # -- scheduled jobs -------------------------------------------------------------------------------------

    def claim_slot(self, job: str, slot: datetime, owner: str) -> bool:
        """Claim one scheduled run of a job; only the first instance to ask gets True."""
        with self._tx() as db:
            key = [job, _iso(slot)]
            if db["job_runs"].count_where("job = ? AND slot = ?", key):
                return False
            db["job_runs"].insert({"job": job, "slot": _iso(slot), "owner": owner, "started_at": self._now()})
            return True

    def finish_slot(self, job: str, slot: datetime, outcome: str) -> None:
        """Record how a claimed run ended."""
        with self._tx() as db:
            db["job_runs"].update((job, _iso(slot)), {"finished_at": self._now(), "outcome": outcome[:500]})

    def last_slot(self, job: str) -> datetime | None:
        """The latest claimed slot of a job."""
        with self._lock:
            rows = list(self.db["job_runs"].rows_where("job = ?", [job], order_by="slot desc", limit=1))
        return datetime.fromisoformat(rows[0]["slot"].replace("Z", "+00:00")) if rows else None

    # -- helpers --------------------------------------------------------------------------------------------

    @staticmethod
    def _decode(row: dict) -> dict:
        out = dict(row)
        for key in ("facts", "remediation"):
            out[key] = json.loads(out[key]) if out.get(key) else {}
        if out.get("mfa") is not None:
            out["mfa"] = bool(out["mfa"])
        return out
