"""Render a stored alert (with its rule's prose and its audit trail) as a Slack message."""

from __future__ import annotations

from core.rows import ActionRow, AlertRow
from detections import rule
from slackui.blocks import alert_message


def render_alert(alert: AlertRow, actions: list[ActionRow] | None = None) -> dict:
    """The alert's current message: blocks reflecting its status and recorded actions."""
    try:
        found = rule(alert.rule)
        rationale, response = found.rationale, found.response
    except KeyError:  # a rule removed since the alert was stored
        rationale, response = "(rule no longer registered)", "Review the event in CloudTrail."
    return alert_message(alert, rationale, response, actions or [])
