"""Socket Mode over websocket-client, with the fixes the SDK's client needs to switch connections promptly.

Measured against the local Socket Mode endpoint (sandbox/fake_slack.py), Bolt's adapters behave so:
- builtin (the SDK's own socket code): a connection dropped without a Close frame is noticed only after five
  failed pings (~59 s) while its reader spins on the dead socket (~42 s of CPU); after a `disconnect` refresh the
  first ack waits ~3 s; a Close frame from Slack is acted on only at the next health check (~5.5 s); shutdown sends
  no Close frame.
- websocket_client: a drop, a Close frame and a refresh are all handled in ~0.5 s with no busy loop, and shutdown
  sends a Close frame, except that the SDK closes a connection's socket from another thread while the
  connection's reader waits in select(): the reader then sleeps out its 10 s select timeout. One refresh in four
  (and one shutdown in two) took 10 s. It also opened two connections per refresh (the old connection's close
  callback reconnects again before the new connection has started).

So this module keeps websocket_client and changes only that: a connection is closed by sending the Close frame and
letting its own reader see the answer (waking it with a socket shutdown if Slack never answers), and a connection
made but not yet started counts as connected, so it is not replaced by a second one.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import websocket_client as bolt_adapter
from slack_sdk.socket_mode import websocket_client as sdk_client
from websocket import STATUS_NORMAL, WebSocketApp

CLOSE_TIMEOUT = 2.0  # seconds to wait for Slack's answer to our Close frame


def close_session(session: WebSocketApp, timeout: float = CLOSE_TIMEOUT) -> None:
    """Close a running connection with a Close frame; its reader thread sees the answer and tears it down."""
    ws = session.sock
    if ws is None or not ws.connected:
        return
    with contextlib.suppress(Exception):  # the connection is already broken: nothing to say goodbye on
        ws.send_close(STATUS_NORMAL, b"closing")
    _wait(lambda: session.sock is None, timeout)
    raw = ws.sock
    if raw is not None:
        # shutdown (unlike close) wakes a reader still waiting in select(); close the socket once it has left
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)
        _wait(lambda: session.sock is None, 1.0)
        ws.shutdown()


def _wait(predicate: Any, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        time.sleep(0.01)


def _started(session: WebSocketApp) -> bool:
    return session.keep_running or session.has_done_teardown


class SocketModeClient(sdk_client.SocketModeClient):
    """The SDK's websocket-client Socket Mode client, closing connections without stalling their reader."""

    def is_connected(self) -> bool:
        """Connected, or holding a fresh connection that the reader thread is about to start."""
        session = self.current_session
        return session is not None and (session.sock is not None or not _started(session))

    def connect(self) -> None:
        """Open a new connection, then close the previous one properly."""
        old, self.current_session = self.current_session, None
        super().connect()  # with no current session it opens the new one and closes nothing
        if old is not None:
            close_session(old)

    def disconnect(self) -> None:
        """Close the current connection with a Close frame."""
        if self.current_session is not None:
            close_session(self.current_session)


class SocketModeHandler(bolt_adapter.SocketModeHandler):
    """Bolt's websocket-client adapter over `SocketModeClient`."""

    def __init__(self, app: App, app_token: str, ping_interval: float = 10) -> None:
        self.app = app
        self.app_token = app_token
        self.client = SocketModeClient(
            app_token=app_token, logger=app.logger, web_client=app.client, ping_interval=ping_interval
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
