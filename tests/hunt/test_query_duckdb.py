"""The hunt's generated SQL, checked by running it: parsed by sqlglot as Trino (Athena's engine), transpiled to
DuckDB and run over a DuckDB table holding the replay benchmark's records as the CloudTrail table holds them. It
selects exactly the records the replay prefilter keeps, and the alerts from the selected rows equal replay's."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlglot

from bench.hunt import TABLE, WINDOW, duckdb_table, read_records, run_athena_sql
from bench.replay import START, generate
from detections import all_rules, rule
from hunt.query import HuntQuery, athena_sql
from hunt.records import record_of
from hunt.runner import run_pages
from ingest.context import PipelineContext
from ingest.files import Prefilter, ReadStats, default_prefilter, iter_batches
from ingest.pipeline import Pipeline
from storage import Store

COUNT = 6000


@pytest.fixture(scope="module", params=["realistic", "iam-heavy"])
def trail(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    path = folder / "cloudtrail.jsonl"
    planted = generate(path, COUNT, request.param)
    records = read_records(path)
    return path, records, planted, duckdb_table(records, folder)


def alerts_of(pages, rules=None) -> list[tuple[str, str]]:
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store), rules=rules)
    run_pages(pages, pipeline, "hunt")
    return sorted((row.rule, row.event_id) for row in store.alerts())


def replay_alerts(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store))
    parsed: list[str] = []
    for source, records in iter_batches([str(path)], stdin=io.StringIO(""), stats=ReadStats()):
        parsed.extend(r["eventID"] for r in records)
        pipeline.process(records, source)
    return sorted((row.rule, row.event_id) for row in store.alerts()), parsed


def test_the_sql_is_trino_and_runs_in_duckdb_as_transpiled():
    sql = athena_sql(HuntQuery(TABLE, *WINDOW, all_rules()))
    tree = sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(tree, sqlglot.exp.Select)
    assert {t.name for t in tree.find_all(sqlglot.exp.Table)} == {"org_trail"}
    # The partition columns prune: the date (always), as Athena's partition projection reads it.
    assert "\"timestamp\" BETWEEN '2024/05/13' AND '2024/06/12'" in sql


def test_query_selects_exactly_what_the_replay_prefilter_keeps_and_raises_the_same_alerts(trail):
    path, records, planted, con = trail
    rows = run_athena_sql(con, athena_sql(HuntQuery(TABLE, *WINDOW, all_rules())))
    kept = [r["eventID"] for r in records if default_prefilter().record_could_match(r)]
    assert sorted(row["eventid"] for row in rows) == sorted(kept)
    assert 0 < len(rows) < COUNT / 2  # the prefilter does rule most of the trail out
    want, parsed = replay_alerts(path)
    # The records replay parses (its text prefilter, which also keeps a non-root line that mentions "Root")
    # hold every record the query selects; those it adds raise nothing.
    assert set(kept) <= set(parsed)
    assert want and alerts_of([rows]) == want
    assert {e for _, e in want} <= {a["eventID"] for a in planted.values()}


def test_rebuilt_records_read_as_the_originals(trail):
    _, records, _, con = trail
    by_id = {r["eventID"]: r for r in records}
    rows = run_athena_sql(con, athena_sql(HuntQuery(TABLE, *WINDOW, all_rules())))
    for row in rows[:300]:
        rebuilt, original = record_of(row), by_id[row["eventid"]]
        # Every key the table declares comes back with its value; null values are left out, as are the few keys
        # CloudTrail adds that the documented table has no column for (managementEvent, ...).
        declared = {k: v for k, v in original.items() if k in rebuilt or v is None}
        assert {k: v for k, v in original.items() if k in rebuilt} == rebuilt
        assert set(original) - set(declared) <= {"managementEvent", "inScopeOf", "sessionCredentialFromConsole"}


def test_window_accounts_regions_and_rules_narrow_the_selection(trail):
    _, records, _, con = trail
    since, until = START + timedelta(minutes=2), START + timedelta(minutes=10)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    chosen = (rule("user_created"), rule("root_activity"))
    narrow = HuntQuery(TABLE, since, until, chosen, ("111122223333",), ("us-east-1", "eu-west-1"))
    rows = run_athena_sql(con, athena_sql(narrow))
    check = Prefilter(frozenset(n for r in chosen for n in r.event_names), any(r.any_root_event for r in chosen))
    want = [
        r["eventID"]
        for r in records
        if since.strftime(iso) <= r["eventTime"] < until.strftime(iso)
        and r["recipientAccountId"] == "111122223333"
        and r["awsRegion"] in ("us-east-1", "eu-west-1")
        and check.record_could_match(r)
    ]
    assert want and sorted(row["eventid"] for row in rows) == sorted(want)
    assert len(want) < len([r for r in records if check.record_could_match(r)])
    # Only the chosen rules run over what comes back.
    assert {r for r, _ in alerts_of([rows], chosen)} <= {"user_created", "root_activity"}


def test_a_window_outside_the_trail_selects_nothing(trail):
    con = trail[3]
    before = datetime(2020, 1, 1, tzinfo=UTC)
    assert run_athena_sql(con, athena_sql(HuntQuery(TABLE, before, before + timedelta(days=3), all_rules()))) == []
