"""The "Mute 30 days" button on audit findings (admins only; a second press says who muted it)."""

from __future__ import annotations

import logging
from logging import Logger

from slack_bolt import App
from slack_sdk import WebClient

from core.actions import ActionId
from handlers.deps import Deps
from handlers.listening import bind_button, channel_of, message_ts_of
from handlers.values import MALFORMED, button_id
from slackui import blocks

log = logging.getLogger(__name__)  # the bot's own logger, not Bolt's injected one (LOG_LEVEL governs it)


def register(app: App, deps: Deps) -> None:
    """Bind the mute button."""

    def on_mute(body: dict, action: dict, client: WebClient) -> None:
        handle_mute(deps, body, action, client, log)

    bind_button(app, ActionId.MUTE_FINDING, on_mute, log, "mute button", deps.after_ack)


def handle_mute(deps: Deps, body: dict, action: dict, client: WebClient, logger: Logger) -> None:
    """Authorise, then mute the finding's check for its resource for 30 days (once)."""
    user = body["user"]["id"]
    channel = channel_of(body)

    def tell(text: str) -> None:
        client.chat_postEphemeral(channel=channel, user=user, **blocks.ephemeral(text))

    if not deps.may_remediate(user):
        logger.warning("refused mute for non-admin %s", user)
        tell("Only IAM Warden admins can mute findings.")
        return
    finding_id = button_id(action.get("value"))
    if finding_id is None:
        logger.warning("mute button with a malformed value from %s", user)
        tell(MALFORMED)
        return
    finding = deps.store.finding(finding_id)
    if finding is None:
        tell("That finding is not known here; nothing was muted.")
        return
    key = (finding.check_id, finding.account, finding.resource)
    existing = deps.store.active_mute_for(*key)
    if existing:
        tell(f"Already muted by <@{existing.muted_by}> until {existing.expires_at:%Y-%m-%d} (mute #{existing.id}).")
        return
    made = deps.store.add_mute(*key, reason="muted from the audit report", muted_by=user, days=blocks.MUTE_DAYS)
    message_ts = message_ts_of(body)
    text = (
        f":mute: <@{user}> muted `{key[0]}` on `{blocks.escape(key[2])}` until {made.expires_at:%Y-%m-%d} "
        f"(mute #{made.id}; `/iam unmute {made.id}` lifts it)."
    )
    if message_ts:
        client.chat_postMessage(channel=channel, thread_ts=message_ts, text=text)
    else:
        tell(text)
