"""IAM Warden's command line: serve, replay, hunt, demo, check and audit, each calling into the app package."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from app import __version__, audit_cli
from app.logs import configure_logging
from config import ConfigError, Settings, help_table, load, log_format, read_env_file

# The commands import what they run when they run: boto3, slack_bolt and the wiring cost ~0.5 s of CPU to load,
# which `bot.py --help` and a bad setting need not pay (measured idle: --help 0.65-0.72 s -> 0.15-0.17 s user CPU).

if TYPE_CHECKING:
    from core.rows import AlertRow

DESCRIPTION = "IAM Warden: a Slack bot that guards AWS accounts' identities."
EPILOG = f"""commands:
  serve                 run the bot (default): Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT
                        with POST /slack/events and GET /healthz
  replay PATH...        run CloudTrail files (.json, .json.gz, JSON Lines, folders of them, - for stdin)
                        through the detections and print the alerts; offline unless --post
  hunt --since 90d --athena DB.TABLE --athena-output s3://BUCKET/PREFIX/   (or --lake EVENT_DATA_STORE)
                        run the detections over the organization's trail where it is kept: Athena (or
                        CloudTrail Lake) reads only the records some rule could read (--explain prints the
                        query); alerts as replay prints
  demo [--once]         the sandbox: the whole bot against a local AWS (moto) and a Slack-like page in
                        your browser; --once runs a scripted scenario headless and exits; --route-critical
                        sends critical alerts to a second channel, #incidents
  check                 verify the deployment, one line per check: the Slack token (auth.test), the channel
                        (the bot is a member), the AWS identity, the event queue (or LookupEvents), and the
                        bot's IAM permissions (iam:SimulatePrincipalPolicy); exit 0 when all pass, 1 if not
  audit [--format F]    audit IAM posture now and print the report (table, json, csv or ocsf); --checks,
                        --severity, --list-checks, --output-dir, --fail-on, --profile, --region, --quiet
                        (bot.py audit --help); exit 0 when every check ran and no critical or high finding
                        is open, 3 when one is, 4 when some accounts or checks could not run, 2 (one
                        `error:` line) when no account could be audited (no credentials, endpoint
                        unreachable, access denied)

environment (also read from ./.env when present; a variable already set wins; see .env.example):
{help_table()}
  plus the standard AWS variables (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...)

exit codes: 0 ok, 1 error (or a check that failed), 2 bad settings or usage (or an audit that reached no
account), 3 audit found critical or high findings, 4 audit incomplete (some accounts or checks could not run), or
4 replay kept some unreadable input as dead letters (the rest was processed)
"""

REPLAY_EPILOG = """Unreadable input (a line that is not JSON, a cut-off .json.gz, a record without an eventID, ...) is
kept as a dead letter and the replay goes on; stderr names the first few by file and line, never their content.

exit codes: 0 everything was read, 1 error, 2 bad usage or no such path,
            4 some input could not be read (kept as dead letters); the rest was processed
"""
HUNT_EPILOG = """The query is generated from the rule registry: the chosen rules' event names (and root's calls when a
rule reads them), in the date, account and region partitions of deploy/athena-cloudtrail.yaml's table (Athena), or
on the event data store's eventTime, recipientAccountId and awsRegion (CloudTrail Lake). Progress goes to stderr;
the summary names the data the engine scanned (its cost figure). Ctrl-C cancels a running query.

exit codes: 0 done, 1 the engine failed (one `error:` line: table or event data store missing, access denied,
            output location not writable, invalid query, query failed with its reason, timed out, cancelled),
            2 bad usage, 4 some rows could not be read (kept as dead letters), 130 cancelled
"""
# How many unreadable inputs `replay` names on stderr before it only counts them.
REPLAY_WARNINGS = 5


def replay(paths: list[str], as_jsonl: bool, post: bool, out: TextIO, stdin: TextIO) -> int:
    """Run CloudTrail files through the detections; print alerts (or JSON lines); with post, send to Slack."""
    from app.offline import offline_pipeline
    from ingest.files import ReadStats
    from ingest.read_ahead import read_batches
    from slackui.alerts import render_alert
    from slackui.terminal import render

    named: list[str] = []  # the first few dead letters, by file and line (reasons never quote content)

    def note(source: str, reason: str) -> None:
        if len(named) < REPLAY_WARNINGS:
            named.append(f"{source.removeprefix('replay:')}: {reason}")

    if post:
        from app.wiring import build

        rt = build(load(serving=True))
        store, pipeline = rt.store, rt.pipeline
        pipeline.on_dead_letter = note
    else:
        pipeline = offline_pipeline(on_dead_letter=note)
        store = pipeline.store
    alerts = dead = 0
    colour = out.isatty() and not os.environ.get("NO_COLOR")  # https://no-color.org
    stats = ReadStats()
    for source, records in read_batches(
        paths, stdin, dead_letter=pipeline.dead_letter, stats=stats, judge=pipeline.judge
    ):
        result = pipeline.process(records, source)
        dead += result.dead_letters
        for alert_id in result.alert_ids:
            alert = store.alert(alert_id)
            alerts += 1
            if as_jsonl:
                out.write(json.dumps(_summary(alert)) + "\n")
            else:
                out.write(render(render_alert(alert), colour=colour) + "\n")
    if post:
        rt.poster.recover()
        rt.poster.drain()
    dead += stats.dead_letters
    read = stats.records + stats.records_skipped + stats.skipped
    summary = f"{alerts} alert(s) from {read} record(s)" + (
        f", {dead} unreadable record(s) kept as dead letters" if dead else ""
    )
    for line in named:
        print(f"unreadable: {line}", file=sys.stderr)
    if dead > len(named):
        print(f"unreadable: … and {dead - len(named)} more", file=sys.stderr)
    print(summary, file=sys.stderr)
    return 4 if dead else 0


def hunt(args: argparse.Namespace, out: TextIO, now: datetime | None = None) -> int:
    """`bot.py hunt`: run the chosen rules over the trail's history in Athena or CloudTrail Lake; print (or post)
    the alerts."""
    from app.offline import offline_pipeline
    from app.wiring import build
    from aws.athena import Athena, AthenaError
    from aws.causes import CALL_ERRORS, describe
    from aws.cloudtrail_lake import Lake, LakeError
    from aws.sessions import AwsSessions
    from detections import all_rules
    from hunt.query import HuntQuery, QueryError, athena_sql, choose_rules, event_data_store, lake_sql, parse_when
    from hunt.records import lake_record_of, record_of
    from hunt.runner import HuntStats, run_pages
    from ingest.pipeline import BatchResult
    from slackui.alerts import render_alert
    from slackui.terminal import render

    now = now or datetime.now(UTC)
    lake_region: str | None = None
    try:
        rules = choose_rules(all_rules(), _items(args.rules))
        until = parse_when(args.until, now) if args.until else now
        if args.lake is not None:
            source, lake_region = event_data_store(args.lake)
        else:
            source = args.athena
        query = HuntQuery(
            source, parse_when(args.since, now), until, rules, _items(args.accounts), _items(args.regions)
        )
        sql = lake_sql(query) if args.lake is not None else athena_sql(query)
    except QueryError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.explain:
        out.write(sql + "\n")
        return 0
    if args.lake is not None and (args.athena_output or args.workgroup):
        print("error: --athena-output and --workgroup are Athena's; --lake takes neither", file=sys.stderr)
        return 2
    if args.lake is None and not (args.athena_output or "").startswith("s3://"):
        print("error: --athena-output wants the query results location, s3://BUCKET/PREFIX/", file=sys.stderr)
        return 2
    if args.post:
        rt = build(load(serving=True))
        store, pipeline, sessions = rt.store, rt.pipeline, rt.sessions
        pipeline.rules = rules
    else:
        pipeline = offline_pipeline(rules)
        store = pipeline.store
        try:  # an AWS_PROFILE that names no profile fails here
            sessions = AwsSessions()
        except CALL_ERRORS as err:
            print(f"error: {describe(err)}", file=sys.stderr)
            return 1
    region = sessions.session.region_name or "us-east-1"
    engine: Athena | Lake
    if args.lake is not None:  # the event data store's own region when its ARN names one
        engine = Lake(sessions.client("cloudtrail", region=lake_region or region))
        name, rebuild = "CloudTrail Lake", lake_record_of
    else:
        engine = Athena(sessions.client("athena", region=region), args.athena_output, args.workgroup or "primary")
        name, rebuild = "Athena", record_of
    stats = HuntStats()

    shown: list[tuple[str, int, int | None]] = []

    def progress(status: Any) -> None:  # aws.athena.QueryStatus or aws.cloudtrail_lake.LakeStatus
        stats.bytes_scanned = status.bytes_scanned
        events = getattr(status, "events_matched", None)  # Lake counts the events matched; Athena does not
        if shown[-1:] != [(status.state, status.bytes_scanned, events)]:  # a line when something changed
            shown.append((status.state, status.bytes_scanned, events))
            matched = f", {events} event(s) matched" if events is not None else ""
            line = f"query {status.query_id}: {status.state}, {_size(status.bytes_scanned)} scanned{matched}"
            print(line, file=sys.stderr)

    def emit(result: BatchResult) -> None:
        for alert_id in result.alert_ids:
            alert = store.alert(alert_id)
            out.write(json.dumps(_summary(alert)) + "\n" if args.jsonl else render(render_alert(alert)) + "\n")

    def read(done: HuntStats) -> None:
        print(f"rows read: {done.rows}", file=sys.stderr)

    query_id = ""
    try:
        query_id = engine.start(sql)
        print(
            f"query {query_id}: started ({len(rules)} rule(s), {query.since:%Y-%m-%d} to {until:%Y-%m-%d})",
            file=sys.stderr,
        )
        engine.wait(query_id, progress)
        run_pages(engine.rows(query_id), pipeline, f"hunt:{query_id}", emit, read, stats, rebuild)
    except (AthenaError, LakeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if query_id:
            try:
                engine.stop(query_id)
            except (AthenaError, LakeError) as err:
                print(f"error: could not cancel query {query_id}: {err}", file=sys.stderr)
                return 130
            print(f"hunt cancelled: query {query_id} stopped", file=sys.stderr)
        else:
            print("hunt cancelled", file=sys.stderr)
        return 130
    if args.post:
        rt.poster.recover()
        rt.poster.drain()
    summary = f"{stats.alerts} alert(s) from {stats.rows} row(s); {name} scanned {_size(stats.bytes_scanned)}"
    summary += f" ({stats.bytes_scanned} bytes)"
    if stats.duplicates:
        summary += f", {stats.duplicates} event(s) already seen"
    if stats.dead_letters:
        summary += f", {stats.dead_letters} unreadable row(s) kept as dead letters"
    print(summary, file=sys.stderr)
    return 4 if stats.dead_letters else 0


def _items(text: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (text or "").split(",") if item.strip())


def _size(count: int) -> str:
    size, unit = float(count), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            break
        size /= 1000
    return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"


def _summary(alert: AlertRow) -> dict:
    """The one-line JSON of `replay --jsonl` (Alert.summary's contract, read back from the store)."""
    return {
        "event_id": alert.event_id,
        "rule": alert.rule,
        "severity": alert.severity,
        "account": alert.account,
        "actor": alert.actor_arn,
        "target": alert.target,
        "title": alert.title,
    }


def serve(settings: Settings) -> int:
    """`bot.py serve` (app/serving.py)."""
    from app.serving import serve as run

    return run(settings)


def check(settings: Settings) -> int:
    """`bot.py check` (app/checkup.py): one line per check on stdout."""
    from app.checkup import check as run
    from app.wiring import aws_sessions, slack_client

    return run(settings, slack_client(settings), lambda: aws_sessions(settings), sys.stdout)


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    top = argparse.ArgumentParser(
        prog="bot.py",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"IAM Warden {__version__}")
    subs = top.add_subparsers(dest="command")
    subs.add_parser("serve", help="run the bot (the default)")
    rep = subs.add_parser(
        "replay",
        help="run CloudTrail files through the detections",
        epilog=REPLAY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rep.add_argument(
        "paths", nargs="+", metavar="PATH", help="CloudTrail file (.json/.json.gz), JSON Lines, a folder of them, or -"
    )
    rep.add_argument("--jsonl", action="store_true", help="print one JSON object per alert and nothing else")
    rep.add_argument("--post", action="store_true", help="also post the alerts to Slack like the live bot")
    hun = subs.add_parser(
        "hunt",
        help="run the detections over the trail's history with Athena or CloudTrail Lake",
        epilog=HUNT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hun.add_argument("--since", required=True, help="start of the window: 90d, 12h, or an ISO 8601 date or time")
    hun.add_argument("--until", help="end of the window (default: now)")
    hun.add_argument("--accounts", help="comma-separated account ids (default: every account in the table)")
    hun.add_argument("--regions", help="comma-separated regions (default: every region in the table)")
    hun.add_argument("--rules", help="comma-separated rule ids (default: every rule)")
    engine = hun.add_mutually_exclusive_group(required=True)
    engine.add_argument("--athena", metavar="DATABASE.TABLE", help="the CloudTrail table to query with Athena")
    engine.add_argument(
        "--lake", metavar="EVENT_DATA_STORE", help="the CloudTrail Lake event data store to query (its id or ARN)"
    )
    hun.add_argument("--athena-output", metavar="S3_URL", help="where Athena writes the query results, s3://…/")
    hun.add_argument("--workgroup", help="the Athena workgroup (default: primary)")
    hun.add_argument("--explain", action="store_true", help="print the query and exit without running it")
    hun.add_argument("--jsonl", action="store_true", help="print one JSON object per alert and nothing else")
    hun.add_argument("--post", action="store_true", help="also post the alerts to Slack like the live bot")
    demo = subs.add_parser("demo", help="run the bot in a local sandbox with a Slack-like page")
    demo.add_argument("--once", action="store_true", help="run the scripted scenario headless and exit")
    demo.add_argument("--port", type=int, default=8080, help="port of the sandbox page (a free one if busy)")
    demo.add_argument(
        "--route-critical", action="store_true", help="send critical alerts to a second channel, #incidents"
    )
    subs.add_parser("check", help="verify the Slack token and channel, AWS identity, queue and IAM permissions")
    aud = subs.add_parser(
        "audit",
        help="audit IAM posture now and print the report",
        epilog=audit_cli.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit_cli.add_arguments(aud)
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parser().parse_args(argv)
    read_env_file(".env")  # a variable set in the process environment wins over the file
    try:
        # audit and replay print their own output
        quiet = Settings(log_level="WARNING", library_log_level="WARNING", log_format=log_format())
        if args.command == "demo":
            from sandbox.demo import run_demo  # here: the sandbox (and moto) is not shipped in the image

            configure_logging(Settings(log_format=log_format()))
            return run_demo(once=args.once, port=args.port, route_critical=args.route_critical)
        if args.command == "check":
            configure_logging(quiet)
            settings = load(serving=True)
            return check(settings)
        if args.command == "audit":
            configure_logging(quiet)
            return audit_cli.run_audit(args, sys.stdout)
        if args.command == "hunt":
            configure_logging(quiet)
            return hunt(args, sys.stdout)
        if args.command == "replay":
            configure_logging(quiet)
            return replay(args.paths, args.jsonl, args.post, sys.stdout, sys.stdin)
        settings = load(serving=True)
        configure_logging(settings)
        return serve(settings)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"error: {err.filename}: no such file", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `bot.py replay ... | head`: the reader left; that is not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    code = main()
    if next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "serve") == "serve":
        # serve has shut down in order (stores committed and closed); skip the interpreter's teardown, where library
        # threads can hold the exit and waitress' __del__ hooks print tracebacks of already-closed sockets
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
