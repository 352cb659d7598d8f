"""The wiring: settings -> store, AWS sessions, Slack client -> app, pipeline, poster, jobs and event source.

Everything is built here and passed down; nothing at import time. bot.py (the command line), the sandbox and the
tests build the bot with these functions.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

import handlers
from app.ack_first import AckFirstExecutor, Acks
from audit.runner import Auditor
from audit.schedule import Jobs, latest_slot
from audit.service import DIGEST_JOB, AuditService, digest_period
from aws.lookups import IamLookups
from aws.remediation import Remediator
from aws.sessions import AwsSessions
from checks import all_checks
from checks.base import Check
from config import Settings
from core.feed import FeedHealth
from core.metrics import Metrics
from core.rows import AlertRow
from delivery.poster import Poster
from delivery.reports import SlackReports
from handlers.deps import Deps
from ingest.context import PipelineContext
from ingest.feed_watch import FeedWatch, feed_health, lookup_life
from ingest.lookup_poller import LookupPoller
from ingest.pipeline import Pipeline
from ingest.sqs_worker import SqsWorker
from slackui import blocks
from storage import Store

EventSource = SqsWorker | LookupPoller


@dataclass
class Runtime:
    """Everything the running bot is made of, built by `build()`."""

    settings: Settings
    store: Store
    sessions: AwsSessions
    client: WebClient
    app: App
    pipeline: Pipeline
    poster: Poster
    audits: AuditService
    jobs: Jobs
    metrics: Metrics = field(default_factory=Metrics)
    acks: Acks = field(default_factory=Acks)  # the Slack requests being answered (work after an ack waits for them)
    source: EventSource | None = None  # made by start_background()
    feed: FeedWatch | None = None  # the source's dead man's switch, made by start_background()
    threads: list[threading.Thread] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    stop_hooks: list[Callable[[], None]] = field(default_factory=list)


def slack_client(settings: Settings) -> WebClient:
    """A Slack Web API client with retries for rate limits and dropped connections."""
    return WebClient(
        token=settings.bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=3),
            RateLimitErrorRetryHandler(max_retry_count=5),
        ],
    )


class _DropMessage(logging.Filter):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.message


@contextlib.contextmanager
def _without_token_warning() -> Iterator[None]:
    # Bolt reads SLACK_BOT_TOKEN from the environment even when given a client, then warns at every start that
    # the token "will be unused": it is the client's own token, so the warning is noise.
    bolt_log = logging.getLogger("slack_bolt.App")
    drop = _DropMessage(warning_client_prioritized_and_token_skipped())
    bolt_log.addFilter(drop)
    try:
        yield
    finally:
        bolt_log.removeFilter(drop)


def bolt_app(settings: Settings, client: WebClient, after_ack: Executor | None = None) -> App:
    """The Bolt app on `client`; HTTP requests are verified by app/http.py before Bolt sees them. Its lazy listeners
    run on `after_ack` (app/ack_first.py: after the acks in flight) or, without it, on Bolt's own pool."""
    with _without_token_warning():
        return App(
            client=client,
            signing_secret=settings.signing_secret or None,
            token_verification_enabled=False,
            # wsgi_app() verifies every HTTP request before Bolt sees it; Bolt's own check would log the whole body
            # of a request that fails it. Socket Mode is authenticated by its socket.
            request_verification_enabled=False,
            # Acks are fast and run inline; without this, Bolt polls for the ack in 10 ms sleeps. The slow work
            # runs in lazy listeners on Bolt's thread pool either way.
            process_before_response=True,
            listener_executor=after_ack,
        )


def build(
    settings: Settings,
    session: Any = None,  # a boto3.Session (boto3 is imported only in aws/); None: the default credential chain
    client: WebClient | None = None,
    store: Store | None = None,
    checks: tuple[Check, ...] | None = None,
) -> Runtime:
    """Wire the bot: store, AWS sessions, Slack client, app, pipeline, poster and scheduled jobs.

    Tests pass a moto-backed boto3 session, a client pointed at the local Slack stand-in and may pass the audit
    checks (every registered check by default).
    """
    store = store or Store(settings.db_path)
    sessions = aws_sessions(settings, session)
    client = client or slack_client(settings)
    checks = all_checks() if checks is None else checks
    metrics = Metrics()  # this bot's own registry: a process may hold many bots (tests, the sandbox)
    metrics.watch_outbox(lambda: store.counts().unposted)
    audits = audit_service(settings, sessions, store, checks, metrics)
    acks = Acks()
    after_ack = AckFirstExecutor(acks)
    app = bolt_app(settings, client, after_ack)
    deps = Deps(
        store=store,
        remediator=Remediator(sessions, metrics),
        admins=settings.admins,
        responders=settings.responders,
        approvals=settings.approvals,
        audits=audits,
        checks=checks,
        feed=feed_reader(settings, store, lambda: rt.feed),  # rt is bound below, before any listener runs
        after_ack=after_ack,
    )
    handlers.register(app, deps)
    poster = Poster(
        store,
        client,
        settings.channel,
        thread_minutes=settings.thread_minutes,
        metrics=metrics,
        routes=settings.routing,
    )
    context = PipelineContext(
        store, IamLookups(sessions), settings.correlation_minutes, trusted_accounts=settings.trusted_accounts
    )
    pipeline = Pipeline(store, context, on_alerts=poster.wake, metrics=metrics)
    jobs = scheduled_jobs(settings, store, client, audits)
    rt = Runtime(settings, store, sessions, client, app, pipeline, poster, audits, jobs, metrics, acks)
    return rt


def aws_sessions(settings: Settings, session: Any = None) -> AwsSessions:
    """The bot's AWS sessions: `session` (None: the default credential chain) and the configured member role."""
    return AwsSessions(session, member_role=settings.member_role, external_id=settings.member_external_id)


def audit_service(
    settings: Settings,
    sessions: AwsSessions,
    store: Store,
    checks: tuple[Check, ...],
    metrics: Metrics | None = None,
) -> AuditService:
    """The auditor running `checks` (resolved by the caller: `build`, or the audit command line's selection) over
    the configured accounts and regions."""
    auditor = Auditor(sessions, store, settings.accounts, settings.regions, checks=checks)
    return AuditService(auditor, store, metrics, routes=settings.routing)


def scheduled_jobs(settings: Settings, store: Store, client: WebClient, audits: AuditService) -> Jobs:
    """The audit and digest jobs on their crontab schedules."""
    reports = SlackReports(client, settings.channel, settings.routing)

    def audit(_slot: datetime) -> None:
        if not audits.audit_and_post(reports, "schedule", None):
            raise RuntimeError("the scheduled audit did not finish (the channel was told why)")

    def digest(slot: datetime) -> None:
        previous = latest_slot(jobs.triggers[DIGEST_JOB], slot - timedelta(seconds=1), slot - timedelta(days=400))
        since, until = digest_period(slot, previous)
        audits.post_digest(reports, since, until)

    jobs = Jobs(store, {"audit": (settings.audit_cron, audit), DIGEST_JOB: (settings.digest_cron, digest)})
    return jobs


def event_source(rt: Runtime) -> EventSource:
    """The SQS worker when a queue is configured, else the CloudTrail LookupEvents poller."""
    if rt.settings.sqs_queue_url:
        region = queue_region(rt.settings.sqs_queue_url)
        return SqsWorker(
            rt.sessions.client("sqs", region=region),
            rt.sessions.client("s3"),
            rt.settings.sqs_queue_url,
            rt.pipeline,
            max_receives=rt.settings.sqs_max_receives,
        )
    clients = {region: rt.sessions.client("cloudtrail", region=region) for region in rt.settings.regions}
    return LookupPoller(clients, rt.store, rt.pipeline)


def feed_watch(rt: Runtime, source: EventSource) -> FeedWatch:
    """The watchdog raising feed_silent when `source` delivers nothing for IAMBOT_FEED_SILENT_MINUTES."""
    minutes = rt.settings.feed_silent_minutes

    def reply(alert: AlertRow, back_at: str) -> bool:
        # Broadcast: the channel saw the alert, so it sees the end of the silence too.
        return rt.poster.reply(alert.id, blocks.feed_back_reply(alert, back_at), broadcast=True)

    name = feed_name(rt.settings)
    if isinstance(source, SqsWorker):
        watch = FeedWatch(rt.store, minutes, name, on_alerts=rt.poster.wake, reply=reply)
        source.on_alive = watch.heard
        return watch
    life = lookup_life(rt.store, rt.settings.regions)
    return FeedWatch(rt.store, minutes, name, on_alerts=rt.poster.wake, reply=reply, life=life)


def feed_name(settings: Settings) -> str:
    """The event feed as the feed_silent alert and App Home name it."""
    if settings.sqs_queue_url:
        return f"SQS queue {settings.sqs_queue_url.rsplit('/', 1)[-1]}"
    return f"CloudTrail LookupEvents polls of {', '.join(settings.regions)}"


def feed_reader(
    settings: Settings, store: Store, watch: Callable[[], FeedWatch | None] = lambda: None
) -> Callable[[], FeedHealth]:
    """Reads the feed's health (App Home): the running feed watch's latest life when `watch` gives one (the SQS
    worker's last delivery, even one not stored yet), else the stored life or the LookupEvents polls'."""
    stored_life = None if settings.sqs_queue_url else lookup_life(store, settings.regions)
    name, minutes = feed_name(settings), settings.feed_silent_minutes

    def read() -> FeedHealth:
        running = watch()
        return feed_health(store, name, minutes, running.last_heard if running is not None else stored_life)

    return read


def queue_region(queue_url: str) -> str:
    """The region of an SQS queue URL (us-east-1 for a URL that names none, e.g. a local endpoint)."""
    return queue_url.split("/")[2].split(".")[1] if ".amazonaws.com" in queue_url else "us-east-1"


def start_background(rt: Runtime) -> None:
    """Start the poster, the event source, its feed watch and the scheduler (after a catch-up of missed runs).

    Setting `rt.stop` ends the threads in `rt.threads`; `rt.stop_hooks` (safe to call twice) stop the scheduler.
    """
    source = rt.source = event_source(rt)
    watch = rt.feed = feed_watch(rt, source)
    scheduler = BackgroundScheduler(timezone="UTC")
    rt.jobs.schedule(scheduler)
    scheduler.start()

    def stop_scheduler() -> None:
        if scheduler.running:  # a second shutdown raises SchedulerNotRunningError
            scheduler.shutdown(wait=False)

    rt.stop_hooks.append(stop_scheduler)
    threading.Thread(target=rt.jobs.catch_up, name="catch-up", daemon=True).start()
    runners: list[tuple[str, Callable[[], None]]] = [
        ("poster", lambda: rt.poster.run(rt.stop)),
        ("feed-watch", lambda: watch.run(rt.stop)),
    ]
    if isinstance(source, SqsWorker):
        runners.append(("sqs", lambda: source.run(rt.stop)))
    else:
        runners.append(("lookup", lambda: source.run(rt.stop, rt.settings.poll_seconds)))
    for name, target in runners:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        rt.threads.append(thread)


def registered_checks() -> tuple[Check, ...]:
    """Every registered audit check (the command line narrows them with --checks and --severity)."""
    return all_checks()
