"""iam_writes_refused through the real pipeline and store: counting across batches, the window, folding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from detections import example_records
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from storage import Store
from storage.store import MIGRATIONS
from tests.ingest.conftest import new_event_id

PROBER = example_records.iam_user("build-agent")
ATTEMPTS = ("CreateUser", "AttachUserPolicy", "CreateAccessKey", "PutUserPolicy", "CreateLoginProfile", "CreateUser")


def refused(name: str, minute: int, actor: dict = PROBER, error: str = "AccessDenied") -> dict:
    """A refused IAM write at 09:<minute>:00 on the samples' day."""
    return example_records.iam_call(
        name,
        {"userName": "support-backup"},
        event_id=new_event_id(),
        actor=actor,
        error=error,
        time=f"2024-05-14T09:{minute:02d}:00Z",
        ip="203.0.113.77",
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(tmp_path / "warden.db")
    yield db
    db.close()


@pytest.fixture
def pipeline(store: Store) -> Pipeline:
    return Pipeline(store, PipelineContext(store))


def rule_alerts(store: Store) -> list[dict]:
    return [a for a in store.alerts() if a["rule"] == "iam_writes_refused"]


def test_the_fifth_refusal_in_one_batch_alerts_once_and_the_sixth_folds_into_it(
    pipeline: Pipeline, store: Store
) -> None:
    pipeline.process([refused(name, minute) for minute, name in enumerate(ATTEMPTS)], "test")
    [alert] = rule_alerts(store)
    assert alert["actor_arn"] == PROBER["arn"] and alert["target"] == PROBER["arn"]
    assert alert["title"] == "5 IAM writes refused to one identity within 10 minutes"
    assert alert["occurrences"] == 2
    assert alert["actor_key_id"] == PROBER["accessKeyId"]  # so the alert offers iam_disable_actor_key


def test_refusals_count_across_batches_from_the_store(pipeline: Pipeline, store: Store) -> None:
    for minute, name in enumerate(ATTEMPTS[:4]):
        pipeline.process([refused(name, minute)], "test")
    assert rule_alerts(store) == []
    pipeline.process([refused("AttachGroupPolicy", 6)], "test")
    assert len(rule_alerts(store)) == 1


def test_refusals_spread_beyond_ten_minutes_do_not_alert(pipeline: Pipeline, store: Store) -> None:
    pipeline.process([refused(name, minute * 11) for minute, name in enumerate(ATTEMPTS[:5])], "test")
    assert rule_alerts(store) == []


def test_other_callers_other_errors_and_redeliveries_do_not_count(pipeline: Pipeline, store: Store) -> None:
    first = [refused(name, minute) for minute, name in enumerate(ATTEMPTS[:3])]
    pipeline.process(first, "test")
    pipeline.process(first, "test")  # redelivered: already stored, not counted twice
    someone_else = refused("CreateUser", 4, actor=example_records.iam_user("carol"))
    quota = refused("CreateAccessKey", 5, error="LimitExceededException")
    reads = example_records.iam_call(
        "ListUsers", None, event_id=new_event_id(), actor=PROBER, error="AccessDenied", time="2024-05-14T09:05:30Z"
    )
    pipeline.process([someone_else, quota, reads], "test")
    assert rule_alerts(store) == []
    pipeline.process([refused("PutUserPolicy", 7)], "test")  # the fourth that counts
    assert rule_alerts(store) == []
    pipeline.process([refused("PutUserPolicy", 8)], "test")
    assert len(rule_alerts(store)) == 1


def test_a_version_2_database_upgrades_and_keeps_its_events(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    # The version 2 schema, built by the real migrations stopping where an older release stopped.
    db = sqlite_utils.Database(path)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for version, step in enumerate(MIGRATIONS[:2], start=1):
        step(db)
        db["schema_migrations"].insert({"version": version, "applied_at": "2026-01-01T00:00:00Z"})
    db["events"].insert(
        {"event_id": "e-old", "event_name": "CreateUser", "event_time": "2024-05-14T09:00:00Z", "account": "1"}
    )
    db.conn.close()

    store = Store(path)
    assert store.seen_events(["e-old"]) == {"e-old"}
    assert store.refused_calls(PROBER["arn"], {"CreateUser"}, {"AccessDenied"}, "2024", "2025") == 0
    Pipeline(store, PipelineContext(store)).process(
        [refused(name, minute) for minute, name in enumerate(ATTEMPTS[:5])], "test"
    )
    assert len(rule_alerts(store)) == 1
    store.close()
