"""The CloudTrail Lake query, checked by running it: parsed by sqlglot as Trino (the SQL Lake runs), transpiled
to DuckDB and run over a DuckDB table shaped as AWS documents an event data store of CloudTrail events (eventTime
a timestamp, requestParameters and the like maps of strings), holding the replay benchmark's records. It selects
exactly the records the replay prefilter keeps, and the alerts from the rebuilt rows equal replay's."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlglot

from bench.hunt import STORE, WINDOW, lake_table, read_records, run_lake_sql
from bench.replay import START, generate
from detections import all_rules, rule
from hunt.query import HuntQuery, QueryError, event_data_store, lake_sql
from hunt.records import LAKE_COLUMNS, lake_record_of
from hunt.runner import run_pages
from ingest.context import PipelineContext
from ingest.files import Prefilter, ReadStats, default_prefilter, iter_batches
from ingest.pipeline import Pipeline
from storage import Store

COUNT = 6000


@pytest.fixture(scope="module", params=["realistic", "iam-heavy"])
def trail(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"lake-{request.param}")
    path = folder / "cloudtrail.jsonl"
    planted = generate(path, COUNT, request.param)
    records = read_records(path)
    return path, records, planted, lake_table(records, folder)


def alerts_of(pages, rules=None) -> list[tuple[str, str, str, str]]:
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store), rules=rules)
    run_pages(pages, pipeline, "hunt", rebuild=lake_record_of)
    return sorted((row.rule, row.event_id, row.title, row.target) for row in store.alerts())


def replay_alerts(path: Path) -> list[tuple[str, str, str, str]]:
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store))
    for source, records in iter_batches([str(path)], stdin=io.StringIO(""), stats=ReadStats()):
        pipeline.process(records, source)
    return sorted((row.rule, row.event_id, row.title, row.target) for row in store.alerts())


def test_the_sql_is_trino_from_the_event_data_store_and_transpiles_to_duckdb():
    sql = lake_sql(HuntQuery(STORE, *WINDOW, all_rules()))
    assert f"\nFROM {STORE}\n" in sql  # the id bare, as Lake's documentation writes FROM
    tree = sqlglot.parse_one(sql.replace(STORE, f'"{STORE}"'), read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(tree, sqlglot.exp.Select)
    assert {t.name for t in tree.find_all(sqlglot.exp.Table)} == {STORE}
    assert [s.alias_or_name for s in tree.selects] == [c.name for c in LAKE_COLUMNS]
    assert "eventtime >= '2024-05-13 00:00:00'" in sql and "eventtime < '2024-06-13 00:00:00'" in sql
    assert "timestamp" not in sql  # Lake has no partition column: its time is eventTime
    sqlglot.transpile(sql.replace(STORE, f'"{STORE}"'), read="trino", write="duckdb", unsupported_level="RAISE")


def test_query_selects_exactly_what_the_replay_prefilter_keeps_and_raises_the_same_alerts(trail):
    path, records, planted, con = trail
    rows = run_lake_sql(con, lake_sql(HuntQuery(STORE, *WINDOW, all_rules())))
    kept = [r["eventID"] for r in records if default_prefilter().record_could_match(r)]
    assert sorted(row["eventid"] for row in rows) == sorted(kept)
    assert 0 < len(rows) < COUNT / 2
    want = replay_alerts(path)
    assert want and alerts_of([rows]) == want  # rule, event, title and target alike
    assert {e for _, e, _, _ in want} <= {a["eventID"] for a in planted.values()}


def lake_view(record: dict) -> dict:
    """What a record reads as after a trip through an event data store: a map of strings keeps a nested object
    or list as JSON text (read back as the value, as is JSON text CloudTrail wrote as a string, such as a policy
    document) and a number or boolean as its text."""
    view = dict(record)
    for field in LAKE_COLUMNS:
        values = view.get(field.key)
        if field.kind != "jsonmap" or not isinstance(values, dict):
            continue
        kept = {}
        for key, value in values.items():
            if isinstance(value, str) and value[:1] in "{[":
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif value is not None and not isinstance(value, dict | list | str):
                value = json.dumps(value)
            if value is not None:
                kept[key] = value
        view[field.key] = kept
    return view


def test_rebuilt_records_read_as_the_originals_through_lakes_types(trail):
    _, records, _, con = trail
    by_id = {r["eventID"]: r for r in records}
    rows = run_lake_sql(con, lake_sql(HuntQuery(STORE, *WINDOW, all_rules())))
    for row in rows[:300]:
        rebuilt, original = lake_record_of(row), lake_view(by_id[row["eventid"]])
        assert {k: v for k, v in original.items() if k in rebuilt} == rebuilt
        # Keys the store has no column for (or null) are the only ones left out.
        assert {k for k, v in original.items() if k not in rebuilt and v is not None} <= {"inScopeOf"}


def test_window_accounts_regions_and_rules_narrow_the_selection(trail):
    _, records, _, con = trail
    since, until = START + timedelta(minutes=2), START + timedelta(minutes=10)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    chosen = (rule("user_created"), rule("root_activity"))
    narrow = HuntQuery(STORE, since, until, chosen, ("111122223333",), ("us-east-1", "eu-west-1"))
    rows = run_lake_sql(con, lake_sql(narrow))
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
    assert {r for r, *_ in alerts_of([rows], chosen)} <= {"user_created", "root_activity"}


def test_a_window_outside_the_store_selects_nothing(trail):
    con = trail[3]
    before = datetime(2020, 1, 1, tzinfo=UTC)
    assert run_lake_sql(con, lake_sql(HuntQuery(STORE, before, before + timedelta(days=3), all_rules()))) == []


def test_the_event_data_store_is_read_from_its_id_or_arn_and_nothing_else_reaches_from():
    arn = f"arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/{STORE}"
    assert event_data_store(arn) == (STORE, "eu-west-1")
    assert event_data_store(STORE) == (STORE, None)
    for bad in ("x; DROP TABLE y", "store' OR '1'='1", "", f"{arn}/extra"):
        with pytest.raises(QueryError, match=r"^--lake wants an event data store id or ARN"):
            event_data_store(bad)


def test_a_query_past_lakes_length_limit_is_refused_before_it_is_sent():
    accounts = tuple(f"{n:012d}" for n in range(1000))
    with pytest.raises(QueryError, match=r"past StartQuery's 10,000: name fewer --accounts or --rules$"):
        lake_sql(HuntQuery(STORE, *WINDOW, all_rules(), accounts))
