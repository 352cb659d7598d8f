"""aws/athena.py against moto's Athena (its configured query results, StopQueryExecution) and, where moto has no
answer (pages of results, failed queries, refused calls), botocore's Stubber: every failure is one line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID

from aws.athena import Athena, AthenaError, QueryStatus
from aws.sessions import AwsSessions
from detections import example_records as s
from hunt.records import record_of, table_row
from hunt.runner import run_pages
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from storage import Store
from tests.hunt.conftest import NAMES, column_info, result_rows

OUTPUT = "s3://acme-athena-results/iam-warden-hunt/"


def athena_rows(records: list[dict]) -> list[dict[str, str | None]]:
    """The rows Athena's query returns for records: the table's values, structs and arrays as JSON text."""
    rows = []
    for record in records:
        row = table_row(record)
        rows.append(
            {n: None if row[n] is None else row[n] if isinstance(row[n], str) else json.dumps(row[n]) for n in NAMES}
        )
    return rows


def records() -> list[dict]:
    return [
        s.iam_call("CreateUser", {"userName": "eve"}, event_id="00000000-0000-4000-8000-000000000001"),
        s.iam_call(
            "AttachUserPolicy",
            {"userName": "eve", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            event_id="00000000-0000-4000-8000-000000000002",
        ),
    ]


@pytest.fixture
def athena(aws):
    return Athena(AwsSessions(aws).client("athena"), OUTPUT, poll_seconds=0)


def test_query_runs_to_success_and_its_rows_come_back_as_records(athena):
    rows = athena_rows(records())
    athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].query_results_queue.append(
        QueryResults(rows=result_rows(rows), column_info=column_info())
    )
    seen: list[QueryStatus] = []
    query_id = athena.start("SELECT 1")
    done = athena.wait(query_id, seen.append)
    assert done.state == "SUCCEEDED" and seen[-1] == done and seen[-1].query_id == query_id
    pages = list(athena.rows(query_id))
    assert pages == [rows]  # the header row is not a record
    assert [record_of(r)["eventID"] for r in pages[0]] == [r["eventID"] for r in records()]


def test_rows_feed_the_pipeline_and_a_second_hunt_raises_nothing_twice():
    rows = athena_rows(records())
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store))
    first = run_pages([rows], pipeline, "hunt:q1")
    again = run_pages([rows], pipeline, "hunt:q2")
    assert first.rows == 2 and first.alerts == 2 and first.duplicates == 0
    assert again.rows == 2 and again.alerts == 0 and again.duplicates == 2
    assert sorted(a.rule for a in store.alerts()) == ["privileged_user_created", "user_created"]


def test_cancelled_query_is_stopped_and_reported(athena, aws):
    query_id = athena.start("SELECT 1")
    athena.stop(query_id)
    assert aws.client("athena").get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"] == (
        "CANCELLED"
    )
    with pytest.raises(AthenaError, match=f"^query cancelled: {query_id}$"):
        athena.wait(query_id)


def stubbed(aws_env) -> tuple[Athena, Stubber]:
    import boto3

    client = boto3.client("athena", region_name="us-east-1")
    return Athena(client, OUTPUT, poll_seconds=0), Stubber(client)


def test_results_are_read_page_by_page_with_the_header_skipped_once(aws_env):
    athena, stub = stubbed(aws_env)
    rows = athena_rows(records())
    meta = {"ColumnInfo": column_info()}
    stub.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": result_rows(rows[:1]), "ResultSetMetadata": meta}, "NextToken": "page-2"},
        {"QueryExecutionId": "q", "MaxResults": 1000},
    )
    stub.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": result_rows(rows[1:], header=False), "ResultSetMetadata": meta}},
        {"QueryExecutionId": "q", "MaxResults": 1000, "NextToken": "page-2"},
    )
    with stub:
        pages = list(athena.rows("q"))
    stub.assert_no_pending_responses()
    assert pages == [rows[:1], rows[1:]]


def failed(reason: str) -> dict:
    return {
        "QueryExecution": {
            "QueryExecutionId": "q",
            "Status": {"State": "FAILED", "StateChangeReason": reason},
            "Statistics": {"DataScannedInBytes": 0},
        }
    }


@pytest.mark.parametrize(
    ("reason", "line"),
    [
        (
            "TABLE_NOT_FOUND: line 31:6: Table 'awsdatacatalog.cloudtrail.nope' does not exist",
            "table missing: TABLE_NOT_FOUND: line 31:6: Table 'awsdatacatalog.cloudtrail.nope' does not exist",
        ),
        (
            "Access denied when writing output to url: s3://acme-athena-results/iam-warden-hunt/q.csv",
            "output location not writable: Access denied when writing output to url: "
            "s3://acme-athena-results/iam-warden-hunt/q.csv",
        ),
        (
            "Permission denied on S3 path: s3://acme-org-trail/AWSLogs/o-abc/111122223333/CloudTrail/. "
            "Insufficient permissions to execute the query",
            "access denied: Permission denied on S3 path: s3://acme-org-trail/AWSLogs/o-abc/111122223333/CloudTrail/."
            " Insufficient permissions to execute the query",
        ),
        (
            "HIVE_BAD_DATA: Error parsing field value for field 1:\n 'not json'",
            "query failed: HIVE_BAD_DATA: Error parsing field value for field 1: 'not json'",
        ),
    ],
)
def test_a_failed_query_is_one_line_naming_its_cause(aws_env, reason, line):
    athena, stub = stubbed(aws_env)
    running = {"QueryExecution": {"QueryExecutionId": "q", "Status": {"State": "RUNNING"}}}
    stub.add_response("get_query_execution", running, {"QueryExecutionId": "q"})
    stub.add_response("get_query_execution", failed(reason), {"QueryExecutionId": "q"})
    seen: list[str] = []
    with stub, pytest.raises(AthenaError) as caught:
        athena.wait("q", lambda status: seen.append(status.state))
    assert str(caught.value) == line
    assert seen == ["RUNNING", "FAILED"]


@pytest.mark.parametrize(
    ("code", "message", "line"),
    [
        (
            "InvalidRequestException",
            "Unable to verify/create output bucket acme-athena-results",
            "output location not writable: Unable to verify/create output bucket acme-athena-results",
        ),
        (
            "AccessDeniedException",
            "User: arn:aws:iam::111122223333:user/warden is not authorized to perform: athena:StartQueryExecution",
            "access denied: AccessDeniedException on StartQueryExecution: User: arn:aws:iam::111122223333:user/warden"
            " is not authorized to perform: athena:StartQueryExecution",
        ),
        (
            "InvalidRequestException",
            "WorkGroup nope is not found.",
            "query failed: WorkGroup nope is not found.",
        ),
    ],
)
def test_a_refused_start_is_one_line_naming_its_cause(aws_env, code, message, line):
    athena, stub = stubbed(aws_env)
    stub.add_client_error("start_query_execution", code, message)
    with stub, pytest.raises(AthenaError) as caught:
        athena.start("SELECT 1")
    assert str(caught.value) == line


def test_the_data_scanned_comes_from_the_statistics(aws_env):
    athena, stub = stubbed(aws_env)
    done = {
        "QueryExecution": {
            "QueryExecutionId": "q",
            "Status": {"State": "SUCCEEDED", "CompletionDateTime": datetime(2024, 5, 14, tzinfo=UTC)},
            "Statistics": {"DataScannedInBytes": 123_456_789},
        }
    }
    stub.add_response("get_query_execution", done, {"QueryExecutionId": "q"})
    with stub:
        assert athena.wait("q") == QueryStatus("q", "SUCCEEDED", 123_456_789, "")
