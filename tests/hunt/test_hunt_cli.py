"""`bot.py hunt`: the same alerts as `bot.py replay` on the same records (the rows selected by the generated query
in DuckDB, served by moto's Athena), `--explain`, Ctrl-C cancelling a running query, and each failure the engine
reports as one `error:` line with its exit code."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
import sqlglot
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

import bot
from aws.sessions import AwsSessions
from bench.hunt import STORE, TABLE, duckdb_table, lake_table, read_records, run_athena_sql, run_lake_sql
from bench.replay import generate
from detections import all_rules
from hunt.query import HuntQuery, athena_sql, lake_sql, parse_when
from tests.hunt.conftest import column_info, lake_result_rows, result_rows

ROOT = Path(__file__).resolve().parents[2]
SINCE, UNTIL = "2024-05-13", "2024-06-12"
OUTPUT = "s3://acme-athena-results/iam-warden-hunt/"
MISSING = "TABLE_NOT_FOUND: line 31:6: Table 'awsdatacatalog.cloudtrail.org_trail' does not exist"
DENIED = "User: arn:aws:iam::111122223333:user/warden is not authorized to perform: athena:StartQueryExecution"
ARGS = ["hunt", "--since", SINCE, "--until", UNTIL, "--athena", TABLE, "--athena-output", OUTPUT]


@pytest.fixture
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def env(url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMBOT_", "SLACK_"))}
    return {
        **clean,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": url,
    }


def moto_api(url: str, path: str, body: dict) -> None:
    request = urllib.request.Request(
        url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status in (200, 201)


def run_bot(args: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args], capture_output=True, text=True, timeout=300, env=environ
    )


def test_hunt_prints_the_alerts_replay_prints_on_the_same_records(tmp_path, moto_server):
    path = tmp_path / "cloudtrail.jsonl"
    generate(path, 3000, "iam-heavy")
    con = duckdb_table(read_records(path), tmp_path)
    now = datetime.now(UTC)
    sql = athena_sql(HuntQuery(TABLE, parse_when(SINCE, now), parse_when(UNTIL, now), all_rules()))
    rows = run_athena_sql(con, sql)
    moto_api(
        moto_server,
        "/moto-api/static/athena/query-results",
        {"results": [{"rows": result_rows(rows), "column_info": column_info()}]},
    )
    hunted = run_bot([*ARGS, "--jsonl"], env(moto_server))
    replayed = run_bot(["replay", str(path), "--jsonl"], env(moto_server))
    assert hunted.returncode == 0, hunted.stderr
    assert replayed.returncode == 0, replayed.stderr
    alerts = sorted(hunted.stdout.splitlines())
    assert alerts and alerts == sorted(replayed.stdout.splitlines())
    err = hunted.stderr.splitlines()
    assert err[0].startswith("query ") and err[0].endswith(f"started ({len(all_rules())} rule(s), {SINCE} to {UNTIL})")
    assert any(line.endswith(": SUCCEEDED, 0 B scanned") for line in err)
    assert f"rows read: {len(rows)}" in err
    assert err[-1] == f"{len(alerts)} alert(s) from {len(rows)} row(s); Athena scanned 0 B (0 bytes)"


def test_explain_prints_the_generated_trino_query_and_calls_nothing():
    done = run_bot(
        ["hunt", "--since", "90d", "--athena", "cloudtrail.org_trail", "--rules", "user_created", "--explain"],
        {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},  # nothing listens: a call would fail
    )
    assert done.returncode == 0, done.stderr
    tree = sqlglot.parse_one(done.stdout, read="trino")
    assert 'FROM "cloudtrail"."org_trail"' in done.stdout
    assert "(eventname IN ('CreateUser'))" in done.stdout
    assert {c.name for c in tree.find_all(sqlglot.exp.Column)} >= {"timestamp", "eventtime", "eventname"}
    assert done.stderr == ""


def test_ctrl_c_cancels_the_running_query(moto_server):
    transition = {"model_name": "athena::execution", "transition": {"progression": "manual", "times": 10_000}}
    moto_api(moto_server, "/moto-api/state-manager/set-transition", transition)
    try:
        child = subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), *ARGS],
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env(moto_server),
        )
        assert child.stderr is not None
        started = child.stderr.readline()
        query_id = started.split()[1].rstrip(":")
        assert child.stderr.readline().startswith(f"query {query_id}: QUEUED")
        child.send_signal(signal.SIGINT)
        _, rest = child.communicate(timeout=60)
    finally:
        moto_api(moto_server, "/moto-api/state-manager/unset-transition", {"model_name": "athena::execution"})
    assert child.returncode == 130
    assert rest.splitlines()[-1] == f"hunt cancelled: query {query_id} stopped"
    athena = boto3.client(
        "athena", region_name="us-east-1", endpoint_url=moto_server, aws_access_key_id="x", aws_secret_access_key="x"
    )
    assert athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"] == "CANCELLED"


# ---- every failure the engine reports: one `error:` line, exit 1 (bad usage: 2) -------------------------------


@pytest.fixture
def athena_plan(monkeypatch, aws_env) -> list[Callable[[Stubber], None]]:
    """Steps that queue responses on the Athena client the command makes (Stubber: moto fails no query)."""
    plan: list[Callable[[Stubber], None]] = []
    original = AwsSessions._client

    def client(self, session, service, region):
        made = original(self, session, service, region)
        if service == "athena":
            stub = Stubber(made)
            for step in plan:
                step(stub)
            stub.activate()
        return made

    monkeypatch.setattr(AwsSessions, "_client", client)
    return plan


def started(stub: Stubber) -> None:
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})


def state(name: str, reason: str = "", scanned: int = 0) -> Callable[[Stubber], None]:
    status = {"State": name, **({"StateChangeReason": reason} if reason else {})}
    reply = {
        "QueryExecution": {"QueryExecutionId": "q-1", "Status": status, "Statistics": {"DataScannedInBytes": scanned}}
    }
    return lambda stub: stub.add_response("get_query_execution", reply, {"QueryExecutionId": "q-1"})


def refused(code: str, message: str) -> Callable[[Stubber], None]:
    return lambda stub: stub.add_client_error("start_query_execution", code, message)


def hunt(argv: list[str], capsys) -> tuple[int, str, list[str]]:
    out = io.StringIO()
    saved = sys.stdout
    sys.stdout = out
    try:
        code = bot.main(argv)
    finally:
        sys.stdout = saved
    return code, out.getvalue(), capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(
    ("steps", "line"),
    [
        (
            [
                started,
                state("FAILED", MISSING),
            ],
            f"error: table missing: {MISSING}",
        ),
        (
            [
                refused(
                    "AccessDeniedException",
                    DENIED,
                )
            ],
            f"error: access denied: AccessDeniedException on StartQueryExecution: {DENIED}",
        ),
        (
            [
                started,
                state("RUNNING", scanned=5_000_000),
                state("FAILED", "HIVE_BAD_DATA: Error parsing field value for field 1", 7_000_000),
            ],
            "error: query failed: HIVE_BAD_DATA: Error parsing field value for field 1",
        ),
        (
            [refused("InvalidRequestException", "Unable to verify/create output bucket acme-athena-results")],
            "error: output location not writable: Unable to verify/create output bucket acme-athena-results",
        ),
        (
            [
                started,
                state(
                    "FAILED",
                    "Access denied when writing output to url: s3://acme-athena-results/iam-warden-hunt/q-1.csv",
                ),
            ],
            "error: output location not writable: Access denied when writing output to url: s3://acme-athena-results/iam-warden-hunt/q-1.csv",
        ),
    ],
    ids=["table-missing", "access-denied", "query-failed", "output-refused", "output-denied"],
)
def test_each_engine_failure_is_one_error_line_and_exit_1(athena_plan, capsys, steps, line):
    athena_plan.extend(steps)
    code, out, err = hunt(ARGS, capsys)
    assert code == 1 and out == ""
    assert err[-1] == line
    assert [e for e in err if e.startswith("error:")] == [line]
    assert not [e for e in err if "Traceback" in e]


def test_progress_and_the_data_scanned_reach_stderr(athena_plan, capsys):
    athena_plan.extend(
        [started, state("QUEUED"), state("RUNNING", scanned=2_500_000), state("SUCCEEDED", scanned=123_456_789)]
    )
    athena_plan.append(
        lambda stub: stub.add_response(
            "get_query_results",
            {"ResultSet": {"Rows": result_rows([]), "ResultSetMetadata": {"ColumnInfo": column_info()}}},
        )
    )
    code, out, err = hunt([*ARGS, "--jsonl"], capsys)
    assert code == 0 and out == ""
    assert err[1:] == [
        "query q-1: QUEUED, 0 B scanned",
        "query q-1: RUNNING, 2.5 MB scanned",
        "query q-1: SUCCEEDED, 123.5 MB scanned",
        "rows read: 0",
        "0 alert(s) from 0 row(s); Athena scanned 123.5 MB (123456789 bytes)",
    ]


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["--since", "ninety days"],
            "error: 'ninety days' is neither a span like 90d or 12h nor an ISO 8601 date or time",
        ),
        (["--athena", "trail"], "error: --athena wants DATABASE.TABLE (letters, digits, _), not 'trail'"),
        (
            ["--athena-output", "acme-athena-results"],
            "error: --athena-output wants the query results location, s3://BUCKET/PREFIX/",
        ),
        (["--accounts", "1234"], "error: --accounts: '1234' is not a 12-digit account id"),
        (["--regions", "mars-1"], "error: --regions: 'mars-1' is not an AWS region name"),
        (
            ["--since", UNTIL, "--until", SINCE],
            "error: the window is empty: --since 2024-06-12T00:00:00Z is not before --until 2024-05-13T00:00:00Z",
        ),
    ],
)
def test_bad_usage_is_one_error_line_and_exit_2(athena_plan, capsys, argv, line):
    code, _, err = hunt([*ARGS, *argv], capsys)
    assert (code, err) == (2, [line])


def test_an_unknown_rule_is_named(athena_plan, capsys):
    code, _, err = hunt([*ARGS, "--rules", "user_created,no_such_rule"], capsys)
    assert code == 2 and len(err) == 1 and err[0].startswith("error: --rules: no rule no_such_rule (known: ")


# ---- --post: the bot's own store, so a window already hunted (or seen live) posts nothing twice --------------


def test_post_sends_the_alerts_once_and_a_second_hunt_of_the_window_sends_none(
    aws, athena_plan, capsys, monkeypatch, tmp_path, fake_slack
):
    from tests.conftest import ADMINS, BOT_TOKEN, CHANNEL, SIGNING_SECRET
    from tests.hunt.test_athena import athena_rows, records

    for key, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "IAMBOT_CHANNEL": CHANNEL,
        "IAMBOT_ADMINS": ",".join(sorted(ADMINS)),
        "IAMBOT_DB": str(tmp_path / "warden.db"),
    }.items():
        monkeypatch.setenv(key, value)
    rows = athena_rows(records())
    athena_plan.extend([started, state("SUCCEEDED", scanned=4096)])
    athena_plan.append(
        lambda stub: stub.add_response(
            "get_query_results",
            {"ResultSet": {"Rows": result_rows(rows), "ResultSetMetadata": {"ColumnInfo": column_info()}}},
        )
    )
    first = hunt([*ARGS, "--post", "--jsonl"], capsys)
    posted = len(fake_slack.calls_of("chat.postMessage"))
    again = hunt([*ARGS, "--post", "--jsonl"], capsys)
    assert first[0] == 0 and again[0] == 0
    assert first[2][-1] == "2 alert(s) from 2 row(s); Athena scanned 4.1 KB (4096 bytes)"
    assert posted == 2 and len(first[1].splitlines()) == 2
    assert again[1] == "" and len(fake_slack.calls_of("chat.postMessage")) == posted
    assert again[2][-1] == "0 alert(s) from 2 row(s); Athena scanned 4.1 KB (4096 bytes), 2 event(s) already seen"


# ---- --lake: the same command on a CloudTrail Lake event data store (Stubber: moto has no Lake queries) ---------

LAKE_QUERY = "0b1f2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
LAKE_ARN = f"arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/{STORE}"
LAKE_ARGS = ["hunt", "--since", SINCE, "--until", UNTIL, "--lake", LAKE_ARN]


@pytest.fixture
def lake_plan(monkeypatch, aws_env) -> dict:
    """Steps that queue responses on the CloudTrail client the command makes, and the regions it was made in."""
    plan: dict = {"steps": [], "regions": [], "interrupt_at": None}
    original = AwsSessions._client

    def client(self, session, service, region):
        made = original(self, session, service, region)
        if service == "cloudtrail":
            plan["regions"].append(region)
            stub = Stubber(made)
            for step in plan["steps"]:
                step(stub)
            stub.activate()
            plan["stub"] = stub
            described = iter(range(1, 1000))

            def interrupt(**_: object) -> None:  # Ctrl-C while the query runs
                if next(described) == plan["interrupt_at"]:
                    raise KeyboardInterrupt

            made.meta.events.register("provide-client-params.cloudtrail.DescribeQuery", interrupt)
        return made

    monkeypatch.setattr(AwsSessions, "_client", client)
    return plan


def lake_started(sql: str | None = None) -> Callable[[Stubber], None]:
    expected = {"QueryStatement": sql} if sql else None
    return lambda stub: stub.add_response("start_query", {"QueryId": LAKE_QUERY}, expected)


def lake_state(name: str, error: str = "", scanned: int = 0, matched: int = 0) -> Callable[[Stubber], None]:
    reply = {
        "QueryId": LAKE_QUERY,
        "QueryStatus": name,
        "QueryStatistics": {"BytesScanned": scanned, "EventsMatched": matched},
        **({"ErrorMessage": error} if error else {}),
    }
    return lambda stub: stub.add_response("describe_query", reply, {"QueryId": LAKE_QUERY})


def lake_page(rows: list[dict], token: str | None = None, after: str | None = None) -> Callable[[Stubber], None]:
    reply = {
        "QueryStatus": "FINISHED",
        "QueryResultRows": lake_result_rows(rows),
        **({"NextToken": token} if token else {}),
    }
    expected = {"QueryId": LAKE_QUERY, "MaxQueryResults": 1000, **({"NextToken": after} if after else {})}
    return lambda stub: stub.add_response("get_query_results", reply, expected)


def test_hunt_on_lake_prints_the_alerts_replay_prints_on_the_same_records(tmp_path, lake_plan, capsys):
    path = tmp_path / "cloudtrail.jsonl"
    generate(path, 3000, "iam-heavy")
    con = lake_table(read_records(path), tmp_path)
    now = datetime.now(UTC)
    sql = lake_sql(HuntQuery(STORE, parse_when(SINCE, now), parse_when(UNTIL, now), all_rules()))
    rows = run_lake_sql(con, sql)  # what the event data store selects for the very query the command sends
    half = len(rows) // 2
    lake_plan["steps"] += [
        lake_started(sql),
        lake_state("QUEUED"),
        lake_state("RUNNING", scanned=1_000_000, matched=half),
        lake_state("FINISHED", scanned=2_500_000, matched=len(rows)),
        lake_page(rows[:half], token="page-2-token"),
        lake_page(rows[half:], after="page-2-token"),
    ]
    code, hunted, err = hunt([*LAKE_ARGS, "--jsonl"], capsys)
    assert code == 0, err
    lake_plan["stub"].assert_no_pending_responses()
    replay_code, replayed, _ = hunt(["replay", str(path), "--jsonl"], capsys)
    assert replay_code == 0
    alerts = sorted(hunted.splitlines())
    assert alerts and alerts == sorted(replayed.splitlines())
    assert lake_plan["regions"] == ["eu-west-1"]  # the event data store's region, from its ARN
    assert err == [
        f"query {LAKE_QUERY}: started ({len(all_rules())} rule(s), {SINCE} to {UNTIL})",
        f"query {LAKE_QUERY}: QUEUED, 0 B scanned, 0 event(s) matched",
        f"query {LAKE_QUERY}: RUNNING, 1.0 MB scanned, {half} event(s) matched",
        f"query {LAKE_QUERY}: FINISHED, 2.5 MB scanned, {len(rows)} event(s) matched",
        f"rows read: {half}",
        f"rows read: {len(rows)}",
        f"{len(alerts)} alert(s) from {len(rows)} row(s); CloudTrail Lake scanned 2.5 MB (2500000 bytes)",
    ]


def test_explain_prints_the_lake_query_and_calls_nothing():
    done = run_bot(
        ["hunt", "--since", "90d", "--lake", LAKE_ARN, "--rules", "user_created", "--explain"],
        {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},  # nothing listens: a call would fail
    )
    assert done.returncode == 0, done.stderr
    assert f"\nFROM {STORE}\nWHERE eventtime >= '" in done.stdout
    assert "(eventname IN ('CreateUser'))" in done.stdout
    tree = sqlglot.parse_one(done.stdout.replace(STORE, f'"{STORE}"'), read="trino")
    assert {c.name for c in tree.find_all(sqlglot.exp.Column)} >= {"eventtime", "eventname", "requestparameters"}
    assert done.stderr == ""


def test_ctrl_c_cancels_the_running_lake_query(lake_plan, capsys):
    lake_plan["interrupt_at"] = 2
    lake_plan["steps"] += [
        lake_started(),
        lake_state("RUNNING", scanned=1000),
        lambda stub: stub.add_response("cancel_query", {"QueryId": LAKE_QUERY, "QueryStatus": "CANCELLED"}),
    ]
    code, out, err = hunt(LAKE_ARGS, capsys)
    assert code == 130 and out == "", err
    lake_plan["stub"].assert_no_pending_responses()  # CancelQuery was called
    assert err[-1] == f"hunt cancelled: query {LAKE_QUERY} stopped"


@pytest.mark.parametrize(
    ("steps", "line"),
    [
        (
            [lambda stub: stub.add_client_error("start_query", "EventDataStoreNotFoundException", "Not found: x")],
            "error: event data store not found: Not found: x",
        ),
        (
            [lambda stub: stub.add_client_error("start_query", "InactiveEventDataStoreException", "Store inactive")],
            "error: event data store inactive: Store inactive",
        ),
        (
            [
                lambda stub: stub.add_client_error(
                    "start_query", "AccessDeniedException", "not authorized to perform: cloudtrail:StartQuery"
                )
            ],
            "error: access denied: AccessDeniedException on StartQuery: not authorized to perform: "
            "cloudtrail:StartQuery",
        ),
        (
            [lambda stub: stub.add_client_error("start_query", "InvalidQueryStatementException", "bad statement")],
            "error: invalid query statement: bad statement",
        ),
        (
            [lake_started(), lake_state("RUNNING"), lake_state("FAILED", "Query exhausted resources")],
            "error: query failed: Query exhausted resources",
        ),
        ([lake_started(), lake_state("TIMED_OUT")], f"error: query timed out: {LAKE_QUERY}"),
        ([lake_started(), lake_state("CANCELLED")], f"error: query cancelled: {LAKE_QUERY}"),
    ],
    ids=["store-missing", "store-inactive", "access-denied", "invalid-statement", "failed", "timed-out", "cancelled"],
)
def test_each_lake_failure_is_one_error_line_and_exit_1(lake_plan, capsys, steps, line):
    lake_plan["steps"] += steps
    code, out, err = hunt(LAKE_ARGS, capsys)
    assert code == 1 and out == ""
    assert err[-1] == line
    assert [e for e in err if e.startswith("error:")] == [line]


def test_lake_usage_errors(lake_plan, capsys):
    code, _, err = hunt([*LAKE_ARGS[:-1], "store' OR 1=1 --"], capsys)
    assert code == 2 and len(err) == 1 and err[0].startswith("error: --lake wants an event data store id or ARN")
    code, _, err = hunt([*LAKE_ARGS, "--athena-output", OUTPUT], capsys)
    assert (code, err) == (2, ["error: --athena-output and --workgroup are Athena's; --lake takes neither"])
    for argv, said in [
        ([*LAKE_ARGS, "--athena", TABLE], "argument --athena: not allowed with argument --lake"),
        (LAKE_ARGS[:-2], "one of the arguments --athena --lake is required"),
    ]:
        with pytest.raises(SystemExit) as exited:
            bot.main(argv)
        assert exited.value.code == 2
        assert said in capsys.readouterr().err
    assert lake_plan["regions"] == []


def test_lake_post_sends_the_alerts_once_and_a_second_hunt_of_the_window_sends_none(
    aws, lake_plan, capsys, monkeypatch, tmp_path, fake_slack
):
    from tests.conftest import ADMINS, BOT_TOKEN, CHANNEL, SIGNING_SECRET
    from tests.hunt.conftest import lake_texts
    from tests.hunt.test_athena import records

    for key, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "IAMBOT_CHANNEL": CHANNEL,
        "IAMBOT_ADMINS": ",".join(sorted(ADMINS)),
        "IAMBOT_DB": str(tmp_path / "warden.db"),
    }.items():
        monkeypatch.setenv(key, value)
    rows = [lake_texts(r) for r in records()]
    lake_plan["steps"] += [lake_started(), lake_state("FINISHED", scanned=4096, matched=2), lake_page(rows)]
    first = hunt([*LAKE_ARGS, "--post", "--jsonl"], capsys)
    posted = len(fake_slack.calls_of("chat.postMessage"))
    again = hunt([*LAKE_ARGS, "--post", "--jsonl"], capsys)
    assert first[0] == 0 and again[0] == 0
    assert first[2][-1] == "2 alert(s) from 2 row(s); CloudTrail Lake scanned 4.1 KB (4096 bytes)"
    assert posted == 2 and len(first[1].splitlines()) == 2
    assert again[1] == "" and len(fake_slack.calls_of("chat.postMessage")) == posted
    assert (
        again[2][-1] == "0 alert(s) from 2 row(s); CloudTrail Lake scanned 4.1 KB (4096 bytes), 2 event(s) already seen"
    )
