"""The alert buttons: ack at once, then authorise, claim, act, record, report — in a lazy listener."""

from __future__ import annotations

import logging
from logging import Logger

from slack_bolt import App
from slack_sdk import WebClient

from aws.remediation import Outcome
from core.actions import ALERT_ACTIONS, ActionId
from core.rows import ActionRow, AlertRow
from core.states import ActionState, ClaimVerdict, PostState
from delivery import incidents
from detections import facts_of_undone
from handlers.deps import Deps
from handlers.home import refresh_after_click
from handlers.listening import bind_button, message_ts_of
from handlers.listening import tell_text as _tell
from handlers.mute_similar import mute_similar
from handlers.related import refresh_related
from handlers.values import MALFORMED, button_id
from slackui import blocks

# The bot's own logger, not Bolt's injected one: LOG_LEVEL governs it (see app.logs.configure_logging).
log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    """Bind every alert button's action id."""

    def on_click(body: dict, action: dict, client: WebClient) -> None:
        handle_click(deps, body, action, client, log)
        refresh_after_click(deps, body, client)  # a click on App Home: show the result there

    for action_id in ALERT_ACTIONS:
        bind_button(app, action_id, on_click, log, f"button {action_id}", deps.after_ack)


def _refresh(deps: Deps, client: WebClient, alert_id: int) -> AlertRow:
    """Update the alert's message (and its incident's parent) to show its current status and trail; returns the
    fresh alert."""
    return incidents.refresh(deps.store, client, alert_id)


def _reply(client: WebClient, alert: AlertRow, message: dict) -> None:
    """A reply in the alert's thread (the thread it lives in, or its own)."""
    client.chat_postMessage(channel=alert.channel, thread_ts=alert.thread_ts or alert.ts, **message)


def handle_click(deps: Deps, body: dict, action: dict, client: WebClient, logger: Logger) -> None:
    """Everything after the ack, for any alert button."""
    user = body["user"]["id"]
    action_id = action["action_id"]
    alert_id = button_id(action.get("value"))
    if alert_id is None:
        logger.warning("button %s with a malformed value from %s", action_id, user)
        _tell(client, body, MALFORMED)
        return
    alert = deps.store.alert(alert_id)
    message_ts = message_ts_of(body)
    if alert is None or alert.post_state != PostState.POSTED or message_ts not in (alert.ts, None):
        logger.warning("button %s for unknown or mismatched alert %s from %s", action_id, alert_id, user)
        _tell(client, body, f"Alert #{alert_id} is not known here; nothing was done.")
        return
    if action_id == ActionId.ACK:
        _acknowledge(deps, client, body, alert, user)
    elif action_id == ActionId.MUTE_SIMILAR:
        mute_similar(deps, client, body, alert, user, logger)
    else:
        _remediate(deps, client, body, alert, user, action_id, logger)


def _acknowledge(deps: Deps, client: WebClient, body: dict, alert: AlertRow, user: str) -> None:
    if not deps.may_acknowledge(user):
        deps.store.record_refusal(alert.id, ActionId.ACK, user, "not an admin or responder")
        _tell(client, body, "Only IAM Warden admins and responders can acknowledge alerts.")
        return
    changed, fresh = deps.store.acknowledge(alert.id, user)
    if not changed:
        _tell(client, body, f"Already acknowledged by <@{fresh.acked_by}> at {fresh.acked_at:%Y-%m-%dT%H:%M:%S}Z.")
        return
    fresh = _refresh(deps, client, alert.id)
    _reply(client, fresh, {"text": f":eyes: <@{user}> acknowledged alert #{alert.id}."})


def _remediate(
    deps: Deps, client: WebClient, body: dict, alert: AlertRow, user: str, action_id: str, logger: Logger
) -> None:
    label = blocks.ACTION_LABELS[action_id]
    if not deps.may_remediate(user):
        deps.store.record_refusal(alert.id, action_id, user, "not an admin")
        logger.warning("refused %s on alert %s for non-admin %s", action_id, alert.id, user)
        _tell(client, body, f"Only IAM Warden admins can run {label}. Nothing was changed.")
        return
    verdict, row = deps.store.claim_action(alert.id, action_id, user, deps.approvals)
    if verdict == ClaimVerdict.ALREADY:
        _tell(client, body, blocks.already_claimed(row, label))
        return
    if verdict == ClaimVerdict.SAME_APPROVER:
        _tell(client, body, f"You already asked for {label}; a different admin must approve it.")
        return
    if verdict == ClaimVerdict.AWAITING:
        fresh = _refresh(deps, client, alert.id)
        _reply(client, fresh, blocks.approval_request(row, fresh, deps.approvals))
        return
    done = run_claimed(deps, alert, action_id, row, logger)
    logger.info("%s on alert %s by %s: %s", action_id, alert.id, user, done.state)
    fresh = _refresh(deps, client, alert.id)
    _reply(client, fresh, blocks.action_reply(done, fresh))
    refresh_related(deps.store, client, fresh, done, logger)  # the other alerts about the same principal


def run_claimed(deps: Deps, alert: AlertRow, action_id: str, row: ActionRow, logger: Logger) -> ActionRow:
    """Run a claimed remediation on one alert and record its outcome (also what an incident button runs per alert)."""
    try:
        outcome = deps.remediator.run(action_id, alert)
    except Exception:
        # A claimed action must not stay "running" forever: record the failure so a later click can retry.
        logger.exception("%s on alert %s crashed", action_id, alert.id)
        outcome = Outcome(
            ActionState.FAILED, "the bot hit an internal error (see its log); nothing is known to have changed"
        )
    if outcome.undone:  # remembered (before the action reads as done) so the grant coming back is reverted
        deps.store.store_batch([], [], memory=facts_of_undone(outcome.undone, f"action-{row.id}", alert.id))
    return deps.store.finish_action(row.id, outcome.state, outcome.detail, outcome.request_id)
