"""What App Home reads of the store: each account's latest stored event (by index, not a scan), rule mutes about to
expire, open findings counted per check, and feed_health()'s open silence from the watch's cursors."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from core.rule_mutes import MuteScope
from core.severity import Severity
from ingest.feed_watch import LAST_HEARD, SILENCE, feed_health
from storage import Store
from storage.events import _LATEST_PER_ACCOUNT
from tests.findings import failing


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def event(event_id: str, account: str | None, event_time: str) -> dict:
    return {"event_id": event_id, "event_name": "GetUser", "event_time": event_time, "account": account, "source": "t"}


def test_latest_event_per_account_is_the_last_stored_most_recent_account_first(tmp_path):
    clock = Clock()
    store = Store(tmp_path / "a.db", clock=clock)
    store.store_batch([event("a1", "111111111111", "2026-11-20T10:00:00Z")], [])
    clock.now += timedelta(minutes=5)
    store.store_batch(
        [event("b1", "222222222222", "2026-11-23T07:59:00Z"), event("f1", "", "2026-11-23T08:00:00Z")], []
    )
    clock.now += timedelta(minutes=5)
    store.store_batch([event("a2", "111111111111", "2026-11-22T10:00:00Z"), event("n1", None, "x")], [])
    latest = store.latest_event_per_account()
    assert [(a.account, a.last_event_at, a.last_stored_at) for a in latest] == [
        ("111111111111", datetime(2026, 11, 22, 10, 0, tzinfo=UTC), datetime(2026, 11, 23, 8, 10, tzinfo=UTC)),
        ("222222222222", datetime(2026, 11, 23, 7, 59, tzinfo=UTC), datetime(2026, 11, 23, 8, 5, tzinfo=UTC)),
    ]  # the feed watch's own events (no account) left out
    assert [a.account for a in store.latest_event_per_account(limit=1)] == ["111111111111"]
    plan = " ".join(r[3] for r in store.db.conn.execute(f"EXPLAIN QUERY PLAN {_LATEST_PER_ACCOUNT}", [50]))
    assert "idx_events_account_stored_at" in plan and "SCAN events" not in plan


def test_rule_mutes_expiring_within_a_window(tmp_path):
    store = Store(tmp_path / "a.db", clock=Clock())
    store.add_rule_mute("root_activity", MuteScope.ACCOUNT, "111111111111", "soon", "U1", 2)
    store.add_rule_mute("root_activity", MuteScope.ACCOUNT, "222222222222", "later", "U1", 30)
    lifted = store.add_rule_mute("root_activity", MuteScope.ACCOUNT, "333333333333", "lifted", "U1", 1)[1]
    store.remove_rule_mute(lifted.id, "U1")
    assert [m.reason for m in store.rule_mutes_expiring(timedelta(days=7))] == ["soon"]


def test_feed_health_reads_the_life_and_an_open_silence(tmp_path, caplog):
    store = Store(tmp_path / "a.db")
    empty = feed_health(store, "SQS queue q", 30)
    assert empty.last_life is None and empty.silence_alert is None and empty.accounts == ()
    store.set_cursor(LAST_HEARD, "2026-11-23T08:00:00+00:00")
    store.set_cursor(SILENCE, json.dumps({"alert_id": 4, "since": "2026-11-23T07:00:00+00:00"}))
    health = feed_health(store, "SQS queue q", 30)
    assert health.last_life == datetime(2026, 11, 23, 8, 0, tzinfo=UTC) and health.silence_alert == 4
    assert health.quiet(datetime(2026, 11, 23, 8, 31, tzinfo=UTC))
    assert not health.quiet(datetime(2026, 11, 23, 8, 29, tzinfo=UTC))
    store.set_cursor(SILENCE, json.dumps({"alert_id": 4, "since": "x", "back": "2026-11-23T08:00:00+00:00"}))
    assert feed_health(store, "SQS queue q", 30).silence_alert is None  # back: the reply is all that is left
    lookup = feed_health(store, "polls", 30, life=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert lookup.last_life == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # LookupEvents mode: the polls' life
    store.set_cursor(SILENCE, "{not json")
    caplog.set_level(logging.WARNING)
    assert feed_health(store, "SQS queue q", 30).silence_alert is None
    assert f"unreadable {SILENCE} cursor" in caplog.text


def test_open_findings_counted_per_check_most_severe_first(tmp_path):
    store = Store(tmp_path / "a.db")
    audit = store.start_audit("command", "U1", ["1"])
    rows = [failing("key_rotation", "1", f"user/{i}", "medium", "Old key") for i in range(3)]
    rows += [failing("root_mfa", "1", "root", "critical", "Root without MFA"), failing("x_low", "1", "r", "low", "L")]
    rows += [failing("a_medium", "1", "r", "medium", "M")]
    store.record_findings(audit, rows, set(), [])
    store.record_findings(store.start_audit("command", "U1", ["1"]), rows[1:], {("1", "key_rotation")}, [])
    assert [(c.check_id, c.severity, c.title, c.count) for c in store.open_findings_by_check()] == [
        ("root_mfa", Severity.CRITICAL, "Root without MFA", 1),
        ("key_rotation", Severity.MEDIUM, "Old key", 2),  # one of its three resolved by the second audit
        ("a_medium", Severity.MEDIUM, "M", 1),
        ("x_low", Severity.LOW, "L", 1),
    ]
