"""The Mute similar button on an alert (admins): mute the alert's rule for its actor in its account for 30 days, once.

handlers/actions.py acks the click, checks the alert is known and posted, and hands it here; this runs after the
ack. The click is claimed and recorded like a remediation, so a second press (or a press racing it) mutes nothing
more and says who muted it.
"""

from __future__ import annotations

from logging import Logger

from slack_sdk import WebClient

from core.actions import ActionId
from core.rows import AlertRow
from core.rule_mutes import MuteScope, refusal, similar_actor
from core.states import ActionState, ClaimVerdict
from delivery import incidents
from detections import rule
from handlers.deps import Deps
from handlers.listening import tell_text
from slackui import blocks

REASON = "muted from alert #{id} (Mute similar)"


def mute_similar(deps: Deps, client: WebClient, body: dict, alert: AlertRow, user: str, logger: Logger) -> None:
    """Authorise, claim, store the rule mute (or find the same one already active), record, update and reply."""

    def tell(text: str) -> None:
        tell_text(client, body, text)

    label = blocks.ACTION_LABELS[ActionId.MUTE_SIMILAR]
    if not deps.may_remediate(user):
        deps.store.record_refusal(alert.id, ActionId.MUTE_SIMILAR, user, "not an admin")
        logger.warning("refused mute similar on alert %s for non-admin %s", alert.id, user)
        tell("Only IAM Warden admins can mute alerts. Nothing was muted.")
        return
    verdict, row = deps.store.claim_action(alert.id, ActionId.MUTE_SIMILAR, user)
    if verdict != ClaimVerdict.RUN:  # approvals never apply to a mute: RUN or ALREADY
        tell(blocks.already_claimed(row, label))
        return
    state, detail = _mute(deps, alert, user)
    done = deps.store.finish_action(row.id, state, detail)
    logger.info("mute similar on alert %s by %s: %s", alert.id, user, state)
    fresh = deps.store.alert(alert.id)
    assert fresh is not None
    incidents.refresh(deps.store, client, alert.id)
    client.chat_postMessage(
        channel=fresh.channel, thread_ts=fresh.thread_ts or fresh.ts, **blocks.action_reply(done, fresh)
    )


def _mute(deps: Deps, alert: AlertRow, user: str) -> tuple[ActionState, str]:
    """Store the mute this alert's button names: (the action's state, its detail for the trail and the reply)."""
    actor = similar_actor(alert.actor_arn or "")
    try:
        severity = rule(alert.rule or "").severity
    except KeyError:
        return ActionState.REFUSED, f"rule `{alert.rule}` is no longer registered; nothing was muted"
    refused = refusal(severity, MuteScope.ACTOR, actor)
    if refused:
        return ActionState.REFUSED, refused
    made, mute = deps.store.add_rule_mute(
        alert.rule or "",
        MuteScope.ACTOR,
        actor,
        REASON.format(id=alert.id),
        user,
        blocks.RULE_MUTE_DAYS,
        account=alert.account or None,
        alert_id=alert.id,
    )
    # Plain text: the trail and the reply escape it when they show it.
    covered = f"`{mute.rule}` for actor `{mute.value}` in account `{mute.account}` until {mute.expires_at:%Y-%m-%d}"
    if not made:
        return ActionState.NOOP, f"already muted by rule mute #{mute.id}: {covered}"
    return ActionState.DONE, f"rule mute #{mute.id}: {covered} (`/iam unmute-rule {mute.id}` lifts it)"
