"""Audits and digests as the bot runs them: one audit at a time, the outcome handed to a delivery (slackui)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Protocol

from audit.digest import build_digest
from audit.report import AuditReport
from audit.runner import Auditor, Progress
from core.digest import Digest
from core.metrics import Metrics
from core.routing import Routes
from core.states import FindingState
from storage import Store

log = logging.getLogger(__name__)

DIGEST_JOB = "digest"  # the scheduled digest's job name (app/wiring.py uses it); its slots mark each digest
DEFAULT_DIGEST_DAYS = 7
MAX_DIGEST_DAYS = 365


class AuditBusy(Exception):
    """An audit is already running."""


class DigestUndelivered(Exception):
    """Some channels' digests could not be posted (the others were)."""


class Delivery(Protocol):
    """Where an audit's outcome goes (delivery.reports.SlackReports posts it to a channel)."""

    def report(self, report: AuditReport, fixes: dict[str, str], finding_ids: dict[tuple[str, str, str], int]) -> None:
        """The report, with each check's remediation by id and the open findings' ids by (check, account, resource)."""

    def busy(self, why: str) -> None:
        """Another audit is running."""

    def crashed(self, error: str) -> None:
        """The audit raised; `error` names the exception class."""

    def unreached(self, failure: str) -> None:
        """The audit reached no account; `failure` says why."""

    def digest(self, digest: Digest, channel: str | None = None) -> None:
        """A digest's content (build_digest), to `channel` (None: where the delivery posts by default)."""


class AuditService:
    """Runs audits (never two at once in this process) and delivers reports and digests."""

    def __init__(
        self, auditor: Auditor, store: Store, metrics: Metrics | None = None, routes: Routes | None = None
    ) -> None:
        self.auditor = auditor
        self.store = store
        self.metrics = metrics or Metrics()
        self.routes = routes  # IAMBOT_ROUTES: digests are split by channel when it routes anything
        self._running = threading.Lock()

    def describe_target(self) -> str:
        """What an audit will cover, said without calling AWS (for the immediate ack)."""
        setting = self.auditor.accounts_setting
        if setting == ("organization",):
            return "every account of the organization"
        if setting:
            return f"account {setting[0]}" if len(setting) == 1 else f"{len(setting)} accounts"
        cached = self.auditor.sessions.cached_identity()
        return f"account {cached['Account']}" if cached else "this bot's AWS account"

    def run(self, trigger: str, requested_by: str | None = None, progress: Progress | None = None) -> AuditReport:
        """Run one audit; raises AuditBusy when one is already running."""
        if not self._running.acquire(blocking=False):
            raise AuditBusy("an audit is already running; its report will be posted when it finishes")
        try:
            with self.metrics.audit_duration.labels(trigger).time():
                return self.auditor.run(trigger, requested_by, progress)
        finally:
            self._running.release()

    def deliver_report(self, delivery: Delivery, report: AuditReport) -> None:
        """Hand the report over with each check's remediation and the open findings' ids (for mute buttons)."""
        fixes = {c.id: c.remediation for c in self.auditor.checks}
        ids = {(f.check_id, f.account, f.resource): f.id for f in self.store.findings(FindingState.OPEN)}
        delivery.report(report, fixes, ids)

    def audit_and_post(self, delivery: Delivery, trigger: str, requested_by: str | None) -> bool:
        """Run an audit and deliver its report; failures are delivered as notices, not raised.

        Returns whether the audit finished and reached an account (its report may still have failed to post,
        which the delivery logs)."""
        try:
            report = self.run(trigger, requested_by)
        except AuditBusy as busy:
            delivery.busy(str(busy))
            return False
        except Exception as err:  # whoever asked must hear back; the traceback goes to the log only
            log.exception("audit requested by %s (%s) failed", requested_by or "the schedule", trigger)
            delivery.crashed(type(err).__name__)
            return False
        failure = report.failure()
        if failure is not None:  # a report of nothing would read as "no open findings"
            log.error("audit #%s reached no account: %s", report.audit_id, failure)
            delivery.unreached(failure)
            return False
        self.deliver_report(delivery, report)
        return True

    def post_digest(self, delivery: Delivery, since: datetime, until: datetime, asked_in: str | None = None) -> None:
        """Deliver the digest for [since, until). Without routes: the whole of it. With IAMBOT_ROUTES: the scheduled
        digest (`asked_in` None) is one digest per channel of what was routed there, the default channel's covering
        the rest; one asked for in a routed channel (`asked_in`) is that channel's share, elsewhere the whole."""
        routes = self.routes
        if routes is None or not routes.routes or (asked_in is not None and asked_in not in routes.channels()):
            delivery.digest(build_digest(self.store, since, until))
        elif asked_in is not None:
            delivery.digest(build_digest(self.store, since, until, routes, asked_in))
        else:
            refused = []
            for channel in routes.channels():  # one channel refusing must not cost the others their digest
                try:
                    delivery.digest(build_digest(self.store, since, until, routes, channel), channel)
                except Exception:
                    log.exception("the digest for channel %s could not be posted", channel)
                    refused.append(channel)
            if refused:
                raise DigestUndelivered(f"no digest could be posted in {', '.join(refused)}")

    def last_digest(self) -> datetime | None:
        """When the last scheduled digest was due (its slot), or None before the first."""
        return self.store.last_slot(DIGEST_JOB)

    def requested_digest_period(self, days: int | None) -> tuple[datetime, datetime, datetime | None]:
        """The period of a digest asked for now (`/iam digest [DAYS]`): the last `days`, else since the last
        scheduled digest; and that digest's slot (None when `days` is given, or before the first), in one read."""
        last = self.last_digest() if days is None else None
        return (*requested_period(self.store.clock(), days, last), last)


def digest_period(slot: datetime, previous: datetime | None) -> tuple[datetime, datetime]:
    """The period a digest due at `slot` covers: since the previous scheduled digest (a week by default)."""
    return (previous or slot - timedelta(days=7)), slot


def requested_period(now: datetime, days: int | None, last_digest: datetime | None) -> tuple[datetime, datetime]:
    """The period a digest asked for at `now` covers: the last `days`, else since the last scheduled digest (a week
    when none ran; never more than a year)."""
    if days is not None:
        return now - timedelta(days=days), now
    if last_digest is None or last_digest >= now:
        return now - timedelta(days=DEFAULT_DIGEST_DAYS), now
    return max(last_digest, now - timedelta(days=MAX_DIGEST_DAYS)), now
