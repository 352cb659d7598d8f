"""Audit reports and digests delivered to a Slack channel: the report message with its CSV and JSON files."""

from __future__ import annotations

from slack_sdk import WebClient

from audit.report import AuditReport
from slackui import blocks


def post_report(
    client: WebClient, channel: str, report: AuditReport, fixes: dict[str, str], ids: dict[tuple[str, str, str], int]
) -> str:
    """Post the report to `channel`, with the full results as CSV and JSON files in its thread."""
    reply = client.chat_postMessage(channel=channel, **blocks.audit_report(report, fixes, ids), unfurl_links=False)
    stamp = f"iam-audit-{report.audit_id}"
    client.files_upload_v2(
        channel=channel,
        thread_ts=reply["ts"],
        initial_comment="Every result of this audit (failing, muted and passing).",
        file_uploads=[
            {"content": report.csv_text(), "filename": f"{stamp}.csv", "title": f"{stamp}.csv"},
            {"content": report.json_text(), "filename": f"{stamp}.json", "title": f"{stamp}.json"},
        ],
    )
    return reply["ts"]


def post_digest(client: WebClient, channel: str, digest: dict) -> None:
    """Post a digest (audit.digest.build_digest's content)."""
    client.chat_postMessage(channel=channel, **blocks.digest_message(digest))
