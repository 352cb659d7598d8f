"""The state rules declare (Rule.remembers): retention, the size bound, redelivery, persistence in the store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from core.severity import Severity
from detections import example_records
from detections.base import Memory, Rule
from detections.memory import MemoryBook
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from storage import Store
from storage.schema import MIGRATIONS
from tests.ingest.conftest import new_event_id

T0 = datetime(2024, 5, 14, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def by_actor(record: dict) -> str | None:
    return str(record["userIdentity"]["arn"]) if record.get("errorCode") else None


def probe_rule(limit: int = 100_000, minutes: int = 10) -> Rule:
    """A rule that remembers every refused call by its caller and never matches."""
    return Rule(
        id="probe",
        severity=Severity.LOW,
        title="probe",
        rationale="r",
        response="r",
        event_names=frozenset({"CreateUser"}),
        event_sources=frozenset({"iam.amazonaws.com"}),
        match=lambda record, ctx: None,
        examples=(),
        remembers=(Memory(name="refusals", key=by_actor, minutes=minutes, limit=limit),),
    )


def refusal(minute: float, actor: dict | None = None, event_id: str | None = None) -> dict:
    at = T0 + timedelta(minutes=minute)
    return example_records.iam_call(
        "CreateUser",
        {"userName": "x"},
        event_id=event_id or new_event_id(),
        actor=actor or example_records.iam_user("prober"),
        error="AccessDenied",
        time=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


PROBER = example_records.iam_user("prober")["arn"]


def test_retention_counts_only_the_window_and_forgets_what_is_older_than_it() -> None:
    rule = probe_rule(minutes=10)
    book = MemoryBook([rule], late=timedelta(0))
    for minute in (0, 3, 6, 9):
        book.note(rule, refusal(minute), matched=False)
    assert book.count("refusals", PROBER, T0, T0 + timedelta(minutes=9)) == 4
    assert book.count("refusals", PROBER, T0 + timedelta(minutes=4), T0 + timedelta(minutes=9)) == 2
    assert book.count("refusals", "arn:aws:iam::111122223333:user/other", T0, T0 + timedelta(hours=1)) == 0
    assert book.recall("refusals", PROBER, T0 + timedelta(minutes=9)) is not None
    assert book.recall("refusals", PROBER, T0 + timedelta(minutes=30)) is None  # all older than 10 minutes
    book.note(rule, refusal(15), matched=False)  # 10 minutes after it, minutes 0 and 3 are gone
    assert book.size("refusals") == 3
    assert book.count("refusals", PROBER, T0, T0 + timedelta(minutes=15)) == 3
    assert book.horizons() == {"refusals": T0 + timedelta(minutes=5)}


def test_a_memory_holds_facts_from_the_first_kept_to_the_last_forgotten() -> None:
    rule = probe_rule(minutes=10)
    book = MemoryBook([rule], late=timedelta(0))
    assert not book.holds("refusals")
    book.note(rule, {**refusal(0), "errorCode": None}, matched=False)  # nothing kept under a key
    assert not book.holds("refusals")
    book.note(rule, refusal(0), matched=False)
    assert book.holds("refusals")
    other = example_records.iam_user("other")
    book.note(rule, refusal(30, other), matched=False)  # the prober's fact is past the retention: forgotten
    assert book.size("refusals") == 1 and book.holds("refusals")
    book.discard(book.pending())  # the batch could not be stored: what it taught is forgotten too
    assert book.size("refusals") == 0 and not book.holds("refusals")


def test_facts_are_kept_a_day_longer_than_their_window_for_records_that_arrive_late() -> None:
    rule = probe_rule(minutes=10)
    book = MemoryBook([rule])
    book.note(rule, refusal(0), matched=False)
    book.note(rule, refusal(60 * 23), matched=False)
    late = T0 + timedelta(minutes=5)  # a record from five minutes after the first, delivered a day late
    assert book.count("refusals", PROBER, late - timedelta(minutes=10), late) == 1
    assert book.recall("refusals", PROBER, late) is not None
    book.note(rule, refusal(60 * 25), matched=False)
    assert book.size("refusals") == 2  # the first is now more than a day and ten minutes older than the newest
    book.note(rule, refusal(1), matched=False)  # too late to matter to any record now
    assert book.size("refusals") == 2


def test_the_size_bound_drops_the_oldest_facts() -> None:
    rule = probe_rule(limit=3, minutes=600)
    book = MemoryBook([rule])
    actors = [example_records.iam_user(f"u{n}") for n in range(5)]
    for minute, actor in enumerate(actors):
        book.note(rule, refusal(minute, actor), matched=False)
    assert book.size("refusals") == 3
    late = T0 + timedelta(minutes=10)
    assert [book.recall("refusals", a["arn"], late) is not None for a in actors] == [False, False, True, True, True]


def test_a_redelivered_event_is_remembered_once_and_unkeyed_records_not_at_all() -> None:
    rule = probe_rule()
    book = MemoryBook([rule])
    again = refusal(1, event_id="11111111-1111-4111-8111-111111111111")
    book.note(rule, again, matched=False)
    book.note(rule, again, matched=False)
    book.note(rule, {**refusal(2), "errorCode": None}, matched=False)  # the key function says: nothing to keep
    book.note(rule, refusal(3), matched=True)  # this memory remembers before matching, not after
    assert book.count("refusals", PROBER, T0, T0 + timedelta(hours=1)) == 1
    assert len(book.pending()) == 1 and book.pending() == []


def test_two_rules_may_not_declare_one_memory_name() -> None:
    other = Rule(**{**probe_rule().__dict__, "id": "other"})
    with pytest.raises(ValueError, match="refusals"):
        MemoryBook([probe_rule(), other])


# -- through the real pipeline and SQLite store -------------------------------------------------------------


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "warden.db"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    db = Store(path)
    yield db
    db.close()


def created(user: str, minute: int) -> dict:
    return example_records.iam_call(
        "CreateUser",
        {"userName": user},
        {"user": {"path": "/", "userName": user, "arn": example_records.user_arn(user)}},
        event_id=new_event_id(),
        time=(T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def test_memory_survives_a_store_reopen(path: Path) -> None:
    store = Store(path)
    first = created("svc-new", 0)
    Pipeline(store, PipelineContext(store)).process([first, refusal(1, example_records.iam_user("build"))], "test")
    store.close()

    reopened = Store(path)
    ctx = PipelineContext(reopened)
    key = f"{example_records.ACCOUNT}:svc-new"
    assert ctx.recall("created_users", key, T0 + timedelta(minutes=30)) == first["eventID"]
    assert ctx.recall("created_users", key, T0 + timedelta(minutes=61)) is None  # past the correlation window
    build = example_records.iam_user("build")["arn"]
    assert ctx.count("refused_iam_writes", build, T0, T0 + timedelta(minutes=2)) == 1
    assert {r.memory for r in reopened.memory_rows(ctx.memory.names)} == {"created_users", "refused_iam_writes"}
    reopened.close()


def test_a_batch_that_failed_to_store_is_not_remembered_when_it_comes_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = Pipeline(store, PipelineContext(store))
    batch = [refusal(minute) for minute in range(3)]
    real = store.store_batch

    def failing(*args: object, **kwargs: object) -> list[int]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "store_batch", failing)
    with pytest.raises(sqlite3.OperationalError):
        pipeline.process(batch, "test")
    monkeypatch.setattr(store, "store_batch", real)
    pipeline.process(batch, "test")  # the redelivery
    pipeline.process(batch, "test")  # and once more, now stored: skipped
    window = (T0, T0 + timedelta(minutes=5))
    assert pipeline.context.count("refused_iam_writes", PROBER, *window) == 3
    assert PipelineContext(store).count("refused_iam_writes", PROBER, *window) == 3


def test_the_stored_memory_is_pruned_to_its_retention(store: Store) -> None:
    pipeline = Pipeline(store, PipelineContext(store))
    pipeline.process([refusal(0), refusal(1)], "test")
    pipeline.process([refusal(60 * 24 + 10.5)], "test")  # the refused-writes memory keeps 10 minutes and a day
    rows = store.memory_rows({"refused_iam_writes"})
    assert [r.at for r in rows] == [T0 + timedelta(minutes=1), T0 + timedelta(minutes=60 * 24 + 10.5)]


def test_a_version_3_database_upgrades_keeping_alerts_and_events(path: Path) -> None:
    db = sqlite_utils.Database(path)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for version, step in enumerate(MIGRATIONS[:3], start=1):
        step(db)
        db["schema_migrations"].insert({"version": version, "applied_at": "2026-01-01T00:00:00Z"})
    db["events"].insert({"event_id": "e-old", "event_name": "CreateUser", "event_time": "2024-05-14T09:00:00Z"})
    db["alerts"].insert({"rule": "user_created", "event_id": "e-old", "title": "IAM user old created"})
    db.conn.close()

    store = Store(path)
    assert store.seen_events(["e-old"]) == {"e-old"}
    assert [a.title for a in store.alerts()] == ["IAM user old created"]
    assert store.memory_rows({"created_users"}) == []
    Pipeline(store, PipelineContext(store)).process([created("fresh", 0)], "test")
    assert [r.key for r in store.memory_rows({"created_users"})] == [f"{example_records.ACCOUNT}:fresh"]
    store.close()


@pytest.mark.parametrize("layer", ["ingest/pipeline.py", "ingest/context.py", "storage/store.py"])
def test_the_generic_layers_name_no_rule(layer: str) -> None:
    from detections import all_rules

    text = (REPO / layer).read_text(encoding="utf-8")
    named = [r.id for r in all_rules() if f"'{r.id}'" in text or f'"{r.id}"' in text]
    assert named == []


def test_a_version_3_database_rebuilds_the_memory_from_its_recent_alerts_and_events(path: Path) -> None:
    db = sqlite_utils.Database(path)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for version, step in enumerate(MIGRATIONS[:3], start=1):
        step(db)
        db["schema_migrations"].insert({"version": version, "applied_at": "2026-01-01T00:00:00Z"})
    prober = example_records.iam_user("build-agent")["arn"]
    for n, minute in enumerate((0, 55, 56, 57, 58)):  # the first is older than the refused-writes window
        db["events"].insert(
            {
                "event_id": f"r{n}",
                "event_name": "CreateAccessKey",
                "event_time": f"2024-05-14T09:{minute:02d}:00Z",
                "account": example_records.ACCOUNT,
                "actor": prober,
                "error_code": "AccessDenied",
            }
        )
    for user, minute in (("svc-ops", 30), ("old-user", 50)):
        db["alerts"].insert(
            {
                "rule": "user_created",
                "event_id": f"cu-{user}",
                "event_time": f"2024-05-14T0{8 if user == 'old-user' else 9}:{minute:02d}:00Z",
                "account": example_records.ACCOUNT,
                "target": example_records.user_arn(user),
            }
        )
    db.conn.close()

    store = Store(path)
    ctx = PipelineContext(store)
    at = datetime(2024, 5, 14, 9, 59, tzinfo=UTC)
    assert ctx.recall("created_users", f"{example_records.ACCOUNT}:svc-ops", at) == "cu-svc-ops"
    assert (
        ctx.recall("created_users", f"{example_records.ACCOUNT}:old-user", at) is None
    )  # an hour before the latest event
    assert ctx.count("refused_iam_writes", prober, at - timedelta(minutes=10), at) == 4
    assert len(store.memory_rows(ctx.memory.names)) == 6  # stored (r0 too, for late records): no second rebuild
    assert not store.memory_rebuild_pending()
    grant = example_records.iam_call(
        "AttachUserPolicy",
        {"userName": "svc-ops", "policyArn": example_records.ADMINISTRATOR_ACCESS},
        event_id=new_event_id(),
        time="2024-05-14T09:59:30Z",
    )
    refused = example_records.iam_call(
        "CreateUser",
        {"userName": "x"},
        event_id=new_event_id(),
        actor=example_records.iam_user("build-agent"),
        error="AccessDenied",
        time="2024-05-14T09:59:40Z",
    )
    Pipeline(store, ctx).process([grant, refused], "test")
    assert {a.rule for a in store.alerts()} >= {"privileged_user_created", "iam_writes_refused"}
    store.close()


def test_an_instance_sees_what_another_instance_sharing_the_database_remembered(path: Path) -> None:
    one, two = Store(path), Store(path)
    first, second = Pipeline(one, PipelineContext(one)), Pipeline(two, PipelineContext(two))  # both started
    new_user = created("svc-backdoor", 0)
    first.process([new_user], "sqs")
    grant = example_records.iam_call(
        "AttachUserPolicy",
        {"userName": "svc-backdoor", "policyArn": example_records.ADMINISTRATOR_ACCESS},
        event_id=new_event_id(),
        time=(T0 + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    result = second.process([grant], "sqs")
    assert [a.rule for a in result.alerts] == ["privileged_user_created"]
    key = f"{example_records.ACCOUNT}:svc-backdoor"
    assert second.context.recall("created_users", key, T0 + timedelta(minutes=2)) == new_user["eventID"]
    first.process([new_user], "sqs")  # its own fact read back is filed once
    assert first.context.memory.size("created_users") == 1
    one.close()
    two.close()
