"""IAM Warden: command line and wiring. Everything is built here and passed down; nothing at import time."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from config import ConfigError, Settings, help_table, load

if TYPE_CHECKING:
    from checks.base import Check

log = logging.getLogger("iam_warden")

DESCRIPTION = "IAM Warden: a Slack bot that guards AWS accounts' identities."
EPILOG = f"""commands:
  serve                 run the bot (default): Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT
                        with POST /slack/events and GET /healthz
  replay PATH...        run CloudTrail files (.json, .json.gz, JSON Lines, - for stdin) through the
                        detections and print the alerts; offline unless --post
  demo [--once]         the sandbox: the whole bot against a local AWS (moto) and a Slack-like page in
                        your browser; --once runs a scripted scenario headless and exits
  audit [--format F]    audit IAM posture now and print the report (table, json or csv); exit 0 when every
                        check ran and no critical or high finding is open, 3 when one is, 4 when some
                        accounts or checks could not run, 2 (one `error:` line) when no account could be
                        audited (no credentials, endpoint unreachable, access denied)

environment:
{help_table()}
  plus the standard AWS variables (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...)

exit codes: 0 ok, 1 error, 2 bad settings or usage (or an audit that reached no account), 3 audit found
critical or high findings, 4 audit incomplete (some accounts or checks could not run)
"""


@dataclass
class Runtime:
    """Everything the running bot is made of, built by `build()`."""

    settings: Settings
    store: Any
    sessions: Any
    client: Any
    app: Any
    pipeline: Any
    poster: Any
    audits: Any = None
    jobs: Any = None
    source: Any = None
    threads: list[threading.Thread] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    stop_hooks: list[Callable[[], None]] = field(default_factory=list)


def slack_client(settings: Settings) -> Any:
    """A Slack Web API client with retries for rate limits and dropped connections."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

    return WebClient(
        token=settings.bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=3),
            RateLimitErrorRetryHandler(max_retry_count=5),
        ],
    )


def build(
    settings: Settings,
    session: Any = None,
    client: Any = None,
    store: Any = None,
    checks: tuple[Check, ...] | None = None,
) -> Runtime:
    """Wire the bot: store, AWS sessions, Slack client, app, pipeline, poster and event source.

    Tests pass a moto-backed boto3 session, a client pointed at the local Slack stand-in and may pass the audit
    checks (every registered check by default).
    """
    from slack_bolt import App

    import handlers
    from aws.lookups import IamLookups
    from aws.remediation import Remediator
    from aws.sessions import AwsSessions
    from handlers.deps import Deps
    from ingest.context import PipelineContext
    from ingest.pipeline import Pipeline
    from slackui.poster import Poster
    from storage import Store

    store = store or Store(settings.db_path)
    sessions = AwsSessions(session, member_role=settings.member_role, external_id=settings.member_external_id)
    client = client or slack_client(settings)
    if checks is None:
        from checks import all_checks

        checks = all_checks()
    audits = audit_service(settings, sessions, store, checks)
    app = App(
        client=client,
        signing_secret=settings.signing_secret or None,
        token_verification_enabled=False,
        request_verification_enabled=not settings.socket_mode,
        # Acks are fast and run inline; without this, Bolt polls for the ack in 10 ms sleeps. The slow work
        # runs in lazy listeners on Bolt's thread pool either way.
        process_before_response=True,
    )
    deps = Deps(
        store=store,
        remediator=Remediator(sessions),
        admins=settings.admins,
        responders=settings.responders,
        approvals=settings.approvals,
        audits=audits,
        checks=checks,
    )
    handlers.register(app, deps)
    poster = Poster(store, client, settings.channel, thread_minutes=settings.thread_minutes)
    context = PipelineContext(store, IamLookups(sessions), settings.correlation_minutes)
    pipeline = Pipeline(store, context, on_alerts=poster.wake)
    rt = Runtime(settings, store, sessions, client, app, pipeline, poster, audits=audits)
    rt.jobs = scheduled_jobs(rt)
    return rt


def audit_service(settings: Settings, sessions: Any, store: Any, checks: tuple[Check, ...]) -> Any:
    """The auditor running `checks` over the configured accounts and regions, wrapped for the bot."""
    from audit.runner import Auditor
    from audit.service import AuditService

    return AuditService(Auditor(sessions, store, settings.accounts, settings.regions, checks=checks), store)


def scheduled_jobs(rt: Runtime) -> Any:
    """The audit and digest jobs on their crontab schedules."""
    from audit.schedule import Jobs, latest_slot
    from audit.service import digest_period
    from slackui.reports import SlackReports

    reports = SlackReports(rt.client, rt.settings.channel)

    def audit(_slot: Any) -> None:
        if not rt.audits.audit_and_post(reports, "schedule", None):
            raise RuntimeError("the scheduled audit did not finish (the channel was told why)")

    def digest(slot: Any) -> None:
        from datetime import timedelta

        previous = latest_slot(jobs.triggers["digest"], slot - timedelta(seconds=1), slot - timedelta(days=400))
        since, until = digest_period(slot, previous)
        rt.audits.post_digest(reports, since, until)

    jobs = Jobs(rt.store, {"audit": (rt.settings.audit_cron, audit), "digest": (rt.settings.digest_cron, digest)})
    return jobs


def event_source(rt: Runtime) -> Any:
    """The SQS worker when a queue is configured, else the CloudTrail LookupEvents poller."""
    if rt.settings.sqs_queue_url:
        from ingest.sqs_worker import SqsWorker

        region = (
            rt.settings.sqs_queue_url.split("/")[2].split(".")[1]
            if ".amazonaws.com" in rt.settings.sqs_queue_url
            else "us-east-1"
        )
        return SqsWorker(
            rt.sessions.client("sqs", region=region),
            rt.sessions.client("s3"),
            rt.settings.sqs_queue_url,
            rt.pipeline,
            max_receives=rt.settings.sqs_max_receives,
        )
    from ingest.lookup_poller import LookupPoller

    clients = {region: rt.sessions.client("cloudtrail", region=region) for region in rt.settings.regions}
    return LookupPoller(clients, rt.store, rt.pipeline)


def start_background(rt: Runtime) -> None:
    """Start the poster, the event source and the scheduler (after a catch-up of missed runs)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    rt.source = event_source(rt)
    scheduler = BackgroundScheduler(timezone="UTC")
    rt.jobs.schedule(scheduler)
    scheduler.start()
    rt.stop_hooks.append(lambda: scheduler.shutdown(wait=False))
    threading.Thread(target=rt.jobs.catch_up, name="catch-up", daemon=True).start()
    runners: list[tuple[str, Callable[[], None]]] = [("poster", lambda: rt.poster.run(rt.stop))]
    if rt.settings.sqs_queue_url:
        runners.append(("sqs", lambda: rt.source.run(rt.stop)))
    else:
        runners.append(("lookup", lambda: rt.source.run(rt.stop, rt.settings.poll_seconds)))
    for name, target in runners:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        rt.threads.append(thread)


def wsgi_app(rt: Runtime, slack_events: bool = True) -> Callable[..., Iterable[bytes]]:
    """The HTTP surface: POST /slack/events (signature-checked by Bolt) and GET /healthz.

    In Socket Mode Bolt does not verify signatures (Slack's socket is authenticated instead), so
    `slack_events=False` leaves only /healthz on HTTP.
    """
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    slack = SlackRequestHandler(rt.app)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method == "GET":
            try:
                body, status = {"status": "ok", **rt.store.counts()}, "200 OK"
            except Exception as err:  # the database is gone: say so, don't crash the server
                body, status = {"status": "error", "error": type(err).__name__}, "503 Service Unavailable"
            data = json.dumps(body).encode()
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        if slack_events and path == "/slack/events" and method == "POST":
            return slack(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return application


def serve(settings: Settings) -> int:
    """Run the bot until SIGINT/SIGTERM."""
    from slack_sdk.errors import SlackApiError

    rt = build(settings)
    try:
        who = rt.client.auth_test()
    except SlackApiError as err:
        print(f"error: Slack rejected SLACK_BOT_TOKEN ({err.response.get('error')})", file=sys.stderr)
        return 2
    log.info(
        "connected to Slack team %s as %s; alerts go to %s",
        who.get("team"),
        who.get("user"),
        settings.channel,
    )
    start_background(rt)

    def stop(*_: object) -> None:
        rt.stop.set()
        rt.poster.wake()
        for hook in rt.stop_hooks:
            hook()

    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler
        from waitress import create_server

        handler = SocketModeHandler(rt.app, settings.app_token)
        signal.signal(signal.SIGTERM, stop)
        handler.connect()
        health = create_server(wsgi_app(rt, slack_events=False), host="0.0.0.0", port=settings.port)  # noqa: S104
        threading.Thread(target=health.run, name="healthz", daemon=True).start()
        rt.stop_hooks.append(health.close)
        log.info("Socket Mode connected; GET /healthz on port %s", settings.port)
        try:
            rt.stop.wait()
        except KeyboardInterrupt:
            stop()
        handler.close()
    else:
        from waitress import create_server

        server = create_server(wsgi_app(rt), host="0.0.0.0", port=settings.port, threads=16)  # noqa: S104

        def stop_http(*_: object) -> None:
            stop()
            server.close()

        signal.signal(signal.SIGTERM, stop_http)
        log.info("listening on port %s (POST /slack/events, GET /healthz)", settings.port)
        try:
            server.run()
        except (KeyboardInterrupt, OSError):
            stop_http()
    for thread in rt.threads:
        thread.join(timeout=5)
    rt.store.close()
    return 0


def replay(paths: list[str], as_jsonl: bool, post: bool, out: TextIO, stdin: TextIO) -> int:
    """Run CloudTrail files through the detections; print alerts (or JSON lines); with post, send to Slack."""
    from ingest.context import PipelineContext
    from ingest.files import ReadStats, iter_batches
    from ingest.pipeline import Pipeline
    from slackui.alerts import render_alert
    from slackui.terminal import render
    from storage import Store

    if post:
        settings = load(serving=True)
        rt = build(settings)
        store, pipeline = rt.store, rt.pipeline
    else:
        store = Store(":memory:")
        pipeline = Pipeline(store, PipelineContext(store))
    alerts = dead = 0
    stats = ReadStats()
    for source, records in iter_batches(paths, stdin=stdin, dead_letter=pipeline.dead_letter, stats=stats):
        result = pipeline.process(records, source)
        dead += result.dead_letters
        for alert_id in result.alert_ids:
            alert = store.alert(alert_id)
            alerts += 1
            if as_jsonl:
                out.write(json.dumps(_summary(alert)) + "\n")
            else:
                out.write(render(render_alert(alert)) + "\n")
    if post:
        rt.poster.recover()
        rt.poster.drain()
    dead += stats.dead_letters
    read = stats.records + stats.records_skipped + stats.skipped
    summary = f"{alerts} alert(s) from {read} record(s)" + (
        f", {dead} unreadable record(s) kept as dead letters" if dead else ""
    )
    print(summary, file=sys.stderr)
    return 0


def run_audit(fmt: str, out: TextIO) -> int:
    """`bot.py audit`: audit now with the bot's AWS environment and print the report.

    Exit 2 with one `error:` line when no account could be audited (no credentials, endpoint unreachable,
    credentials rejected, access denied), else 3 when a critical or high finding is open, 4 when some accounts
    or checks could not run, 0 otherwise."""
    import boto3
    from botocore.exceptions import BotoCoreError

    from aws.causes import describe
    from aws.sessions import AwsSessions
    from checks import all_checks
    from storage import Store

    settings = load(serving=False)
    try:
        session = boto3.Session()  # an AWS_PROFILE that names no profile fails here
    except BotoCoreError as err:
        print(f"error: {describe(err)}", file=sys.stderr)
        return 2
    store = Store(settings.db_path)
    sessions = AwsSessions(session, member_role=settings.member_role, external_id=settings.member_external_id)
    service = audit_service(settings, sessions, store, all_checks())

    def progress(what: str, done: int, total: int) -> None:
        filled = int(30 * done / total) if total else 30
        print(f"\r{what}: [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", end="", file=sys.stderr)
        if done == total:
            print(file=sys.stderr)

    try:
        report = service.run("cli", None, progress)
    finally:
        store.close()
    failure = report.failure()
    if failure is not None:  # nothing was audited: no report, which would read as a clean bill
        print(f"error: {failure}", file=sys.stderr)
        return report.exit_code()
    out.write({"json": report.json_text, "csv": report.csv_text, "table": report.table_text}[fmt]())
    if not report.complete():
        print(
            f"audit incomplete: {len(report.audited())} of {len(report.accounts)} account(s) audited, "
            f"{len(report.errors)} problem(s) listed in the report's errors",
            file=sys.stderr,
        )
    return report.exit_code()


def _summary(alert: dict) -> dict:
    keys = ("event_id", "rule", "severity", "account", "actor", "target", "title")
    row = {**alert, "actor": alert["actor_arn"]}
    return {k: row.get(k) for k in keys}


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    top = argparse.ArgumentParser(
        prog="bot.py",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subs = top.add_subparsers(dest="command")
    subs.add_parser("serve", help="run the bot (the default)")
    rep = subs.add_parser("replay", help="run CloudTrail files through the detections")
    rep.add_argument("paths", nargs="+", metavar="PATH", help="CloudTrail file (.json/.json.gz), JSON Lines, or -")
    rep.add_argument("--jsonl", action="store_true", help="print one JSON object per alert and nothing else")
    rep.add_argument("--post", action="store_true", help="also post the alerts to Slack like the live bot")
    demo = subs.add_parser("demo", help="run the bot in a local sandbox with a Slack-like page")
    demo.add_argument("--once", action="store_true", help="run the scripted scenario headless and exit")
    demo.add_argument("--port", type=int, default=8080, help="port of the sandbox page (a free one if busy)")
    aud = subs.add_parser("audit", help="audit IAM posture now and print the report")
    aud.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "demo":
            from sandbox.demo import run_demo

            return run_demo(once=args.once, port=args.port)
        if args.command == "audit":
            logging.getLogger().setLevel(logging.WARNING)
            return run_audit(args.format, sys.stdout)
        if args.command == "replay":
            logging.getLogger().setLevel(logging.WARNING)
            return replay(args.paths, args.jsonl, args.post, sys.stdout, sys.stdin)
        settings = load(serving=True)
        logging.getLogger().setLevel(settings.log_level)
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
    sys.exit(main())
