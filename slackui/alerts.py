"""Render a stored alert (with its rule's prose and its audit trail) as a Slack message."""

from __future__ import annotations

from core.rows import ActionRow, AlertRow
from core.settled import SETTLING, Settled, settled
from detections import rule
from slackui.blocks import alert_message
from storage import Store


def render_alert(
    alert: AlertRow, actions: list[ActionRow] | None = None, moot: dict[str, Settled] | None = None
) -> dict:
    """The alert's current message: blocks reflecting its status, recorded actions and the buttons `moot` says
    an action on it or on another alert about the same principal settled."""
    try:
        found = rule(alert.rule)
        rationale, response = found.rationale, found.response
    except KeyError:  # a rule removed since the alert was stored
        rationale, response = "(rule no longer registered)", "Review the event in CloudTrail."
    return alert_message(alert, rationale, response, actions or [], moot)


def settled_buttons(store: Store, alert: AlertRow) -> dict[str, Settled]:
    """The buttons of `alert` that a finished remediation, pressed on any alert since it was raised, settled."""
    if alert.created_at is None:
        return {}
    return settled(alert, store.settling_actions(SETTLING, alert.created_at))


def current_message(store: Store, alert: AlertRow) -> dict:
    """The alert's message as the store knows it now: its trail and what was done to its principal elsewhere."""
    return render_alert(alert, store.actions(alert.id), settled_buttons(store, alert))
