"""IAM Warden's command line: serve, replay, hunt, demo, check and audit, each calling into the app package."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from datetime import datetime
from typing import TextIO

from app import __version__, audit_cli
from app.logs import configure_logging
from config import ConfigError, Settings, help_table, load, log_format, read_env_file

# The commands import what they run when they run: boto3, slack_bolt and the wiring cost ~0.5 s of CPU to load,
# which `bot.py --help` and a bad setting need not pay (measured idle: --help 0.65-0.72 s -> 0.15-0.17 s user CPU).

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


def replay(paths: list[str], as_jsonl: bool, post: bool, out: TextIO, stdin: TextIO) -> int:
    """`bot.py replay` (app/replay_cli.py)."""
    from app.replay_cli import replay as run

    return run(paths, as_jsonl, post, out, stdin)


def hunt(args: argparse.Namespace, out: TextIO, now: datetime | None = None) -> int:
    """`bot.py hunt` (app/hunt_cli.py)."""
    from app.hunt_cli import hunt as run

    return run(args, out, now)


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
