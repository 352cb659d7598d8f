"""An incident's parent message as the store knows it now, and the message any posted alert should show: the poster
posts and updates them, the buttons refresh them."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.actions import INCIDENT_ACTIONS
from core.rows import AlertRow, IncidentRow
from slackui.alerts import current_message
from slackui.blocks import incident_parent
from storage import Store

log = logging.getLogger(__name__)
_COUNTED = frozenset(INCIDENT_ACTIONS.values())  # the per-alert actions the incident buttons leave out once done


def parent_message(store: Store, incident: IncidentRow) -> dict:
    """The parent of `incident`: its first alert's own message while it is alone, else the incident's summary."""
    alerts = store.incident_alerts(incident.id)
    root = next((a for a in alerts if a.id == incident.root_alert_id), None)
    if root is None:  # the root row is always linked; a store edited by hand still renders something
        root = store.alert(incident.root_alert_id)
        assert root is not None
        alerts = [root, *alerts]
    if len(alerts) == 1:
        return current_message(store, root)
    alerts = [root, *(a for a in alerts if a.id != root.id)]
    return incident_parent(incident, alerts, store.incident_actions(incident.id))


def message_at(store: Store, alert: AlertRow) -> dict:
    """What the message at `alert.ts` should show now: the incident's parent when the alert is an incident's first,
    else the alert as the store knows it (slackui.alerts.current_message)."""
    incident = store.incident(alert.incident_id) if alert.incident_id is not None else None
    if incident is not None and incident.root_alert_id == alert.id:
        return parent_message(store, incident)
    return current_message(store, alert)


def update_parent(store: Store, client: WebClient, incident: IncidentRow) -> bool:
    """Redraw the incident's parent in place (chat.update); False, logged, when Slack did not take it (the next
    event or click redraws it again)."""
    if not incident.channel or not incident.ts:
        return False
    try:
        client.chat_update(channel=incident.channel, ts=incident.ts, **parent_message(store, incident))
    except SlackApiError as err:
        log.warning("Slack refused to update incident %s: %s", incident.id, err.response.get("error"))
        return False
    except Exception as err:  # network errors: the parent is redrawn at the next change
        log.warning("updating incident %s failed (%s)", incident.id, type(err).__name__)
        return False
    return True


def refresh(store: Store, client: WebClient, alert_id: int) -> AlertRow:
    """After an action on an alert: redraw its message and, when it lives in an incident's thread and the action is
    one the parent's buttons count (a grant detached, a key disabled), the parent; returns the fresh alert."""
    alert = store.alert(alert_id)
    assert alert is not None
    actions = store.actions(alert.id)
    incident = store.incident(alert.incident_id) if alert.incident_id is not None else None
    if incident is not None and incident.root_alert_id == alert.id:
        client.chat_update(channel=alert.channel, ts=alert.ts, **parent_message(store, incident))
        return alert
    client.chat_update(channel=alert.channel, ts=alert.ts, **current_message(store, alert))
    if incident is not None and any(a.action in _COUNTED for a in actions):
        update_parent(store, client, incident)
    return alert
