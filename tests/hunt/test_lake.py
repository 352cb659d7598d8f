"""aws/cloudtrail_lake.py on a real CloudTrail client (made through AwsSessions, so every call must be declared in
aws/permissions.py) answered by botocore's Stubber: moto (5.2) implements no CloudTrail Lake query call (StartQuery,
DescribeQuery, GetQueryResults, CancelQuery). Pages of results, a failed, a timed-out and a cancelled query, and
every refusal the service reports, each as one line."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from aws.cloudtrail_lake import Lake, LakeError, LakeStatus
from aws.sessions import AwsSessions
from hunt.records import lake_record_of
from hunt.runner import run_pages
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from storage import Store
from tests.hunt.conftest import lake_result_rows, lake_texts
from tests.hunt.test_athena import records

QUERY = "0b1f2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
STORE_ARN = "arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"


@pytest.fixture
def lake(aws_env) -> tuple[Lake, Stubber]:
    client = AwsSessions(boto3.Session(region_name="us-east-1")).client("cloudtrail")
    stub = Stubber(client)
    yield Lake(client, poll_seconds=0), stub
    stub.assert_no_pending_responses()


def described(state: str, scanned: int = 0, matched: int = 0, error: str = "") -> dict:
    reply: dict = {
        "QueryId": QUERY,
        "QueryStatus": state,
        "QueryStatistics": {"BytesScanned": scanned, "EventsMatched": matched, "EventsScanned": matched * 10},
    }
    if error:
        reply["ErrorMessage"] = error
    return reply


def test_a_query_runs_to_finished_and_its_pages_come_back_as_records(lake):
    client, stub = lake
    rows = [lake_texts(r) for r in records()]
    stub.add_response("start_query", {"QueryId": QUERY}, {"QueryStatement": "SELECT eventid FROM x"})
    for state, scanned, matched in [("QUEUED", 0, 0), ("RUNNING", 2_000_000, 1), ("FINISHED", 5_000_000, 2)]:
        stub.add_response("describe_query", described(state, scanned, matched), {"QueryId": QUERY})
    # Two pages, joined by NextToken; the second carries the last row.
    first = {"QueryStatus": "FINISHED", "QueryResultRows": lake_result_rows(rows[:1]), "NextToken": "page-2-token"}
    stub.add_response("get_query_results", first, {"QueryId": QUERY, "MaxQueryResults": 1000})
    stub.add_response(
        "get_query_results",
        {"QueryStatus": "FINISHED", "QueryResultRows": lake_result_rows(rows[1:])},
        {"QueryId": QUERY, "MaxQueryResults": 1000, "NextToken": "page-2-token"},
    )
    seen: list[LakeStatus] = []
    with stub:
        query_id = client.start("SELECT eventid FROM x")
        done = client.wait(query_id, seen.append)
        pages = list(client.rows(query_id))
    assert [s.state for s in seen] == ["QUEUED", "RUNNING", "FINISHED"]
    assert done == LakeStatus(QUERY, "FINISHED", 5_000_000, 2, "")
    # NULL columns are absent from Lake's rows; every other column comes back under its lower-case name.
    present = [{k: v for k, v in row.items() if v is not None} for row in rows]
    assert pages == [present[:1], present[1:]]
    rebuilt = [lake_record_of(row) for page in pages for row in page]
    assert [r["eventID"] for r in rebuilt] == [r["eventID"] for r in records()]
    assert rebuilt[1]["requestParameters"] == records()[1]["requestParameters"]
    assert rebuilt[0]["userIdentity"] == records()[0]["userIdentity"]


def test_columns_named_in_another_case_are_read_by_their_lower_case_name(lake):
    client, stub = lake
    row = [{"eventID": "00000000-0000-4000-8000-000000000009"}, {"EventName": "CreateUser"}]
    stub.add_response("get_query_results", {"QueryStatus": "FINISHED", "QueryResultRows": [row]})
    with stub:
        assert list(client.rows(QUERY)) == [[{"eventid": row[0]["eventID"], "eventname": "CreateUser"}]]


def test_rows_feed_the_pipeline_and_a_second_hunt_raises_nothing_twice():
    rows = [lake_texts(r) for r in records()]
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store))
    first = run_pages([rows], pipeline, "hunt:q1", rebuild=lake_record_of)
    again = run_pages([rows], pipeline, "hunt:q2", rebuild=lake_record_of)
    assert (first.rows, first.alerts, first.duplicates) == (2, 2, 0)
    assert (again.rows, again.alerts, again.duplicates) == (2, 0, 2)
    assert sorted(a.rule for a in store.alerts()) == ["privileged_user_created", "user_created"]


@pytest.mark.parametrize(
    ("state", "error", "line"),
    [
        (
            "FAILED",
            "Query failed: line 3:6: Column 'eventnam' cannot be resolved",
            "query failed: Query failed: line 3:6: Column 'eventnam' cannot be resolved",
        ),
        ("FAILED", "", f"query failed: {QUERY}"),
        ("TIMED_OUT", "", f"query timed out: {QUERY}"),
        ("CANCELLED", "", f"query cancelled: {QUERY}"),
    ],
)
def test_a_query_that_ends_without_results_is_one_line(lake, state, error, line):
    client, stub = lake
    stub.add_response("describe_query", described("RUNNING", 1000), {"QueryId": QUERY})
    stub.add_response("describe_query", described(state, 2000, error=error), {"QueryId": QUERY})
    seen: list[str] = []
    with stub, pytest.raises(LakeError) as caught:
        client.wait(QUERY, lambda status: seen.append(status.state))
    assert str(caught.value) == line
    assert seen == ["RUNNING", state]


def test_a_cancelled_query_is_cancelled_and_then_reads_as_cancelled(lake):
    client, stub = lake
    stub.add_response("cancel_query", {"QueryId": QUERY, "QueryStatus": "CANCELLED"}, {"QueryId": QUERY})
    stub.add_response("describe_query", described("CANCELLED"), {"QueryId": QUERY})
    stub.add_response("get_query_results", {"QueryStatus": "CANCELLED"}, {"QueryId": QUERY, "MaxQueryResults": 1000})
    with stub:
        client.stop(QUERY)
        with pytest.raises(LakeError, match=f"^query cancelled: {QUERY}$"):
            client.wait(QUERY)
        with pytest.raises(LakeError, match=f"^query cancelled: {QUERY}$"):
            list(client.rows(QUERY))


def test_cancelling_a_query_that_already_ended_is_not_an_error_but_other_refusals_are(lake):
    client, stub = lake
    stub.add_client_error("cancel_query", "InactiveQueryException", "The query is not running.")
    stub.add_client_error("cancel_query", "QueryIdNotFoundException", f"Query {QUERY} was not found.")
    with stub:
        client.stop(QUERY)
        with pytest.raises(LakeError, match=f"^query not found: Query {QUERY} was not found.$"):
            client.stop(QUERY)


@pytest.mark.parametrize(
    ("code", "message", "line"),
    [
        (
            "EventDataStoreNotFoundException",
            "The specified event data store EXAMPLE-f852 was not found.",
            "event data store not found: The specified event data store EXAMPLE-f852 was not found.",
        ),
        (
            "InactiveEventDataStoreException",
            "The event data store EXAMPLE-f852 is inactive.",
            "event data store inactive: The event data store EXAMPLE-f852 is inactive.",
        ),
        (
            "AccessDeniedException",
            "User: arn:aws:iam::111122223333:user/warden is not authorized to perform: cloudtrail:StartQuery",
            "access denied: AccessDeniedException on StartQuery: User: arn:aws:iam::111122223333:user/warden is not"
            " authorized to perform: cloudtrail:StartQuery",
        ),
        (
            "InvalidQueryStatementException",
            "Query statement is invalid: mismatched input 'FORM'",
            "invalid query statement: Query statement is invalid: mismatched input 'FORM'",
        ),
        (
            "MaxConcurrentQueriesException",
            "You are already running the maximum number of concurrent queries.",
            "too many queries running on the event data store: You are already running the maximum number of "
            "concurrent queries.",
        ),
        (
            "ThrottlingException",
            "Rate exceeded",
            "ThrottlingException: ThrottlingException on StartQuery: Rate exceeded",
        ),
    ],
)
def test_a_refused_start_is_one_line_naming_its_cause(lake, code, message, line):
    client, stub = lake
    stub.add_client_error("start_query", code, message)
    with stub, pytest.raises(LakeError) as caught:
        client.start("SELECT eventid FROM x")
    assert str(caught.value) == line


def test_a_refused_results_page_is_one_line(lake):
    client, stub = lake
    stub.add_client_error("get_query_results", "InvalidNextTokenException", "The token is not valid.")
    with stub, pytest.raises(LakeError) as caught:
        list(client.rows(QUERY))
    assert (
        str(caught.value)
        == "InvalidNextTokenException: InvalidNextTokenException on GetQueryResults: The token is not valid."
    )


def test_every_call_the_client_makes_is_declared(aws_env, monkeypatch):
    import aws.permissions

    monkeypatch.setattr(aws.permissions, "STRICT", True)
    client = AwsSessions(boto3.Session(region_name="us-east-1")).client("cloudtrail")
    stub = Stubber(client)
    stub.add_response("start_query", {"QueryId": QUERY})
    stub.add_response("describe_query", described("FINISHED"))
    stub.add_response("get_query_results", {"QueryStatus": "FINISHED", "QueryResultRows": []})
    stub.add_response("cancel_query", {"QueryId": QUERY, "QueryStatus": "CANCELLED"})
    lake = Lake(client, poll_seconds=0)
    with stub:
        lake.wait(lake.start("SELECT 1"))
        assert list(lake.rows(QUERY)) == [[]]
        lake.stop(QUERY)
    assert {"cloudtrail:StartQuery", "cloudtrail:CancelQuery"} <= set(aws.permissions.ACTIONS)
