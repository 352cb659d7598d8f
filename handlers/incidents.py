"""The incident buttons on a parent message: ack at once, then authorise, claim (on the incident's first alert),
run the per-alert remediation on every alert of the incident it applies to, record, report in the thread."""

from __future__ import annotations

import logging
from logging import Logger

from slack_bolt import App
from slack_sdk import WebClient

from core.actions import INCIDENT_ACTIONS
from core.rows import ActionRow, IncidentRow
from core.states import FINAL_STATES, ActionState, ClaimVerdict
from delivery import incidents
from handlers.actions import run_claimed
from handlers.deps import Deps
from handlers.home import refresh_after_click
from handlers.listening import bind_button, message_ts_of
from handlers.listening import tell_text as _tell
from handlers.related import refresh_related
from handlers.values import MALFORMED, button_id
from slackui import blocks

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    """Bind every incident button's action id."""

    def on_click(body: dict, action: dict, client: WebClient) -> None:
        handle_incident_click(deps, body, action, client, log)
        refresh_after_click(deps, body, client)  # a click on App Home: show the result there

    for action_id in INCIDENT_ACTIONS:
        bind_button(app, action_id, on_click, log, f"button {action_id}", deps.after_ack)


def _reply(client: WebClient, incident: IncidentRow, message: dict) -> None:
    client.chat_postMessage(channel=incident.channel, thread_ts=incident.ts, **message)


def handle_incident_click(deps: Deps, body: dict, action: dict, client: WebClient, logger: Logger) -> None:
    """Everything after the ack, for an incident button."""
    user = body["user"]["id"]
    action_id = action["action_id"]
    incident_id = button_id(action.get("value"))
    if incident_id is None:
        logger.warning("button %s with a malformed value from %s", action_id, user)
        _tell(client, body, MALFORMED)
        return
    incident = deps.store.incident(incident_id)
    message_ts = message_ts_of(body)
    if incident is None or not incident.ts or message_ts not in (incident.ts, None):
        logger.warning("button %s for unknown or mismatched incident %s from %s", action_id, incident_id, user)
        _tell(client, body, f"Incident #{incident_id} is not known here; nothing was done.")
        return
    label = blocks.action_label(action_id)
    root = incident.root_alert_id
    if not deps.may_remediate(user):
        deps.store.record_refusal(root, action_id, user, "not an admin")
        logger.warning("refused %s on incident %s for non-admin %s", action_id, incident.id, user)
        _tell(client, body, f"Only IAM Warden admins can run the {label}. Nothing was changed.")
        return
    verdict, row = deps.store.claim_action(root, action_id, user, deps.approvals)
    if verdict == ClaimVerdict.ALREADY:
        _tell(client, body, blocks.already_claimed(row, label))
        return
    if verdict == ClaimVerdict.SAME_APPROVER:
        _tell(client, body, f"You already asked for the {label}; a different admin must approve it.")
        return
    if verdict == ClaimVerdict.AWAITING:
        incidents.update_parent(deps.store, client, incident)
        _reply(client, incident, blocks.incident_approval_request(row, incident, deps.approvals))
        return
    done, results = _run(deps, incident, action_id, row, user, logger)
    logger.info("%s on incident %s by %s: %s", action_id, incident.id, user, done.state)
    for result in results:
        if result.alert_id != incident.root_alert_id:  # the root's message is the parent, redrawn below
            fresh = incidents.refresh(deps.store, client, result.alert_id)
        else:
            fresh = deps.store.alert(result.alert_id)
        if fresh is not None:  # the alerts about the same principal outside this incident
            refresh_related(deps.store, client, fresh, result, logger)
    incidents.update_parent(deps.store, client, incident)
    _reply(client, incident, blocks.incident_action_reply(done, incident))


# The incident's state when its alerts' outcomes differ: any change made counts first, then a failure.
_PRECEDENCE = (ActionState.DONE, ActionState.FAILED, ActionState.REFUSED, ActionState.NOOP)


def _run(
    deps: Deps, incident: IncidentRow, action_id: str, row: ActionRow, user: str, logger: Logger
) -> tuple[ActionRow, list[ActionRow]]:
    """The per-alert remediation on each alert the button applies to, each claimed on its own alert (a grant or
    key already handled from its own message is left alone); the incident's action records the sum. Returns it
    and the per-alert outcomes."""
    per_alert = INCIDENT_ACTIONS[action_id]
    alerts = deps.store.incident_alerts(incident.id)
    done = {a.id: {x.action for x in deps.store.actions(a.id) if x.state in FINAL_STATES} for a in alerts}
    results: list[ActionRow] = []
    for alert in blocks.incident_targets(action_id, alerts, done):
        # Approval, when needed, was given on the incident's button: each alert's claim runs at once.
        verdict, claim = deps.store.claim_action(alert.id, per_alert, user)
        if verdict == ClaimVerdict.RUN:
            results.append(run_claimed(deps, alert, per_alert, claim, logger))
    if not results:
        return deps.store.finish_action(row.id, ActionState.NOOP, "nothing left to do on this incident"), []
    states = {r.state for r in results}
    state = next((s for s in _PRECEDENCE if s in states), ActionState.NOOP)
    detail = "; ".join(f"alert #{r.alert_id}: {r.detail or r.state}" for r in results)
    return deps.store.finish_action(row.id, state, detail), results
