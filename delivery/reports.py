"""Audit reports and digests delivered to a Slack channel: the report message with its CSV and JSON files, and the
one-line notices of an audit that did not produce one."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from audit.report import AuditReport
from core.digest import Digest
from core.routing import Routes
from core.rows import AlertRow
from delivery.poster import CHANNEL_ERRORS
from slackui import blocks
from slackui.blocks import escape

log = logging.getLogger(__name__)


class SlackReports:
    """Delivers what audits produce (audit.service.Delivery) to `channel`, or, given `routes` (IAMBOT_ROUTES), each
    report to its route; notices of an audit that produced none go to `channel`."""

    def __init__(self, client: WebClient, channel: str, routes: Routes | None = None) -> None:
        self.client = client
        self.channel = channel
        self.routes = routes

    def report(self, report: AuditReport, fixes: dict[str, str], finding_ids: dict[tuple[str, str, str], int]) -> None:
        """Post the report, with the full results as CSV and JSON files in its thread; a Slack error is logged. A
        routed channel that refuses it (the bot not in it) leaves it to the default channel."""
        message = blocks.audit_report(report, fixes, finding_ids)
        for channel in dict.fromkeys([self.report_channel(report), self.channel]):
            try:
                reply = self.client.chat_postMessage(channel=channel, **message, unfurl_links=False)
            except SlackApiError as err:
                error = err.response.get("error")
                log.error("could not post audit #%s to %s: %s", report.audit_id, channel, error)
                if error in CHANNEL_ERRORS:
                    continue
                return
            self._attach_files(report, channel, reply["ts"])
            return

    def _attach_files(self, report: AuditReport, channel: str, ts: str) -> None:
        stamp = f"iam-audit-{report.audit_id}"
        try:
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=ts,
                initial_comment="Every result of this audit (failing, muted and passing).",
                file_uploads=[
                    {"content": report.csv_text(), "filename": f"{stamp}.csv", "title": f"{stamp}.csv"},
                    {"content": report.json_text(), "filename": f"{stamp}.json", "title": f"{stamp}.json"},
                ],
            )
        except SlackApiError as err:
            log.error("could not post audit #%s to %s: %s", report.audit_id, channel, err.response.get("error"))

    def report_channel(self, report: AuditReport) -> str:
        """Where `report` goes: its route (one account's report by the account, else by its highest failing
        severity), or `channel` without routes."""
        if self.routes is None:
            return self.channel
        return self.routes.for_report(report.accounts, [r.severity for r in report.failing()])

    def busy(self, why: str) -> None:
        """Say that another audit is running."""
        self.client.chat_postMessage(channel=self.channel, text=f":hourglass: {why}.")

    def crashed(self, error: str) -> None:
        """Say that the audit could not finish (`error` names the exception class; the traceback stays in the log)."""
        self.client.chat_postMessage(
            channel=self.channel, text=f":warning: The audit could not finish ({error}); see the bot's log."
        )

    def unreached(self, failure: str) -> None:
        """Say why the audit reached no account (instead of a report of nothing)."""
        self.client.chat_postMessage(
            channel=self.channel,
            text=f":warning: The audit could not audit any account, so nothing was checked: {escape(failure, 500)}",
        )

    def digest(self, digest: Digest, channel: str | None = None) -> None:
        """Post a digest (audit.digest.build_digest's content) to `channel` (default: this delivery's), its open
        alerts linked to their messages."""
        links = self.permalinks(digest.unacknowledged[: blocks.DIGEST_ALERTS])
        message = blocks.digest_message(digest, links)
        self.client.chat_postMessage(channel=channel or self.channel, **message, unfurl_links=False)

    def permalinks(self, alerts: list[AlertRow]) -> dict[int, str]:
        """Each posted alert's message link (chat.getPermalink), by alert id; one that Slack refuses is left out."""
        links: dict[int, str] = {}
        for alert in alerts:
            if not (alert.channel and alert.ts):
                continue  # not posted (yet): nothing to link to
            try:
                reply = self.client.chat_getPermalink(channel=alert.channel, message_ts=alert.ts)
            except SlackApiError as err:
                log.warning("no link to alert #%s's message: %s", alert.id, err.response.get("error"))
                continue
            if isinstance(reply.get("permalink"), str):
                links[alert.id] = reply["permalink"]
        return links
