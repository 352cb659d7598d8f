"""App Home (`app_home_opened`): the open alerts with their buttons, open findings by check, mutes about to expire,
the last audit and the feed's health, published to the user who opened it (views.publish).

Thin: ack at once, then read the store and publish in a lazy listener; no AWS call. Admins get the alerts' buttons
(the same action ids and values as on the alert messages, so handlers/actions.py acts on them), responders the
Acknowledge button, everyone else a read-only view. A click on the tab republishes it for that user.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from slack_bolt import App
from slack_sdk import WebClient

from core.actions import ActionId
from core.rows import AlertRow
from core.severity import Severity
from core.states import FINAL_STATES, AlertStatus, PostState
from handlers.deps import Deps
from handlers.listening import ack_now, bind_button
from slackui import blocks
from slackui.alerts import settled_buttons

log = logging.getLogger(__name__)  # the bot's own logger, not Bolt's injected one (LOG_LEVEL governs it)


def register(app: App, deps: Deps) -> None:
    """Bind the app_home_opened event and the tab's Refresh button."""

    def opened(event: dict, client: WebClient) -> None:
        if event.get("tab") != "home":  # the Messages tab opens with the same event
            return
        user = event.get("user")
        if not isinstance(user, str) or not user:
            log.warning("app_home_opened without a user; nothing published")
            return
        try:
            publish_home(deps, client, user)
        except Exception:  # Bolt would log one terse line; keep the traceback, never the payload
            log.exception("App Home publish failed")

    app.event("app_home_opened")(ack=ack_now, lazy=[opened])

    def on_refresh(body: dict, _action: dict, client: WebClient) -> None:
        publish_home(deps, client, body["user"]["id"])

    bind_button(app, ActionId.HOME_REFRESH, on_refresh, log, "home refresh", deps.after_ack)


def from_home(body: dict) -> bool:
    """Whether an interaction came from the Home tab (a view of type home, not a message)."""
    return (body.get("view") or {}).get("type") == "home"


def refresh_after_click(deps: Deps, body: dict, client: WebClient) -> None:
    """After a button's work: republish the clicker's Home tab when the click came from it, so it shows the result
    (never raises: the click itself is done)."""
    if not from_home(body):
        return
    try:
        publish_home(deps, client, body["user"]["id"])
    except Exception:
        log.exception("App Home republish after a click failed")


def publish_home(deps: Deps, client: WebClient, user: str) -> None:
    """Read the store and publish `user`'s Home tab."""
    client.views_publish(user_id=user, view=blocks.home_view(home_content(deps, user)))


def home_content(deps: Deps, user: str, now: datetime | None = None) -> blocks.HomeContent:
    """What `user`'s Home tab shows, from the store (and the feed's health when the wiring gave a reader)."""
    store = deps.store
    now = now or datetime.now(UTC)
    # As /iam status counts them (Store.counts): open and not kept out of Slack by a rule mute, posted or not yet.
    open_alerts = [a for a in store.alerts(status=AlertStatus.OPEN) if a.post_state != PostState.MUTED]
    counts: dict[Severity, int] = {}
    for alert in open_alerts:
        counts[alert.severity] = counts.get(alert.severity, 0) + 1
    alerts, incidents = _entries(deps, open_alerts)
    within = timedelta(days=blocks.HOME_MUTE_DAYS)
    return blocks.HomeContent(
        user=user,
        now=now,
        alerts=alerts,
        open_alerts=counts,
        findings=store.open_findings_by_check(),
        finding_mutes=store.mutes_expiring(within),
        rule_mutes=store.rule_mutes_expiring(within),
        last_audit=store.last_audit(),
        feed=deps.feed() if deps.feed else None,
        may_remediate=deps.may_remediate(user),
        may_acknowledge=deps.may_acknowledge(user),
        incidents=incidents,
    )


def _entries(
    deps: Deps, open_alerts: list[AlertRow]
) -> tuple[list[tuple[AlertRow, frozenset[str]]], list[blocks.HomeIncident]]:
    """The Home tab's entries, most severe first, at most HOME_ALERTS of them: an open alert of an incident of two or
    more alerts shows as that incident (once), any other open alert as itself, each with the actions finished on
    it (or made moot by one on another alert about the same principal)."""
    store = deps.store
    singles: list[tuple[AlertRow, frozenset[str]]] = []
    incidents: dict[int, blocks.HomeIncident] = {}
    for alert in sorted(open_alerts, key=lambda a: (a.severity.rank, -a.id)):
        if len(singles) + len(incidents) >= blocks.HOME_ALERTS:
            break
        if alert.incident_id is not None and alert.incident_id in incidents:
            continue
        incident = store.incident(alert.incident_id) if alert.incident_id is not None else None
        members = store.incident_alerts(incident.id) if incident is not None else []
        if incident is not None and len(members) > 1:
            trails = store.incident_actions(incident.id)
            done = {aid: {a.action for a in trail if a.state in FINAL_STATES} for aid, trail in trails.items()}
            root = [a for a in members if a.id == incident.root_alert_id]
            ordered = root + [a for a in members if a.id != incident.root_alert_id]
            incidents[incident.id] = blocks.HomeIncident(incident, ordered, done)
            continue
        finished = {act.action for act in store.actions(alert.id) if act.state in FINAL_STATES}
        # a button a remediation on another alert about the same principal made moot is not offered either
        singles.append((alert, frozenset(finished | set(settled_buttons(store, alert)))))
    return singles, list(incidents.values())
