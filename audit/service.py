"""Audits and digests as the bot runs them: one audit at a time, the report posted with its files."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from audit.digest import build_digest
from audit.report import AuditReport
from audit.runner import Auditor, Progress
from checks import all_checks
from slackui import reports
from slackui.blocks import escape
from storage import Store

log = logging.getLogger(__name__)


class AuditBusy(Exception):
    """An audit is already running."""


class AuditService:
    """Runs audits (never two at once in this process) and posts reports and digests to Slack."""

    def __init__(self, auditor: Auditor, store: Store) -> None:
        self.auditor = auditor
        self.store = store
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

    def check_ids(self) -> set[str]:
        """Ids of the checks this bot's audits run."""
        return {c.id for c in (self.auditor.checks if self.auditor.checks is not None else all_checks())}

    def run(self, trigger: str, requested_by: str | None = None, progress: Progress | None = None) -> AuditReport:
        """Run one audit; raises AuditBusy when one is already running."""
        if not self._running.acquire(blocking=False):
            raise AuditBusy("an audit is already running; its report will be posted when it finishes")
        try:
            return self.auditor.run(trigger, requested_by, progress)
        finally:
            self._running.release()

    def post_report(self, client: WebClient, channel: str, report: AuditReport) -> str:
        """Post the report to `channel`, with the full results as CSV and JSON files in its thread."""
        checks = self.auditor.checks if self.auditor.checks is not None else all_checks()
        fixes = {c.id: c.remediation for c in checks}
        ids = {(f["check_id"], f["account"], f["resource"]): f["id"] for f in self.store.findings("open")}
        return reports.post_report(client, channel, report, fixes, ids)

    def audit_and_post(self, client: WebClient, channel: str, trigger: str, requested_by: str | None) -> bool:
        """Run an audit and post its report; failures are reported in the channel, not raised.

        Returns whether the audit finished and reached an account (its report may still have failed to post,
        which is logged)."""
        try:
            report = self.run(trigger, requested_by)
        except AuditBusy as busy:
            client.chat_postMessage(channel=channel, text=f":hourglass: {busy}.")
            return False
        except Exception as err:  # whoever asked must hear back; the traceback goes to the log only
            log.exception("audit requested by %s (%s) failed", requested_by or "the schedule", trigger)
            client.chat_postMessage(
                channel=channel, text=f":warning: The audit could not finish ({type(err).__name__}); see the bot's log."
            )
            return False
        failure = report.failure()
        if failure is not None:  # a report of nothing would read as "no open findings"
            log.error("audit #%s reached no account: %s", report.audit_id, failure)
            client.chat_postMessage(
                channel=channel,
                text=f":warning: The audit could not audit any account, so nothing was checked: {escape(failure, 500)}",
            )
            return False
        try:
            self.post_report(client, channel, report)
        except SlackApiError as err:
            log.error("could not post audit #%s to %s: %s", report.audit_id, channel, err.response.get("error"))
        return True

    def post_digest(self, client: WebClient, channel: str, since: datetime, until: datetime) -> None:
        """Post the digest for [since, until)."""
        reports.post_digest(client, channel, build_digest(self.store, since, until))


def digest_period(slot: datetime, previous: datetime | None) -> tuple[datetime, datetime]:
    """The period a digest due at `slot` covers: since the previous scheduled digest (a week by default)."""
    return (previous or slot - timedelta(days=7)), slot
