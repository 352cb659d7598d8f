"""The schema: every table, created by numbered migrations that an existing database replays from where it stopped.
Tables are written only through the storage areas that own them (see storage/__init__.py)."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils


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


def _v5(db: sqlite_utils.Database) -> None:
    """Rule mutes (storage/rule_mutes.py), and the mute that kept each muted alert out of Slack."""
    db["rule_mutes"].create(
        {
            "id": int,
            "rule": str,
            "scope": str,  # actor | target | account
            "value": str,  # an exact ARN / account id, or a pattern with *
            "account": str,  # narrows the mute to one account (the Mute similar button sets it)
            "reason": str,
            "muted_by": str,
            "alert_id": int,  # the alert its Mute similar button was pressed on
            "created_at": str,
            "expires_at": str,
            "removed_at": str,
            "removed_by": str,
        },
        pk="id",
    )
    db["rule_mutes"].create_index(["rule", "expires_at"])
    db["alerts"].add_column("mute_id", int)


def _v6(db: sqlite_utils.Database) -> None:
    """Each account's latest stored event in a few index lookups (App Home's feed health), not a scan of every
    event ever stored."""
    db["events"].create_index(["account", "stored_at"])


def _v7(db: sqlite_utils.Database) -> None:
    """The CloudTrail record of each event that raised an alert, secrets redacted (storage/event_records.py), for
    an alert's Details view."""
    db["event_records"].create({"event_id": str, "record": str, "stored_at": str}, pk="event_id")


def _v8(db: sqlite_utils.Database) -> None:
    """Incidents (storage/incidents.py): an actor's alerts within the thread window under one parent message."""
    db["incidents"].create(
        {
            "id": int,
            "key": str,  # the alerts' thread_key (account and actor)
            "root_alert_id": int,  # the first alert: the parent message is its message
            "severity": str,  # the highest of its alerts
            "events": int,
            "channel": str,
            "ts": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk="id",
        foreign_keys=[("root_alert_id", "alerts", "id")],
        defaults={"events": 1},
    )
    db["incidents"].create_index(["key", "last_seen"])
    db["incidents"].create_index(["channel", "ts"])
    db["alerts"].add_column("incident_id", int)
    db["alerts"].create_index(["incident_id"])


def _v9(db: sqlite_utils.Database) -> None:
    """What each incident's alerts are about (core/incident_links.py: their thread keys, actors and targets), so a
    later alert about the same principal finds the incident. An incident opened before keeps folding by its key."""
    db["incident_links"].create({"incident_id": int, "link": str}, pk=("incident_id", "link"))
    db["incident_links"].create_index(["link"])


def _v10(db: sqlite_utils.Database) -> None:
    """Drop the index on events (actor, event_time): migration 3 made it for counting an identity's refused writes,
    which the rules' memory (migration 4) has done since; no query reads by it, and every stored event paid for it
    (3.6% of the pipeline's instructions on 8,000 IAM-heavy records, under callgrind)."""
    db.execute("DROP INDEX IF EXISTS idx_events_actor_event_time")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10]

MEMORY_VERSION = 4  # the migration that made rule_memory
MEMORY_REBUILD = "rule_memory.rebuild"  # cursor set while a database older than rule_memory awaits its rebuild
