"""What every button listener shares: ack at once, do the work in a lazy listener, and where to answer."""

from __future__ import annotations

from collections.abc import Callable
from logging import Logger

from slack_bolt import Ack, App
from slack_sdk import WebClient

from slackui import blocks

# The work after a button's ack: (the interaction payload, the pressed button, the Web API client).
ButtonWork = Callable[[dict, dict, WebClient], None]


def bind_button(app: App, action_id: str, work: ButtonWork, logger: Logger, what: str) -> None:
    """Bind `action_id`: an empty ack at once (Slack waits 3 s at most), then `work` on Bolt's thread pool.

    A crash in `work` is logged on `logger` as "<what> failed" with its traceback, never the payload.
    """

    def ack_now(ack: Ack) -> None:
        ack()

    def run(body: dict, action: dict, client: WebClient) -> None:
        try:
            work(body, action, client)
        except Exception:  # Bolt would log one terse line; keep the traceback, never the payload
            logger.exception("%s failed", what)

    app.action(action_id)(ack=ack_now, lazy=[run])


def channel_of(body: dict) -> str | None:
    """The channel an interaction happened in (a message's buttons name it in `channel` or in `container`)."""
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def tell_text(client: WebClient, body: dict, text: str) -> None:
    """`tell` a short text (refusals, already-done notices)."""
    tell(client, body, blocks.ephemeral(text))


def tell(client: WebClient, body: dict, message: dict) -> None:
    """Answer only the user who clicked: an ephemeral message in the interaction's channel, or, for a click on App
    Home (a view: no channel, no message), a direct message in the app's Messages tab."""
    tell_in(client, body["user"]["id"], channel_of(body), message)


def tell_in(client: WebClient, user: str, channel: str | None, message: dict) -> None:
    """`message` to `user` alone: ephemeral in `channel`, or a direct message when there is none."""
    if channel:
        client.chat_postEphemeral(channel=channel, user=user, **message)
    else:
        client.chat_postMessage(channel=user, **message)
