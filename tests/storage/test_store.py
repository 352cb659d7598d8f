"""The store: migrations, durability across reopen, dedupe, folding, action claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.alert import Alert
from core.severity import Severity
from storage import Store
from storage.store import MIGRATIONS


def make(event_id: str, rule: str = "root_activity", dedup: str = "k") -> Alert:
    return Alert(
        rule=rule,
        severity=Severity.HIGH,
        title="t",
        event_id=event_id,
        event_name="ListUsers",
        event_source="iam.amazonaws.com",
        event_time="2026-11-23T08:00:00Z",
        account="1",
        region="us-east-1",
        actor_arn="arn:aws:iam::1:root",
        actor_type="Root",
        dedup_key=dedup,
    )


def event(event_id: str) -> dict:
    return {
        "event_id": event_id,
        "event_name": "ListUsers",
        "event_time": "2026-11-23T08:00:00Z",
        "account": "1",
        "source": "t",
    }


def test_migrations_are_idempotent_and_data_survives_reopen(tmp_path):
    store = Store(tmp_path / "a.db")
    store.store_batch([event("e1")], [make("e1")])
    store.close()
    again = Store(tmp_path / "a.db")
    assert again.migrate() == len(MIGRATIONS)
    assert [a["event_id"] for a in again.alerts()] == ["e1"]
    assert again.seen_events(["e1", "e2"]) == {"e1"}


def test_redelivered_event_creates_nothing(tmp_path):
    store = Store(tmp_path / "a.db")
    assert len(store.store_batch([event("e1")], [make("e1", rule="root_login", dedup="a")])) == 1
    assert store.store_batch([event("e1")], [make("e1", rule="root_login", dedup="a")]) == []
    assert len(store.alerts()) == 1


def test_repeats_fold_within_window_only(tmp_path):
    now = [datetime(2026, 11, 23, 8, 0, tzinfo=UTC)]
    store = Store(tmp_path / "a.db", clock=lambda: now[0])
    windows = {"root_activity": 60}
    assert len(store.store_batch([event("e1")], [make("e1")], windows)) == 1
    assert store.store_batch([event("e2")], [make("e2")], windows) == []
    assert store.alerts()[0]["occurrences"] == 2
    now[0] += timedelta(minutes=61)
    assert len(store.store_batch([event("e3")], [make("e3")], windows)) == 1


def test_failed_action_can_be_retried_but_done_cannot(tmp_path):
    store = Store(tmp_path / "a.db")
    [alert_id] = store.store_batch([event("e1")], [make("e1")])
    verdict, row = store.claim_action(alert_id, "iam_disable_key", "U1")
    assert verdict == "run"
    store.finish_action(row["id"], "failed", "throttled")
    verdict, row = store.claim_action(alert_id, "iam_disable_key", "U2")
    assert verdict == "run"
    store.finish_action(row["id"], "done", "ok")
    assert store.claim_action(alert_id, "iam_disable_key", "U1")[0] == "already"


def test_dead_letters_and_cursors(tmp_path):
    store = Store(tmp_path / "a.db")
    store.add_dead_letter("sqs", "not JSON", b"\xff{")
    assert store.dead_letters()[0]["reason"] == "not JSON"
    assert store.cursor("lookup:us-east-1") is None
    store.set_cursor("lookup:us-east-1", "2026-11-23T08:00:00Z")
    store.set_cursor("lookup:us-east-1", "2026-11-23T09:00:00Z")
    assert store.cursor("lookup:us-east-1") == "2026-11-23T09:00:00Z"
