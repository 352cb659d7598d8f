"""Judged events: a batch where a reader judged some records stores, alerts and counts exactly as the records would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from detections import example_records as s
from ingest.context import PipelineContext
from ingest.judged import Judged, event_row
from ingest.pipeline import Pipeline
from storage import Store


def at(second: int) -> str:
    return f"2024-05-14T12:00:{second:02d}Z"


def sign_in(n: int, *, mfa: bool = True, second: int = 0, account: str = s.ACCOUNT) -> dict:
    record = s.console_login(s.iam_user(f"user-{n}", console=True, mfa=mfa), event_id=f"login-{n}", mfa=mfa)
    record.update(eventTime=at(second), recipientAccountId=account)
    return record


def hostile_batch() -> list[object]:
    """Quiet sign-ins around alerting records, with ties in eventTime, two accounts, duplicates of one another
    (an attacker may reuse an event id: which copy comes first decides whether the alert is raised), and a record
    the pipeline refuses."""
    created = s.iam_call("CreateUser", {"userName": "mallory"}, event_id="create-1")
    created["eventTime"] = at(3)
    root = s.console_login(s.root(mfa=True), event_id="root-1", mfa=True)
    root["eventTime"] = at(3)
    quiet_then_loud = [sign_in(10, second=5), sign_in(10, mfa=False, second=5)]  # the quiet copy first
    loud_then_quiet = [sign_in(11, mfa=False, second=5), sign_in(11, second=5)]
    return [
        sign_in(1, second=4),
        sign_in(2, second=3, account="444455556666"),
        created,
        sign_in(3, second=3),
        root,
        *quiet_then_loud,
        *loud_then_quiet,
        sign_in(4, mfa=False, second=1),  # raises console_login_without_mfa
        {"eventName": "ConsoleLogin"},  # no eventID: a dead letter
        sign_in(5, second=4, account="444455556666"),
        sign_in(1, second=4),  # a plain redelivery
    ]


def with_judged(pipeline: Pipeline, records: list[object]) -> tuple[list[object], int]:
    """`records` with each one the pipeline would only store given as its Judged event, as a reader gives them."""
    out: list[object] = []
    for record in records:
        row = pipeline.judge(record)
        out.append(Judged(row) if row is not None else record)
    return out, sum(type(r) is Judged for r in out)


def stored(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        return {
            "events": db.execute(
                "SELECT event_id, event_name, event_time, account, source, actor, error_code FROM events ORDER BY rowid"
            ).fetchall(),
            "alerts": db.execute("SELECT rule, event_id, title, dedup_key FROM alerts ORDER BY id").fetchall(),
            "memory": db.execute("SELECT memory, key, event_id, value FROM rule_memory ORDER BY rowid").fetchall(),
        }


def run(path: Path, batches: list[list[object]], judge: bool) -> tuple[list[tuple], dict, int, list]:
    store = Store(str(path))
    pipeline = Pipeline(store, PipelineContext(store))
    results, judged = [], 0
    for n, records in enumerate(batches):
        if judge:
            records, count = with_judged(pipeline, records)
            judged += count
        result = pipeline.process(records, f"replay:f:{n}")
        results.append((len(result.alert_ids), result.duplicates, result.dead_letters, [a.rule for a in result.alerts]))
    feeds = [(f.account, f.last_event_at) for f in store.latest_event_per_account()]  # stored_at: the clock
    letters = [(d.source, d.reason) for d in store.dead_letters()]
    read = pipeline.metrics.events_read.labels("replay")._value.get()
    store.close()
    return results, stored(path), judged, [feeds, letters, read]


def test_a_batch_with_judged_events_is_stored_as_its_records_would_be(tmp_path):
    batches = [hostile_batch(), hostile_batch()[:4]]  # the second: a redelivery, every event already stored
    plain = run(tmp_path / "plain.db", batches, judge=False)
    judged = run(tmp_path / "judged.db", batches, judge=True)
    assert judged[2] == 7 + 3 and plain[2] == 0  # the quiet sign-ins of both batches were judged
    assert judged[0] == plain[0]  # the same alerts, duplicates and dead letters, batch by batch
    assert judged[1] == plain[1]  # the same events (in the same order), alerts and memory stored
    assert judged[3] == plain[3]  # the same feed per account, dead letters and counts
    results = plain[0]
    assert results[0][1:3] == (3, 1)  # login-10's and login-11's second copies and login-1's redelivery
    alerting = {event_id for _, event_id, _, _ in plain[1]["alerts"]}
    assert "login-10" not in alerting and "login-11" in alerting  # the first copy of an event id decides
    assert {"create-1", "root-1", "login-4"} <= alerting
    assert results[1][:3] == (0, 4, 0)


def test_the_judge_gives_the_event_row_of_a_quiet_usable_record_only(pipeline):
    quiet = sign_in(1)
    assert pipeline.judge(quiet) == event_row(quiet, "")[:-1]
    assert event_row(quiet, "replay:f:1-1") == (
        "login-1",
        "ConsoleLogin",
        at(0),
        s.ACCOUNT,
        quiet["userIdentity"]["arn"],
        "",
        "replay:f:1-1",
    )
    assert pipeline.judge(sign_in(2, mfa=False)) is None  # it alerts
    assert pipeline.judge({**quiet, "eventTime": "yesterday"}) is None  # a dead letter, the pipeline's to keep
    assert pipeline.judge([quiet]) is None
    assert pipeline.judge(s.iam_call("CreateUser", {"userName": "bob"}, event_id="cu-1")) is None  # remembered


def test_only_the_pipelines_own_rules_judge(store):
    from detections import all_rules

    sign_ins_only = tuple(r for r in all_rules() if r.id == "root_login")
    pipeline = Pipeline(store, PipelineContext(store), rules=sign_ins_only)
    assert pipeline.judge(sign_in(2, mfa=False)) is not None  # console_login_without_mfa is not run here
