"""After a remediation: every other posted alert about the same principal shows what was done (core/settled.py
decides which buttons it made moot), so no message keeps offering a destructive button with nothing left to do."""

from __future__ import annotations

from logging import Logger

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.rows import ActionRow, AlertRow
from core.settled import settled
from core.states import FINAL_STATES
from delivery.incidents import message_at
from storage import Store


def refresh_related(store: Store, client: WebClient, alert: AlertRow, action: ActionRow, logger: Logger) -> list[int]:
    """Update (chat.update) every other posted alert of `alert`'s account that `action`, finished on `alert`,
    settled a button of; returns their ids. A message Slack refuses to update is logged and skipped: the rest are
    still updated, and each message is rendered again from the store at its next change."""
    if action.state not in FINAL_STATES or action.finished_at is None or not alert.account:
        return []
    updated = []
    for other in store.posted_alerts(alert.account, action.finished_at):
        if other.id == alert.id or not settled(other, [(action, alert)]):
            continue
        try:
            client.chat_update(channel=other.channel, ts=other.ts, **message_at(store, other))
        except SlackApiError as err:
            logger.warning(
                "could not update alert %s after %s on alert %s: %s",
                other.id,
                action.action,
                alert.id,
                err.response.get("error"),
            )
            continue
        updated.append(other.id)
    if updated:
        logger.info("%s on alert %s settled buttons of alerts %s", action.action, alert.id, updated)
    return updated
