"""The store: migrations, durability across reopen, dedupe, folding, action claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.alert import Alert
from core.severity import Severity
from storage import Store
from storage.events import EVENT_FIELDS
from storage.schema import MIGRATIONS


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
    assert [a.event_id for a in again.alerts()] == ["e1"]
    assert again.seen_events(["e1", "e2"]) == {"e1"}


def test_events_keep_only_the_indexes_a_query_reads(tmp_path):
    # (actor, event_time) served the count of refused writes before the rules' memory took it over: every stored
    # event paid for an index no query read. Migration 10 drops it from a database made before.
    store = Store(tmp_path / "a.db")
    assert {tuple(i.columns) for i in store.db["events"].indexes} == {("event_id",), ("account", "stored_at")}
    store.db["events"].create_index(["actor", "event_time"])  # as migration 3 left it
    store.db.execute("DELETE FROM schema_migrations WHERE version = 10")
    store.close()
    again = Store(tmp_path / "a.db")
    assert {tuple(i.columns) for i in again.db["events"].indexes} == {("event_id",), ("account", "stored_at")}


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
    assert store.alerts()[0].occurrences == 2
    now[0] += timedelta(minutes=61)
    assert len(store.store_batch([event("e3")], [make("e3")], windows)) == 1


def test_failed_action_can_be_retried_but_done_cannot(tmp_path):
    store = Store(tmp_path / "a.db")
    [alert_id] = store.store_batch([event("e1")], [make("e1")])
    verdict, row = store.claim_action(alert_id, "iam_disable_key", "U1")
    assert verdict == "run"
    store.finish_action(row.id, "failed", "throttled")
    verdict, row = store.claim_action(alert_id, "iam_disable_key", "U2")
    assert verdict == "run"
    store.finish_action(row.id, "done", "ok")
    assert store.claim_action(alert_id, "iam_disable_key", "U1")[0] == "already"


def test_dead_letters_and_cursors(tmp_path):
    store = Store(tmp_path / "a.db")
    store.add_dead_letter("sqs", "not JSON", b"\xff{")
    assert store.dead_letters()[0].reason == "not JSON"
    assert store.cursor("lookup:us-east-1") is None
    store.set_cursor("lookup:us-east-1", "2026-11-23T08:00:00Z")
    store.set_cursor("lookup:us-east-1", "2026-11-23T09:00:00Z")
    assert store.cursor("lookup:us-east-1") == "2026-11-23T09:00:00Z"


# -- text no encoding can store (issue 9: a lone surrogate from a JSON "\ud800" escape) --------------------------

LONE = "CreateUser\ud800X"  # what json.loads makes of "CreateUser\\ud800X"


def test_storable_escapes_lone_surrogates_and_keeps_other_text():
    from storage.db import storable

    assert storable(LONE) == "CreateUser\\ud800X"
    assert storable("\udfff") == "\\udfff"
    assert storable("plain") == "plain"
    assert storable("Zoë ✓ 🙂") == "Zoë ✓ 🙂"  # valid non-ASCII text is kept as it is


def test_event_and_alert_with_lone_surrogates_are_stored_escaped_and_deduplicated(tmp_path):
    store = Store(tmp_path / "s.db")
    alert = make(f"id-{LONE}")
    alert.user_agent = f"aws-cli/{LONE}"
    alert.facts = {"Who": LONE}
    alert.remediation = {"key_user": LONE}
    alert.event_name = alert.title = alert.target = LONE
    row = {**event(f"id-{LONE}"), "event_name": LONE, "actor": LONE, "error_code": LONE}
    [alert_id] = store.store_batch([row], [alert])
    stored = store.alert(alert_id)
    assert stored.event_id == "id-CreateUser\\ud800X" and stored.user_agent == "aws-cli/CreateUser\\ud800X"
    assert stored.title == stored.target == stored.event_name == "CreateUser\\ud800X"
    assert stored.facts == {"Who": LONE} and stored.remediation == {"key_user": LONE}  # JSON escapes them
    # The same event again (a redelivery) is recognised, not stored twice.
    assert store.seen_events([f"id-{LONE}"]) == {"id-CreateUser\\ud800X"}
    assert store.store_batch([row], [make(f"id-{LONE}")]) == []
    # Its actor and error code are kept escaped too, as the memory rebuild reads them back.
    [kept] = store.events_since("2026-01-01")
    assert (kept.event_name, kept.actor, kept.error_code) == ("CreateUser\\ud800X",) * 3


def test_dead_letter_and_action_detail_with_lone_surrogates_are_kept(tmp_path):
    store = Store(tmp_path / "s.db")
    letter = store.add_dead_letter(f"sqs:{LONE}", f"reason {LONE}", f'{{"eventName": "{LONE}"}}')
    [kept] = store.dead_letters()
    assert kept.id == letter
    assert (kept.source, kept.reason) == ("sqs:CreateUser\\ud800X", "reason CreateUser\\ud800X")
    assert kept.body == '{"eventName": "CreateUser\\ud800X"}'
    [alert_id] = store.store_batch([event("e1")], [make("e1")])
    _, action = store.claim_action(alert_id, "iam_disable_key", "U1")
    assert store.finish_action(action.id, "failed", f"AccessDenied: {LONE}").detail == (
        "AccessDenied: CreateUser\\ud800X"
    )
    store.record_refusal(alert_id, "iam_disable_key", "U2", LONE)
    assert store.actions(alert_id)[-1].detail == "CreateUser\\ud800X"


def test_a_batch_of_many_events_is_stored_once_each_in_its_order(tmp_path):
    # More events than one INSERT statement takes (storage/events.py stores them a hundred at a time), some stored
    # before, one twice in the batch, one with text that needs escaping: every event once, in the batch's order.
    store = Store(tmp_path / "m.db")
    store.store_batch([event("e5"), event("e140")], [])
    ids = [f"e{n}" for n in range(250)] + ["e7"]
    batch = [{**event(i), "actor": f"arn:aws:iam::1:user/u{i}", "error_code": ""} for i in ids]
    batch[200]["actor"] = f"arn:aws:iam::1:user/{LONE}"
    store.store_batch(batch, [])
    rows = store.db.conn.execute("SELECT event_id, actor FROM events ORDER BY rowid").fetchall()
    assert [r[0] for r in rows] == ["e5", "e140", *(f"e{n}" for n in range(250) if n not in (5, 140))]
    assert rows[2] == ("e0", "arn:aws:iam::1:user/ue0")
    assert dict(rows)["e200"] == "arn:aws:iam::1:user/CreateUser\\ud800X"
    assert dict(rows)["e5"] is None  # stored first without an actor, and kept as it was


def test_an_event_given_as_a_tuple_is_stored_as_the_same_event_given_as_a_dict(tmp_path):
    store = Store(tmp_path / "t.db")
    given = {**event("e1"), "actor": "arn:aws:iam::1:user/u", "error_code": "AccessDenied"}
    store.store_batch([given], [])
    as_tuple = tuple({**given, "event_id": "e2"}[f] for f in EVENT_FIELDS)
    store.store_batch([as_tuple], [])
    first, second = store.events_since("2026-01-01")
    assert (first.event_id, second.event_id) == ("e1", "e2")
    fields = [f for f in EVENT_FIELDS if f != "event_id"]
    assert [getattr(second, f) for f in fields] == [getattr(first, f) for f in fields]
    assert second.error_code == "AccessDenied" and second.actor == "arn:aws:iam::1:user/u"


def test_seen_events_finds_the_stored_among_many_ids_whatever_their_text(tmp_path):
    store = Store(tmp_path / "seen.db")
    odd = ["Zoë ✓ 🙂", 'quote " and \\ backslash', "tab\tand\x01control"]
    store.store_batch([event(i) for i in ["e3", "e999", *odd]], [])
    asked = [f"e{n}" for n in range(1200)] + odd + ["Zoe", f"id-{LONE}"]
    assert store.seen_events(asked) == {"e3", "e999", *odd}
