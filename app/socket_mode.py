"""Socket Mode over websocket-client, with the fixes the SDK's client needs to switch connections promptly.

Measured against the local Socket Mode endpoint (standins/slack.py), Bolt's adapters behave so:
- builtin (the SDK's own socket code): a connection dropped without a Close frame is noticed only after five
  failed pings (~59 s) while its reader spins on the dead socket (~42 s of CPU); after a `disconnect` refresh the
  first ack waits ~3 s; a Close frame from Slack is acted on only at the next health check (~5.5 s); shutdown sends
  no Close frame.
- websocket_client: a drop, a Close frame and a refresh are all handled in ~0.5 s with no busy loop, and shutdown
  sends a Close frame, except that the SDK closes a connection's socket from another thread while the
  connection's reader waits in select(): the reader then sleeps out its 10 s select timeout. Two of eight refreshes
  in a row took 10.5 s, and two of four shutdowns 9 s. It also opened two connections per refresh (the old
  connection's close callback reconnects again before the new connection has started).

A connection that dies silently (no FIN, no Close frame: a NAT or proxy forgot it) is never noticed by
websocket_client: it sends pings but checks no pong, so the bot would stay deaf until Slack's next refresh.

So this module keeps websocket_client and changes only that: a connection is closed by sending the Close frame and
letting its own reader see the answer (waking it with a socket shutdown if Slack never answers); a connection made
but not yet started counts as connected, so it is not replaced by a second one; and pongs are required within
`PONG_SECONDS` (a silent death is noticed within PING_SECONDS + 2 x PONG_SECONDS, then replaced at once by the
connection's own reader thread, not at the SDK monitor's next round: that runs only every ping_interval).
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import websocket_client as bolt_adapter
from slack_sdk.socket_mode import websocket_client as sdk_client
from websocket import STATUS_NORMAL, WebSocketApp, WebSocketTimeoutException

CLOSE_TIMEOUT = 2.0  # seconds to wait for Slack's answer to our Close frame
PING_SECONDS = 4.0
PONG_SECONDS = 2.0


def close_session(session: WebSocketApp, timeout: float = CLOSE_TIMEOUT) -> None:
    """Close a running connection with a Close frame; its reader thread sees the answer and tears it down."""
    ws = session.sock
    if (ws is None or not ws.connected) and session.keep_running and not session.has_done_teardown:
        # Still connecting (a signal just after the connection started): let it connect, then close it properly,
        # rather than leave it open behind the shutdown.
        _wait(lambda: _connected(session) or session.has_done_teardown, timeout)
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


def _connected(session: WebSocketApp) -> bool:
    ws = session.sock  # read once: the reader thread may clear it meanwhile
    return ws is not None and ws.connected


def _started(session: WebSocketApp) -> bool:
    return session.keep_running or session.has_done_teardown


def _abandon_silent(session: WebSocketApp, error: Exception) -> None:
    # Called in the connection's reader thread. No pong came: nobody will answer a Close frame either, so close the
    # socket now rather than let the teardown wait 3 s for that answer.
    if isinstance(error, WebSocketTimeoutException) and session.sock is not None:
        session.sock.shutdown()


class SocketModeClient(sdk_client.SocketModeClient):
    """The SDK's websocket-client Socket Mode client, closing connections without stalling their reader and
    replacing connections whose pongs stop."""

    def __init__(self, app_token: str, pong_timeout: float = PONG_SECONDS, **kwargs: Any) -> None:
        super().__init__(app_token, on_error_listeners=[_abandon_silent], **kwargs)
        self.pong_timeout = pong_timeout

    def _run_current_session(self) -> None:
        # As the SDK's, plus ping_timeout: without it websocket-client never checks that pongs come back.
        session = self.current_session
        if session is None:
            return
        self.logger.info("Starting to receive messages from a new connection")
        try:
            session.run_forever(
                ping_interval=self.ping_interval,
                ping_timeout=self.pong_timeout,
                http_proxy_host=self.http_proxy_host,
                http_proxy_port=self.http_proxy_port,
                http_proxy_auth=self.http_proxy_auth,
                proxy_type=self.proxy_type,
            )
        except Exception as err:  # the monitor notices the closed session and reconnects
            self.logger.error("Socket Mode connection failed: %s: %s", type(err).__name__, err)
            session.close()
        self.logger.info("Stopped receiving messages from a connection")
        if session is self.current_session and not self.closed:
            # Replaced now rather than at the SDK monitor's next round, which comes only every ping_interval: a
            # silent death would otherwise take up to PING_SECONDS more to mend. connect_to_new_endpoint holds
            # the connect lock and skips a session already replaced, so racing the monitor opens one connection.
            self._monitor_current_session()

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

    def __init__(self, app: App, app_token: str, ping_interval: float = PING_SECONDS) -> None:
        self.app = app
        self.app_token = app_token
        self.client = SocketModeClient(
            app_token=app_token, logger=app.logger, web_client=app.client, ping_interval=ping_interval
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
