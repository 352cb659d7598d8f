"""What every button listener shares: ack at once, do the work in a lazy listener, and where to answer."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from logging import Logger

from slack_bolt import Ack, App
from slack_sdk import WebClient

from slackui import blocks

# The work after a button's ack: (the interaction payload, the pressed button, the Web API client).
ButtonWork = Callable[[dict, dict, WebClient], None]


def bind_button(
    app: App, action_id: str, work: ButtonWork, logger: Logger, what: str, after_ack: Executor | None = None
) -> None:
    """Bind `action_id`: an empty ack at once (Slack waits 3 s at most), then `work` on `after_ack` (the wiring's
    pool, which lets the acks in flight go first), or on Bolt's lazy listener pool when there is none.

    A crash in `work` is logged on `logger` as "<what> failed" with its traceback, never the payload.
    """

    def run(body: dict, action: dict, client: WebClient) -> None:
        try:
            work(body, action, client)
        except Exception:  # Bolt would log one terse line; keep the traceback, never the payload
            logger.exception("%s failed", what)

    if after_ack is None:
        app.action(action_id)(ack=ack_now, lazy=[run])
        return

    def ack_then_hand_over(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        # Handed over as parsed for this request alone: a Bolt lazy listener would deep-copy and re-parse the whole
        # request first, in the ack's own time (about half of it).
        after_ack.submit(run, body, action, client)

    app.action(action_id)(ack_then_hand_over)


def ack_now(ack: Ack) -> None:
    """The ack of a listener whose work all happens in its lazy listener: empty, at once."""
    ack()


def message_ts_of(body: dict) -> str | None:
    """The ts of the message whose button was pressed (None for a view's, e.g. App Home's)."""
    return (body.get("container") or {}).get("message_ts") or (body.get("message") or {}).get("ts")


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
