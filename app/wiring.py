"""The wiring: settings -> store, AWS sessions, Slack client -> app, pipeline, poster, jobs and event source.

Everything is built here and passed down; nothing at import time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from config import Settings

if TYPE_CHECKING:
    from checks.base import Check


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
