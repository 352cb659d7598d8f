"""iam_writes_refused's refused reads through the real pipeline and store: a recon burst alerts at the call count,
a mix of reads and writes counts together, successes and throttling never count, and everything folds into one
alert per caller and address. Plus: the reads it declares are exactly the IAM API's List*/Get* operations."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import botocore.session
import pytest

from bench.hunt import TABLE, WINDOW, duckdb_table, run_athena_sql
from bench.replay import START
from detections import all_rules, example_records, refused_event_names, rule
from detections.rules import iam_writes_refused
from hunt.query import HuntQuery, athena_sql
from ingest.context import PipelineContext
from ingest.files import default_prefilter
from ingest.pipeline import Pipeline
from storage import Store
from tests.replaying import replay_alerts

PROBER = example_records.iam_user("build-agent")
RECON = (
    "ListUsers",
    "ListRoles",
    "GetAccountAuthorizationDetails",
    "ListAttachedUserPolicies",
    "ListAccessKeys",
    "GetUser",
    "ListGroupsForUser",
    "ListPolicies",
    "GetAccountSummary",
    "ListUserPolicies",
    "ListMFADevices",
    "GetLoginProfile",
)
_ids = itertools.count(1)


def call(name: str, second: int, *, error: str | None = "AccessDenied", actor: dict = PROBER) -> dict:
    """An IAM call by `actor` at 09:00:00 + `second` on the samples' day."""
    return example_records.iam_call(
        name,
        None,
        event_id=f"00000000-0000-4000-8000-5{next(_ids):011d}",
        actor=actor,
        error=error,
        time=f"2024-05-14T09:{second // 60:02d}:{second % 60:02d}Z",
        ip="203.0.113.77",
        read_only=not name.startswith(("Create", "Attach", "Put")),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(tmp_path / "warden.db")
    yield db
    db.close()


@pytest.fixture
def pipeline(store: Store) -> Pipeline:
    return Pipeline(store, PipelineContext(store))


def alerts(store: Store) -> list:
    return [a for a in store.alerts() if a.rule == "iam_writes_refused"]


def test_ten_refused_reads_alert_once_and_the_rest_of_the_burst_folds_into_it(pipeline, store) -> None:
    pipeline.process([call(name, 20 * i) for i, name in enumerate(RECON[:9])], "test")
    assert alerts(store) == []  # nine refused reads: below the count for calls
    pipeline.process([call(name, 200 + 20 * i) for i, name in enumerate(RECON[9:])], "test")
    [alert] = alerts(store)
    assert alert.title == "10 IAM reads refused to one identity within 10 minutes"
    assert alert.severity == "low" and alert.actor_arn == PROBER["arn"] and alert.target == PROBER["arn"]
    assert alert.facts["Refused IAM reads"] == "10 in the 10 minutes up to this one"
    assert alert.facts["Latest refusal"].startswith("ListUserPolicies: User: arn:aws:iam::")
    assert alert.occurrences == 3  # the tenth, eleventh and twelfth refusals


def test_reads_and_writes_count_together_and_fold_with_a_writes_alert(pipeline, store) -> None:
    mixed = [call(name, 30 * i) for i, name in enumerate(RECON[:6])]
    mixed += [call(name, 200 + 30 * i) for i, name in enumerate(("CreateUser", "AttachUserPolicy", "CreateAccessKey"))]
    pipeline.process(mixed, "test")
    assert alerts(store) == []  # nine refused calls
    pipeline.process([call("PutUserPolicy", 300)], "test")
    [alert] = alerts(store)
    assert alert.title == "10 IAM calls (6 reads, 4 writes) refused to one identity within 10 minutes"
    pipeline.process([call("CreateLoginProfile", 320)], "test")  # the fifth refused write
    [alert] = alerts(store)  # folded: same caller, same address
    assert alert.occurrences == 2


def test_successful_and_throttled_reads_and_other_callers_do_not_count(pipeline, store) -> None:
    carol = example_records.iam_user("carol")
    noise = [call(name, 10 * i, error=None) for i, name in enumerate(RECON)]
    noise += [call(name, 130 + 5 * i, error="Throttling") for i, name in enumerate(RECON)]
    noise += [call(name, 200 + 5 * i, actor=carol) for i, name in enumerate(RECON[:5])]
    noise += [call(name, 230 + 5 * i) for i, name in enumerate(RECON[:9])]
    pipeline.process(noise, "test")
    assert alerts(store) == []
    pipeline.process([call("GetUser", 300)], "test")
    assert len(alerts(store)) == 1


def test_reads_spread_beyond_the_window_do_not_alert(pipeline, store) -> None:
    pipeline.process([call(name, 70 * i) for i, name in enumerate(RECON)], "test")  # ~8 in any 10 minutes
    assert alerts(store) == []


def test_the_reads_are_the_iam_apis_list_and_get_operations() -> None:
    iam = botocore.session.get_session().get_service_model("iam")
    assert {op for op in iam.operation_names if op.startswith(("List", "Get"))} == iam_writes_refused.READS
    declared = rule("iam_writes_refused")
    assert declared.refused_event_names == iam_writes_refused.READS <= refused_event_names()
    assert not declared.refused_event_names & declared.event_names
    assert iam_writes_refused.CALL_THRESHOLD > iam_writes_refused.WRITE_THRESHOLD


def _mix() -> list[dict]:
    """Refused, successful and throttled reads and writes of the prober's, at the benchmark trail's start."""
    day = START.strftime("%Y-%m-%d")
    records = []
    for i, (name, error) in enumerate(
        [
            ("ListUsers", "AccessDenied"),
            ("ListUsers", None),
            ("GetAccountAuthorizationDetails", "Throttling"),
            ("GetAccountAuthorizationDetails", "AccessDenied"),
            ("GetUser", "AccessDeniedException"),
            ("CreateUser", "AccessDenied"),
            ("CreateUser", None),
            ("DescribeInstances", "AccessDenied"),
        ]
    ):
        record = call(name, i, error=error)
        records.append(record | {"eventTime": f"{day}T{record['eventTime'].split('T')[1]}"})
    return records


def test_replay_prefilter_keeps_refused_reads_only() -> None:
    records = _mix()
    kept = [
        r["eventName"] + ":" + str(r.get("errorCode"))
        for r in records
        if default_prefilter().could_match(json.dumps(r))
    ]
    assert kept == [
        "ListUsers:AccessDenied",
        "GetAccountAuthorizationDetails:AccessDenied",
        "GetUser:AccessDeniedException",
        "CreateUser:AccessDenied",
        "CreateUser:None",
    ]
    assert [r for r in records if default_prefilter().record_could_match(r)] == [
        r for r in records if any(rule.reads_record(r) for rule in all_rules())
    ]


def test_hunt_sql_selects_refused_reads_as_the_prefilter_does(tmp_path: Path) -> None:
    records = _mix()
    con = duckdb_table(records, tmp_path)
    rows = run_athena_sql(con, athena_sql(HuntQuery(TABLE, *WINDOW, (rule("iam_writes_refused"),))))
    want = [r["eventID"] for r in records if rule("iam_writes_refused").reads_record(r)]
    assert len(want) == 5 and sorted(row["eventid"] for row in rows) == sorted(want)
    everything = run_athena_sql(con, athena_sql(HuntQuery(TABLE, *WINDOW, all_rules())))
    kept = [r["eventID"] for r in records if default_prefilter().record_could_match(r)]
    assert sorted(row["eventid"] for row in everything) == sorted(kept)


def test_bot_replay_raises_one_low_alert_for_a_recon_burst(tmp_path: Path) -> None:
    burst = [call(name, 15 * i) for i, name in enumerate(RECON)]
    noise = [call(name, 5 * i, error=None) for i, name in enumerate(RECON)]
    noise += [call("GetAccountAuthorizationDetails", 200 + i, error="Throttling") for i in range(5)]
    records = sorted(burst + noise, key=lambda r: r["eventTime"])
    alerts, stderr = replay_alerts(tmp_path / "111122223333_CloudTrail_us-east-1_20240514T0900Z_r.json", records)
    assert [(a["rule"], a["severity"], a["title"]) for a in alerts] == [
        ("iam_writes_refused", "low", "10 IAM reads refused to one identity within 10 minutes")
    ]
    assert alerts[0]["event_id"] == burst[9]["eventID"]
    assert f"{len(records)} record(s)" in stderr
