"""IAM Warden: command line and wiring. Everything is built here and passed down; nothing at import time."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from config import ConfigError, Settings, help_table, load

if TYPE_CHECKING:
    from checks.base import Check
    from storage.rows import AlertRow

log = logging.getLogger("iam_warden")

DESCRIPTION = "IAM Warden: a Slack bot that guards AWS accounts' identities."
EPILOG = f"""commands:
  serve                 run the bot (default): Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT
                        with POST /slack/events and GET /healthz
  replay PATH...        run CloudTrail files (.json, .json.gz, JSON Lines, folders of them, - for stdin)
                        through the detections and print the alerts; offline unless --post
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
critical or high findings, 4 audit incomplete (some accounts or checks could not run), or
4 replay kept some unreadable input as dead letters (the rest was processed)
"""

REPLAY_EPILOG = """Unreadable input (a line that is not JSON, a cut-off .json.gz, a record without an eventID, ...) is
kept as a dead letter and the replay goes on; stderr names the first few by file and line, never their content.

exit codes: 0 everything was read, 1 error, 2 bad usage or no such path,
            4 some input could not be read (kept as dead letters); the rest was processed
"""
# How many unreadable inputs `replay` names on stderr before it only counts them.
REPLAY_WARNINGS = 5


# The bot's own loggers follow LOG_LEVEL. Everything else follows IAMBOT_LIBRARY_LOG_LEVEL: at DEBUG these
# libraries log whole payloads (botocore SQS message bodies, urllib3 and slack_sdk requests, Bolt request bodies).
OWN_LOGGERS = (
    "iam_warden",
    "audit",
    "aws",
    "checks",
    "config",
    "core",
    "detections",
    "handlers",
    "ingest",
    "sandbox",
    "slackui",
    "storage",
)
LIBRARY_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "slack_sdk", "slack_bolt", "waitress", "apscheduler")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(settings: Settings) -> None:
    """Log to stderr: LOG_LEVEL for the bot's own loggers, IAMBOT_LIBRARY_LOG_LEVEL for every other one.

    Call it before build(): Bolt copies the root level into its loggers when the app is made.
    """
    logging.basicConfig(stream=sys.stderr, format=LOG_FORMAT)
    logging.getLogger().setLevel(settings.library_log_level)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in (*OWN_LOGGERS, *LIBRARY_LOGGERS):
            logger.setLevel(logging.NOTSET)  # e.g. Bolt's loggers, which copy the root level when made
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(settings.library_log_level)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(settings.log_level)


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
        # wsgi_app() verifies every HTTP request before Bolt sees it; Bolt's own check would log the whole body
        # of a request that fails it. Socket Mode is authenticated by its socket.
        request_verification_enabled=False,
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
    """Start the poster, the event source and the scheduler (after a catch-up of missed runs).

    Setting `rt.stop` ends the threads in `rt.threads`; `rt.stop_hooks` (safe to call twice) stop the scheduler.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    rt.source = event_source(rt)
    scheduler = BackgroundScheduler(timezone="UTC")
    rt.jobs.schedule(scheduler)
    scheduler.start()

    def stop_scheduler() -> None:
        if scheduler.running:  # a second shutdown raises SchedulerNotRunningError
            scheduler.shutdown(wait=False)

    rt.stop_hooks.append(stop_scheduler)
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


# The largest request Slack sends here is a button press, which echoes its message: the bot's own, at most 50
# blocks of 3,000 characters (slackui/blocks.py): 468 KB when every character is punctuation that URL-encodes to
# three bytes. 1 MiB keeps twice that margin; anything bigger is not from Slack and is refused unread.
MAX_BODY = 1024 * 1024
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class Refused(Exception):
    """A request answered without reaching Bolt: the HTTP status and the cause (never the body)."""

    def __init__(self, status: str, cause: str) -> None:
        super().__init__(cause)
        self.status, self.cause = status, cause


def read_body(environ: dict, limit: int = MAX_BODY) -> bytes:
    """The request body, refused (413) past `limit`: by Content-Length before reading, else read up to it."""
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ.get("wsgi.input")
    if declared:
        if not declared.isascii() or not declared.isdigit():
            raise Refused("400 Bad Request", "a Content-Length that is not a number")
        if int(declared) > limit:
            raise Refused("413 Content Too Large", f"a body over {limit} bytes")
        return stream.read(int(declared)) if stream is not None and int(declared) else b""
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise Refused("413 Content Too Large", f"a body over {limit} bytes")
    return data


def check_slack_request(environ: dict, body: bytes, verifier: Any) -> None:
    """Refuse a request Slack did not sign (401) or cannot have sent (400); parse it as Bolt will."""
    from slack_bolt.request.internals import parse_body

    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not timestamp or not signature:
        raise Refused("401 Unauthorized", "no Slack signature headers")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Refused("400 Bad Request", "a Slack timestamp that is not a number")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("400 Bad Request", "a body that is not UTF-8") from None
    if not verifier.is_valid(text, timestamp, signature):
        raise Refused("401 Unauthorized", "a bad or expired Slack signature")
    try:
        parsed = parse_body(text, environ.get("CONTENT_TYPE"))
    except (ValueError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict):
        raise Refused("400 Bad Request", "a signed body that is not a JSON object or form")
    problem = _shape_problem(parsed)
    if problem:
        raise Refused("400 Bad Request", f"a signed payload {problem}")


_LISTS_OF_OBJECTS = ("actions", "authorizations")
_OBJECTS = ("event", "view", "container", "message", "state")
_OBJECTS_OR_IDS = ("channel", "team", "user", "enterprise")


def _shape_problem(payload: dict) -> str | None:
    """Why `payload` cannot be one Slack sent, for the fields Bolt and the listeners index into; None if it can."""
    for key in _LISTS_OF_OBJECTS:
        value = payload.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return f"whose {key} is not a list of objects"
    for key in _OBJECTS:
        if not isinstance(payload.get(key), dict | None):
            return f"whose {key} is not an object"
    for key in _OBJECTS_OR_IDS:
        if not isinstance(payload.get(key), dict | str | None):
            return f"whose {key} is not an object or an id"
    user = payload.get("user")
    if "actions" in payload and not (isinstance(user, dict) and isinstance(user.get("id"), str)):
        return "with buttons but no user who pressed them"
    if "command" in payload and not all(isinstance(v, str) for v in payload.values()):
        return "with a slash command field that is not text"
    return None


def wsgi_app(rt: Runtime, slack_events: bool = True) -> Callable[..., Iterable[bytes]]:
    """The HTTP surface: POST /slack/events and GET /healthz.

    Every Slack request is size-limited, signature-checked and parsed here before Bolt sees it, so a hostile one
    costs one log line naming the cause (never the body, never a traceback). In Socket Mode Bolt does not verify
    signatures (Slack's socket is authenticated instead), so `slack_events=False` leaves only /healthz on HTTP.
    """
    import io

    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk.signature import SignatureVerifier

    slack = SlackRequestHandler(rt.app)
    verifier = SignatureVerifier(rt.settings.signing_secret) if slack_events else None

    def answer(start_response: Callable, status: str, body: bytes, kind: str = "text/plain") -> list[bytes]:
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method == "GET":
            try:
                body, status = {"status": "ok", **rt.store.counts()}, "200 OK"
            except Exception as err:  # the database is gone: say so, don't crash the server
                body, status = {"status": "error", "error": type(err).__name__}, "503 Service Unavailable"
            return answer(start_response, status, json.dumps(body).encode(), "application/json")
        if slack_events and path == "/slack/events" and method == "POST":
            try:
                raw = read_body(environ)
                check_slack_request(environ, raw, verifier)
            except Refused as refused:
                log.warning("refused a request to /slack/events: %s", refused.cause)
                return answer(start_response, refused.status, f"{refused.cause}\n".encode())
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
            try:
                return slack(environ, start_response)
            except Exception as err:  # Bolt choked on a signed payload's shape (listener errors never get here)
                log.warning("refused a request to /slack/events: Bolt could not read it (%s)", type(err).__name__)
                return answer(start_response, "400 Bad Request", b"malformed request\n")
        return answer(start_response, "404 Not Found", b"not found\n")

    return application


# How long a stop waits for the poster's current post (Docker's grace period is 10 s) and for the event source,
# whose wait is mostly an SQS long poll or a sleep: what it has not finished is received again after a restart.
STOP_SECONDS = {"poster": 8.0}
SOURCE_STOP_SECONDS = 2.0
# The whole stop, from the signal: the process exits by then even if a thread will not end (Docker waits 10 s).
STOP_DEADLINE = 9.0


def serve(settings: Settings) -> int:
    """Run the bot until SIGTERM or SIGINT, then stop cleanly and return 0.

    Slack unreachable at start-up is waited out (one line per attempt, capped exponential backoff); a token Slack
    rejects returns 2 at once. Whatever ends the run, one shutdown closes everything once: Socket Mode with a Close
    frame, the servers, the scheduler; then the poster may finish its current post and the event source its batch.
    """
    from core.lifecycle import Shutdown, SlackRejected

    shutdown = Shutdown(deadline=STOP_DEADLINE)
    shutdown.install_signals()
    try:
        rt = build(settings)
    except KeyboardInterrupt:
        return 0
    closers: list[Callable[[], None]] = []  # the listeners, closed first so no new work comes in

    def stop_taking_work() -> None:
        rt.stop.set()
        rt.poster.wake()
        for close in closers:
            close()
        for hook in rt.stop_hooks:
            hook()

    def finish_work() -> None:
        start = time.monotonic()
        for thread in rt.threads:
            limit = STOP_SECONDS.get(thread.name, SOURCE_STOP_SECONDS)
            thread.join(max(0.0, start + limit - time.monotonic()))
        busy = [thread.name for thread in rt.threads if thread.is_alive()]
        if busy:
            log.info("not waiting longer for %s (unfinished work is redone after a restart)", ", ".join(busy))

    shutdown.add("stopping the listeners", stop_taking_work)
    shutdown.add("waiting for the workers", finish_work)
    shutdown.add("closing the database", rt.store.close)
    try:
        return _serve(rt, closers)
    except KeyboardInterrupt:  # SIGINT or SIGTERM (see Shutdown.install_signals)
        return 0
    except SlackRejected as err:
        print(f"error: Slack rejected {err.token} ({err.error})", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. the port is taken
        print(f"error: cannot serve on port {settings.port}: {err.strerror or err}", file=sys.stderr)
        return 1
    finally:
        shutdown.run()
        log.info("stopped")


def _serve(rt: Runtime, closers: list[Callable[[], None]]) -> int:
    from waitress import create_server

    from core.lifecycle import SlackRejected, until_reachable

    settings = rt.settings
    who = until_reachable(startup_probe(settings).auth_test, "auth.test", rt.stop)
    if who is None:
        return 0
    log.info("connected to Slack team %s as %s; alerts go to %s", who.get("team"), who.get("user"), settings.channel)
    start_background(rt)
    if settings.socket_mode:
        from slackui.socket_mode import SocketModeHandler

        handler = SocketModeHandler(rt.app, settings.app_token)
        closers.append(handler.close)
        try:
            until_reachable(handler.connect, "apps.connections.open", rt.stop)
        except SlackRejected as err:
            raise SlackRejected(err.error, "SLACK_APP_TOKEN") from None
        health = create_server(wsgi_app(rt, slack_events=False), host="0.0.0.0", port=settings.port)  # noqa: S104
        closers.append(health.close)
        threading.Thread(target=_run_until_closed, args=(health,), name="healthz", daemon=True).start()
        log.info("Socket Mode connected; GET /healthz on port %s", settings.port)
        rt.stop.wait()
        return 0
    server = create_server(
        wsgi_app(rt),
        host="0.0.0.0",  # noqa: S104
        port=settings.port,
        threads=16,
        max_request_body_size=MAX_BODY,  # waitress' own cap too, so no body past it is even buffered
    )
    closers.append(server.close)
    log.info("listening on port %s (POST /slack/events, GET /healthz)", settings.port)
    server.run()  # returns when a signal's KeyboardInterrupt stops it, after its in-flight requests
    return 0


def startup_probe(settings: Settings) -> Any:
    """A Slack client for the start-up check: one try per call and silent, as the retry loop logs each failure."""
    from slack_sdk import WebClient

    quiet = logging.Logger("iam_warden.startup", level=logging.CRITICAL)  # not registered: no handlers, no output
    return WebClient(token=settings.bot_token, base_url=settings.slack_api_url, timeout=10, logger=quiet)


def _run_until_closed(server: Any) -> None:
    """Run a waitress server in a thread until another thread closes its socket (which ends the loop with EBADF)."""
    with contextlib.suppress(OSError, ValueError):
        server.run()


def replay(paths: list[str], as_jsonl: bool, post: bool, out: TextIO, stdin: TextIO) -> int:
    """Run CloudTrail files through the detections; print alerts (or JSON lines); with post, send to Slack."""
    from ingest.context import PipelineContext
    from ingest.files import ReadStats, iter_batches
    from ingest.pipeline import Pipeline
    from slackui.alerts import render_alert
    from slackui.terminal import render
    from storage import Store

    named: list[str] = []  # the first few dead letters, by file and line (reasons never quote content)

    def note(source: str, reason: str) -> None:
        if len(named) < REPLAY_WARNINGS:
            named.append(f"{source.removeprefix('replay:')}: {reason}")

    if post:
        settings = load(serving=True)
        rt = build(settings)
        store, pipeline = rt.store, rt.pipeline
        pipeline.on_dead_letter = note
    else:
        store = Store(":memory:")
        pipeline = Pipeline(store, PipelineContext(store), on_dead_letter=note)
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
    for line in named:
        print(f"unreadable: {line}", file=sys.stderr)
    if dead > len(named):
        print(f"unreadable: … and {dead - len(named)} more", file=sys.stderr)
    print(summary, file=sys.stderr)
    return 4 if dead else 0


def run_audit(fmt: str, out: TextIO) -> int:
    """`bot.py audit`: audit now with the bot's AWS environment and print the report.

    Exit 2 with one `error:` line when no account could be audited (no credentials, endpoint unreachable,
    credentials rejected, access denied), else 3 when a critical or high finding is open, 4 when some accounts
    or checks could not run, 0 otherwise."""
    from aws.causes import CALL_ERRORS, describe
    from aws.sessions import AwsSessions
    from checks import all_checks
    from storage import Store

    settings = load(serving=False)
    try:  # an AWS_PROFILE that names no profile fails here
        sessions = AwsSessions(member_role=settings.member_role, external_id=settings.member_external_id)
    except CALL_ERRORS as err:
        print(f"error: {describe(err)}", file=sys.stderr)
        return 2
    store = Store(settings.db_path)
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
    demo = subs.add_parser("demo", help="run the bot in a local sandbox with a Slack-like page")
    demo.add_argument("--once", action="store_true", help="run the scripted scenario headless and exit")
    demo.add_argument("--port", type=int, default=8080, help="port of the sandbox page (a free one if busy)")
    aud = subs.add_parser("audit", help="audit IAM posture now and print the report")
    aud.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parser().parse_args(argv)
    quiet = Settings(log_level="WARNING", library_log_level="WARNING")  # audit and replay print their own output
    try:
        if args.command == "demo":
            from sandbox.demo import run_demo

            configure_logging(Settings())
            return run_demo(once=args.once, port=args.port)
        if args.command == "audit":
            configure_logging(quiet)
            return run_audit(args.format, sys.stdout)
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
