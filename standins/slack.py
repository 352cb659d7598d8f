"""A local stand-in for the Slack Web API on 127.0.0.1, for tests, benchmarks and the sandbox.

It keeps channels' messages (with threads, updates and metadata), ephemeral messages and `response_url`
posts, records every call, and can be told to fail the next calls of a method (e.g. rate limiting). For the
sandbox page it also keeps a per-user log of what only that user sees (`ephemeral_log`), stamps file shares
with a ts, and counts changes (`version`) so a viewer can tell when to redraw. With `start_socket_mode()` it is
also a Socket Mode endpoint: apps.connections.open hands out ws:// URLs of a local WebSocket server that says
hello, records what the bot sends on each connection and can push envelopes, refresh, close or drop connections,
or silence one (a TCP relay in front of the WebSocket server stops passing bytes, as a dead NAT entry does).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

# Methods whose success changes what a viewer of the channel sees (postEphemeral counts its own change).
_VISIBLE_CHANGES = frozenset({"chat.postMessage", "chat.update", "files.completeUploadExternal"})


@dataclass
class Call:
    """One Web API call as the stand-in received it."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class SocketLink:
    """One Socket Mode WebSocket connection as the stand-in saw it."""

    number: int
    connection: Any = field(repr=False)
    received: list[dict] = field(default_factory=list)  # text messages from the bot (acks), oldest first
    opened_at: float = field(default_factory=time.monotonic)
    closed_at: float | None = None
    close_frame: bool = False  # the bot sent a Close frame before the connection ended

    @property
    def open(self) -> bool:
        """Whether the connection is still up."""
        return self.closed_at is None


class _Relay:
    """A TCP relay for one connection; when `silent`, bytes vanish both ways but the connection stays open."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client, self.upstream = client, upstream
        self.silent = False
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), name="fake-socket-relay", daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                if not self.silent:
                    dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):  # one side ended: end the other the same way (FIN, no Close frame)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections under a burst of calls (the client then waits for
    # a SYN retry, a full second); Slack itself never does that.
    request_queue_size = 128
    daemon_threads = True


class FakeSlack:
    """The Web API state plus an HTTP server speaking Slack's wire format."""

    def __init__(self, token: str = "xoxb-test-token", app_token: str = "xapp-test-token") -> None:
        self.token = token
        self.app_token = app_token
        self.socket_links: list[SocketLink] = []
        self._socket_server: Any = None
        self._relay_listener: socket.socket | None = None
        self._relays: list[_Relay] = []
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict]] = {}  # channel -> messages, oldest first
        self.ephemeral: list[dict] = []
        self.responses: list[dict] = []  # posts to response_url
        self.uploads: dict[str, dict] = {}  # file id -> {"filename", "content", "title", "channel", "thread_ts"}
        self.failures: dict[str, list[tuple[int, dict, dict[str, str]]]] = {}
        self.listeners: list[Callable[[Call], None]] = []
        # What one user alone sees, oldest first: chat.postEphemeral, response_url posts from clicks and commands
        # whose url was made with a user, and anything added with add_ephemeral (e.g. a slash command's reply).
        self.ephemeral_log: list[dict] = []
        self.version = 0  # grows on every change a viewer would see
        self.team_url = "https://test.slack.com/"  # auth.test's url; message permalinks start with it
        self.home_views: dict[str, dict] = {}  # user -> the Home tab last published to them (views.publish)
        self.outside_channels: set[str] = set()  # channels conversations.info says the bot is not a member of
        self.missing_channels: set[str] = set()  # channels conversations.info does not know
        self.modals: dict[str, dict] = {}  # view id -> the modal as views.open / views.update last left it
        self._response_users: dict[str, tuple[str, str | None]] = {}  # response_url name -> (user, channel)
        self._lock = threading.Lock()
        self._last_us = 0  # the last ts handed out, in microseconds
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (a free port by default); returns the Web API base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                status, payload, headers = fake.handle(self.path, self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self._server = _Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True).start()
        return self.base_url

    @property
    def base_url(self) -> str:
        """The Web API base URL (ends with /api/)."""
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def response_url(self, name: str = "r", user: str | None = None, channel: str | None = None) -> str:
        """A response_url that posts back to this stand-in; with `user`, its posts are shown to that user only."""
        assert self._server is not None, "not started"
        if user:
            with self._lock:
                self._response_users[name] = (user, channel)
        return f"http://127.0.0.1:{self._server.server_address[1]}/respond/{name}"

    def stop(self) -> None:
        """Stop serving."""
        if self._relay_listener:
            self._relay_listener.close()
            self._relay_listener = None
        for relay in self._relays:
            for sock in (relay.client, relay.upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if self._socket_server:
            self._socket_server.shutdown()
            self._socket_server = None
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- test helpers ---------------------------------------------------------------------------------------

    def fail_next(
        self, method: str, error: str = "ratelimited", status: int = 429, times: int = 1, retry_after: int = 1
    ) -> None:
        """Make the next `times` calls of `method` fail as Slack would (429 carries Retry-After)."""
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        with self._lock:
            self.failures.setdefault(method, []).extend([(status, {"ok": False, "error": error}, headers)] * times)

    def calls_of(self, method: str) -> list[Call]:
        """Every recorded call of one method, in order."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll `predicate` until true or the timeout passes (for threads posting in the background)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.01)
        return predicate()

    def channel_messages(self, channel: str) -> list[dict]:
        """A copy of a channel's messages, oldest first."""
        with self._lock:
            return [dict(m) for m in self.messages.get(channel, [])]

    def message(self, channel: str, ts: str) -> dict | None:
        """A copy of one channel message, or None."""
        with self._lock:
            found = [m for m in self.messages.get(channel, []) if m["ts"] == ts]
            return dict(found[0]) if found else None

    def home_view(self, user: str) -> dict | None:
        """A copy of the Home tab last published to `user`, or None."""
        with self._lock:
            view = self.home_views.get(user)
            return json.loads(json.dumps(view)) if view else None

    def ephemeral_for(self, user: str) -> list[dict]:
        """Copies of what only `user` sees (ephemeral messages, response_url posts), oldest first."""
        with self._lock:
            return [dict(e) for e in self.ephemeral_log if e["user"] == user]

    def add_ephemeral(
        self,
        user: str,
        channel: str | None,
        text: str,
        blocks: list[dict] | None = None,
        source: str = "app",
        thread_ts: str | None = None,
    ) -> dict:
        """Show a message to one user only (e.g. the reply in a slash command's HTTP response)."""
        with self._lock:
            return self._log_ephemeral(user, channel, {"text": text, "blocks": blocks, "thread_ts": thread_ts}, source)

    def shared_files(self) -> list[dict]:
        """Completed uploads (with their id and ts), oldest first."""
        with self._lock:
            done = [{"id": fid, **u} for fid, u in self.uploads.items() if u.get("ts")]
        return sorted(done, key=lambda u: u["ts"])

    def _log_ephemeral(self, user: str, channel: str | None, args: dict, source: str) -> dict:
        """Record an ephemeral entry (lock held)."""
        entry = {
            "ts": self._next_ts(),
            "user": user,
            "channel": channel,
            "text": args.get("text") or "",
            "blocks": args.get("blocks") or [],
            "thread_ts": args.get("thread_ts"),
            "source": source,
        }
        self.ephemeral_log.append(entry)
        self.version += 1
        return dict(entry)

    # -- protocol -------------------------------------------------------------------------------------------

    def handle(self, path: str, headers: Any, body: str) -> tuple[int, dict, dict[str, str]]:
        """Answer one HTTP request: (status, JSON payload, extra headers)."""
        parsed = urlparse(path)
        args = self._args(headers.get("Content-Type", ""), body, parsed.query)
        if parsed.path.startswith("/upload/"):
            with self._lock:
                self.uploads.setdefault(parsed.path.rsplit("/", 1)[-1], {})["content"] = body
                self.version += 1
            return 200, {"ok": True}, {}
        if parsed.path.startswith("/respond/"):
            with self._lock:
                self.responses.append(args)
                owner = self._response_users.get(parsed.path.removeprefix("/respond/"))
                if owner:
                    self._log_ephemeral(owner[0], owner[1], args, "response_url")
            self._notify(Call("response_url", args, None))
            return 200, {"ok": True}, {}
        method = parsed.path.removeprefix("/api/")
        auth = headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
        call = Call(method, args, token)
        with self._lock:
            self.calls.append(call)
            queued = self.failures.get(method)
            failure = queued.pop(0) if queued else None
        self._notify(call)
        if failure:
            return failure
        # apps.connections.open takes the app-level token, every other method the bot token
        if token != (self.app_token if method == "apps.connections.open" else self.token):
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": True}, {}
        with self._lock:
            if method in _VISIBLE_CHANGES:
                self.version += 1
            return 200, handler(args), {}

    def _notify(self, call: Call) -> None:
        for listener in list(self.listeners):
            listener(call)

    @staticmethod
    def _args(content_type: str, body: str, query: str) -> dict[str, Any]:
        args: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
        if "json" in content_type and body:
            args.update(json.loads(body))
        elif body:
            args.update({k: v[0] for k, v in parse_qs(body).items()})
        for key in ("blocks", "metadata", "attachments", "files"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    def _next_ts(self) -> str:
        # Like Slack's: the time in microseconds, kept strictly increasing so it orders and identifies messages.
        self._last_us = max(time.time_ns() // 1000, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    # -- methods (called with the lock held) ----------------------------------------------------------------

    def _auth_test(self, args: dict) -> dict:
        return {
            "ok": True,
            "user_id": "UBOT",
            "user": "iam-warden",
            "bot_id": "BBOT",
            "team_id": "T0TEST",
            "team": "test",
            "url": self.team_url,
        }

    def _chat_postMessage(self, args: dict) -> dict:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        message = {
            "ts": self._next_ts(),
            "text": args.get("text", ""),
            "blocks": args.get("blocks") or [],
            "thread_ts": args.get("thread_ts"),
            "reply_broadcast": bool(args.get("reply_broadcast")),
            "metadata": args.get("metadata"),
            "user": "UBOT",
            "edits": 0,
        }
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _chat_getPermalink(self, args: dict) -> dict:
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        if not any(m["ts"] == ts for m in self.messages.get(channel, [])):
            return {"ok": False, "error": "message_not_found"}
        link = f"{self.team_url}archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _chat_update(self, args: dict) -> dict:
        for message in self.messages.get(args.get("channel", ""), []):
            if message["ts"] == args.get("ts"):
                message["text"] = args.get("text", message["text"])
                message["blocks"] = args.get("blocks", message["blocks"])
                message["edits"] += 1
                return {"ok": True, "channel": args["channel"], "ts": message["ts"]}
        return {"ok": False, "error": "message_not_found"}

    def _chat_postEphemeral(self, args: dict) -> dict:
        self.ephemeral.append(args)
        entry = self._log_ephemeral(str(args.get("user") or ""), args.get("channel"), args, "chat.postEphemeral")
        return {"ok": True, "message_ts": entry["ts"]}

    def _files_getUploadURLExternal(self, args: dict) -> dict:
        file_id = f"F{len(self.uploads) + 1:08d}"
        self.uploads[file_id] = {"filename": args.get("filename"), "content": None}
        port = self._server.server_address[1] if self._server else 0
        return {"ok": True, "file_id": file_id, "upload_url": f"http://127.0.0.1:{port}/upload/{file_id}"}

    def _files_completeUploadExternal(self, args: dict) -> dict:
        done = []
        ts = self._next_ts()  # one file-share message per call, like Slack
        for item in args.get("files") or []:
            upload = self.uploads.get(item["id"])
            if upload is None or upload.get("content") is None:
                return {"ok": False, "error": "file_not_found"}
            upload.update(
                {
                    "title": item.get("title"),
                    "channel": args.get("channel_id"),
                    "thread_ts": args.get("thread_ts"),
                    "initial_comment": args.get("initial_comment"),
                    "ts": ts,
                }
            )
            done.append({"id": item["id"], "title": item.get("title"), "name": upload["filename"]})
        return {"ok": True, "files": done}

    def _conversations_info(self, args: dict) -> dict:
        channel = args.get("channel") or ""
        if channel in self.missing_channels:
            return {"ok": False, "error": "channel_not_found"}
        name = channel.lower()
        return {"ok": True, "channel": {"id": channel, "name": name, "is_member": channel not in self.outside_channels}}

    def _conversations_history(self, args: dict) -> dict:
        found = self.messages.get(args.get("channel", ""), [])
        oldest = float(args.get("oldest") or 0)
        picked = [m for m in reversed(found) if float(m["ts"]) >= oldest]
        return {"ok": True, "messages": picked[: int(args.get("limit") or 100)], "has_more": False}

    def _views_publish(self, args: dict) -> dict:
        # App Home: the latest view published to each user (slack_sdk sends the view as JSON; a form post as text).
        user, view = args.get("user_id"), args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not user or not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        published = {**view, "id": self._view_id("views.publish"), "hash": self._next_ts()}
        self.home_views[user] = published
        self.version += 1
        return {"ok": True, "view": published}

    # -- modals (views.open, views.push, views.update) ----------------------------------------------------------

    # View ids as the sandbox page (sandbox/views.py) numbers the recorded calls: V + a letter for the method + the
    # call's number among that method's calls, so the ids the page sends back are the ones the stand-in knows.
    _VIEW_LETTERS = {"views.publish": "P", "views.open": "O", "views.push": "S"}

    def _view_id(self, method: str) -> str:
        number = sum(1 for c in self.calls if c.method == method)  # this call is recorded before it is answered
        return f"V{self._VIEW_LETTERS[method]}{number:06d}"

    @staticmethod
    def _view_of(args: dict, kind: str = "modal") -> dict | None:
        view = args.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return None
        return view if isinstance(view, dict) and view.get("type") == kind else None

    def _views_open(self, args: dict, method: str = "views.open") -> dict:
        view = self._view_of(args)
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        if view is None:
            return {"ok": False, "error": "invalid_arguments"}
        opened = {**view, "id": self._view_id(method), "hash": self._next_ts(), "state": {"values": {}}}
        self.modals[opened["id"]] = opened
        self.version += 1
        return {"ok": True, "view": opened}

    def _views_push(self, args: dict) -> dict:
        return self._views_open(args, "views.push")

    def _views_update(self, args: dict) -> dict:
        # By view_id or external_id, a modal or a Home tab; a hash this stand-in handed out must be the current one.
        view_id, external_id = args.get("view_id"), args.get("external_id")
        homes = {v["id"]: (user, v) for user, v in self.home_views.items()}
        if not view_id and external_id:
            known = [*self.modals.values(), *(v for _u, v in homes.values())]
            view_id = next((v["id"] for v in known if v.get("external_id") == external_id), None)
        if view_id in self.modals:
            current, kind = self.modals[view_id], "modal"
        elif view_id in homes:
            current, kind = homes[view_id][1], "home"
        else:
            return {"ok": False, "error": "not_found"}
        view = self._view_of(args, kind)
        if view is None:
            return {"ok": False, "error": "invalid_arguments"}
        if args.get("hash") and args["hash"] != current["hash"] and args["hash"] in self._view_hashes:
            return {"ok": False, "error": "hash_conflict"}
        updated = {**view, "id": view_id, "hash": self._next_ts()}
        if kind == "modal":
            self.modals[view_id] = {**updated, "state": current["state"]}
        else:
            self.home_views[homes[view_id][0]] = updated
        self.version += 1
        return {"ok": True, "view": updated}

    @property
    def _view_hashes(self) -> set[str]:
        """Every hash this stand-in handed out for a view still on record."""
        return {v["hash"] for v in [*self.modals.values(), *self.home_views.values()]}

    def _apps_connections_open(self, args: dict) -> dict:
        if self._relay_listener is None:
            return {"ok": False, "error": "socket_mode_not_started"}
        port = self._relay_listener.getsockname()[1]
        return {"ok": True, "url": f"ws://127.0.0.1:{port}/link/{len(self.calls)}"}

    # -- Socket Mode ----------------------------------------------------------------------------------------

    def start_socket_mode(self) -> None:
        """Serve Socket Mode WebSocket connections on a free loopback port (apps.connections.open hands them out)."""
        from websockets.sync.server import serve

        # No pings from this side: the bot's own keep-alive is what is under test.
        self._socket_server = serve(self._socket_session, "127.0.0.1", 0, ping_interval=None, close_timeout=2)
        threading.Thread(target=self._socket_server.serve_forever, name="fake-socket-mode", daemon=True).start()
        self._relay_listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._relay_accept, name="fake-socket-accept", daemon=True).start()

    def _relay_accept(self) -> None:
        listener, upstream_port = self._relay_listener, self._socket_server.socket.getsockname()[1]
        while listener is not None:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by stop()
                return
            with self._lock:
                # Serially: connection n of the relay is link n of the WebSocket server.
                self._relays.append(_Relay(client, socket.create_connection(("127.0.0.1", upstream_port))))

    def _socket_session(self, connection: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        with self._lock:
            link = SocketLink(len(self.socket_links) + 1, connection)
            self.socket_links.append(link)
            others = sum(1 for li in self.socket_links if li.open)
        try:
            connection.send(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": others,
                        "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                        "connection_info": {"app_id": "A0TEST"},
                    }
                )
            )
            for raw in connection:
                with self._lock:
                    link.received.append(json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                link.close_frame = connection.protocol.close_rcvd is not None
                link.closed_at = time.monotonic()

    def socket_link(self, number: int = -1) -> SocketLink:
        """One connection (the newest by default); numbers start at 1."""
        with self._lock:
            return self.socket_links[number if number < 0 else number - 1]

    def socket_open_links(self) -> list[SocketLink]:
        """The connections still up, oldest first."""
        with self._lock:
            return [link for link in self.socket_links if link.open]

    def socket_send(self, message: dict, number: int = -1) -> None:
        """Send one message (an envelope, a disconnect) on a connection, the newest by default."""
        self.socket_link(number).connection.send(json.dumps(message))

    def socket_envelope(self, payload: dict, kind: str = "interactive", number: int = -1) -> str:
        """Deliver an envelope as Slack does (the app must ack it with its envelope_id); returns the envelope_id."""
        envelope_id = f"env-{time.monotonic_ns()}"
        self.socket_send(
            {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": False},
            number,
        )
        return envelope_id

    def socket_ack(self, envelope_id: str, timeout: float = 5.0) -> dict | None:
        """Wait for the app's ack of one envelope, on any connection; None if it never came."""

        def found() -> dict | None:
            with self._lock:
                acks = [m for li in self.socket_links for m in li.received if m.get("envelope_id") == envelope_id]
            return acks[0] if acks else None

        self.wait_for(lambda: found() is not None, timeout)
        return found()

    def socket_refresh(self, number: int = -1) -> None:
        """Slack's routine refresh: a `disconnect` message; the connection stays up until the app leaves it."""
        self.socket_send(
            {"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "fake-slack"}}, number
        )

    def socket_close(self, number: int = -1) -> None:
        """Close a connection properly, with a Close frame (as Slack does when it goes away)."""
        self.socket_link(number).connection.close(1001, "going away")

    def socket_silence(self, number: int = -1) -> None:
        """Let a connection die silently: nothing passes either way any more, yet no FIN or Close frame comes."""
        with self._lock:
            self._relays[number if number < 0 else number - 1].silent = True

    def socket_drop(self, number: int = -1) -> None:
        """Drop a connection without a Close frame: the TCP connection just ends, as when a proxy or NAT gives up."""
        self.socket_link(number).connection.socket.shutdown(socket.SHUT_RDWR)
