"""The sandbox page's HTTP server on 127.0.0.1 and its small JSON API.

The page shows the Slack stand-in's channel and sends what a Slack client would send: a button click or a
slash command becomes the signed request Slack's servers would post to the bot's /slack/events. The signing
happens here, server-side, so the secret never reaches the browser. The API:

    GET  /api/state?user=U…&channel=C…   a channel as that user sees it (with their ephemeral messages); the
                              default channel without `channel`
    GET  /api/account         the moto account's users, keys, roles, password policy and trail
    POST /api/click           {user, channel?, ts, action_id, block_id, value} or, for a select, {…, picked}
    POST /api/command         {user, command, text, channel?}
    POST /api/simulate        {scenario, user_agent?}
    POST /api/home            {user}: the user opened the App Home tab (the bot gets app_home_opened)
    POST /api/view_action     {user, view_id, action_id, block_id, picked?, values?}: a click or choice in a view
    POST /api/view_submit     {user, view_id, values}: the modal's submit button (the bot gets view_submission)
    POST /api/view_close      {user, view_id}: the modal's close button (view_closed when the view asks for it)
    GET  /files/<id>          an uploaded file's content

`values` is what the page's inputs hold, {block_id: {action_id: text, option value or list of them}}; the
view.state Slack would send is built from it and the view's own elements (sandbox/views.py).
"""

from __future__ import annotations

import errno
import json
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import boto3
from botocore.exceptions import ClientError

from sandbox import scenarios, views
from sandbox.seed import TRAIL_NAME, Seeded
from standins.signing import slack_headers
from standins.slack import FakeSlack

STATIC = Path(__file__).with_name("static")
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
# The page builds its DOM from text nodes only; the policy is a second line of defence against injected markup.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
TEAM = {"id": "T0SANDBOX", "domain": "iam-warden-sandbox"}
APP_ID = "A0IAMWARDEN"
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class SlackUser:
    """A person in the sandbox workspace."""

    id: str
    name: str
    role: str  # what the bot's settings make them: admin or (no rights) viewer


USERS = (
    SlackUser("U0ADMIN1", "Ada Admin", "admin"),
    SlackUser("U0ADMIN2", "Sam Second-Admin", "admin"),
    SlackUser("U0VIEWER", "Val Viewer", "viewer"),
)


class ApiError(Exception):
    """A request the API refuses, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _text(body: dict, key: str, limit: int = 200, required: bool = True) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise ApiError(400, f"{key} must be a string of 1 to {limit} characters")
    return value


def find_element(message: dict, action_id: str, block_id: str, value: str) -> tuple[str, dict] | None:
    """The (block id, element) of the message's interactive element that a click names, or None."""
    for index, block in enumerate(message.get("blocks") or []):
        candidates = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory") or {}]
        for element in candidates:
            if element.get("action_id") != action_id or str(element.get("value", "")) != value:
                continue
            found_block = block.get("block_id") or f"b{index}"
            if block_id in ("", found_block):
                return found_block, element
    return None


class Backend:
    """What the API does, independent of HTTP: read the stand-in's state, forward signed requests, simulate."""

    def __init__(
        self,
        fake: FakeSlack,
        bot_url: str,
        secret: str,
        channel: str,
        session: boto3.Session,
        seeded: Seeded,
        channel_name: str = "iam-alerts",
        users: tuple[SlackUser, ...] = USERS,
        more_channels: dict[str, str] | None = None,
    ) -> None:
        self.fake = fake
        self.bot_url = bot_url
        self.secret = secret
        self.channel = channel
        self.channel_name = channel_name
        # id -> name of every channel the page shows, the default first (others: where IAMBOT_ROUTES sends alerts)
        self.channels = {channel: channel_name, **(more_channels or {})}
        self.users = {u.id: u for u in users}
        self.seeded = seeded
        self.world = scenarios.World(session, seeded)
        self.iam = session.client("iam")
        self.cloudtrail = session.client("cloudtrail")
        self.sqs = session.client("sqs")
        self.views = views.Views(fake)
        self._clicks = 0
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------------------------

    def user(self, user_id: str) -> SlackUser:
        """A workspace user by id; 400 for anyone else."""
        if user_id not in self.users:
            raise ApiError(400, "unknown user")
        return self.users[user_id]

    def channel_of(self, value: object) -> str:
        """A channel the page shows, by id; the default channel for none; 404 for any other."""
        if value in (None, ""):
            return self.channel
        if not isinstance(value, str) or value not in self.channels:
            raise ApiError(404, "no such channel")
        return value

    def state(self, user_id: str, channel_id: str | None = None) -> dict:
        """A channel (the default one unless named) as `user_id` sees it: messages with their threads, their own
        ephemeral messages, files."""
        me = self.user(user_id)
        channel = self.channel_of(channel_id)
        items = [self._message_item(m) for m in self.fake.channel_messages(channel)]
        items += [
            {"kind": "ephemeral", **{k: e[k] for k in ("ts", "text", "blocks", "thread_ts", "source")}}
            for e in self.fake.ephemeral_for(me.id)
            if e["channel"] == channel or (e["channel"] is None and channel == self.channel)
        ]
        items += self._file_items(channel)
        home, modal = self.views.home(me.id), self.views.modal(me.id)
        return {
            "version": self.fake.version + self.views.version,
            "me": me.id,
            "users": [{"id": u.id, "name": u.name, "role": u.role} for u in self.users.values()],
            "bot": {"id": "UBOT", "name": "IAM Warden"},
            "channel": {"id": channel, "name": self.channels[channel]},
            "channels": [{"id": c, "name": n} for c, n in self.channels.items()],
            "timeline": thread_items(items),
            "scenarios": [{"id": s.id, "label": s.label, "description": s.description} for s in scenarios.SCENARIOS],
            "home": {"id": home.id, "view": home.view} if home else None,
            "modal": {"id": modal.id, "view": modal.view} if modal else None,
        }

    @staticmethod
    def _message_item(message: dict) -> dict:
        keys = ("ts", "text", "blocks", "thread_ts", "reply_broadcast", "edits", "user")
        return {"kind": "message", **{k: message.get(k) for k in keys}}

    def _file_items(self, channel: str) -> list[dict]:
        shares: dict[str, dict] = {}
        for upload in self.fake.shared_files():
            if upload.get("channel") != channel:
                continue
            share = shares.setdefault(
                upload["ts"],
                {
                    "kind": "files",
                    "ts": upload["ts"],
                    "thread_ts": upload.get("thread_ts"),
                    "text": upload.get("initial_comment") or "",
                    "files": [],
                },
            )
            size = len((upload.get("content") or "").encode())
            share["files"].append({"id": upload["id"], "name": upload.get("filename") or upload["id"], "size": size})
        return list(shares.values())

    def file(self, file_id: str) -> tuple[str, bytes] | None:
        """(file name, content) of an uploaded file, or None."""
        for upload in self.fake.shared_files():
            if upload["id"] == file_id:
                return upload.get("filename") or file_id, (upload.get("content") or "").encode()
        return None

    def account(self) -> dict:
        """The moto account as the AWS panel shows it."""
        users = [self._user_row(u) for u in _details(self.iam, "User")]
        roles = [
            {
                "name": r["RoleName"],
                "created": _day(r.get("CreateDate")),
                "last_used": _day((r.get("RoleLastUsed") or {}).get("LastUsedDate")),
                "attached": [p["PolicyName"] for p in r.get("AttachedManagedPolicies", [])],
                "inline": [p["PolicyName"] for p in r.get("RolePolicyList", [])],
            }
            for r in _details(self.iam, "Role")
        ]
        return {
            "account": self.seeded.account,
            "users": sorted(users, key=lambda u: u["name"]),
            "roles": sorted(roles, key=lambda r: r["name"]),
            "password_policy": self._password_policy(),
            "trail": {"name": TRAIL_NAME, "logging": self._trail_logging()},
            "problems": list(self.seeded.problems),
            "root_note": self.seeded.root_note,
        }

    def _user_row(self, detail: dict) -> dict:
        name = detail["UserName"]
        keys = []
        for key in self.iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            used = self.iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
            keys.append(
                {
                    "id": key["AccessKeyId"],
                    "status": key["Status"],
                    "created": _day(key.get("CreateDate")),
                    "last_used": _day(used.get("LastUsedDate")),
                }
            )
        return {
            "name": name,
            "created": _day(detail.get("CreateDate")),
            "attached": [p["PolicyName"] for p in detail.get("AttachedManagedPolicies", [])],
            "inline": [p["PolicyName"] for p in detail.get("UserPolicyList", [])],
            "groups": list(detail.get("GroupList", [])),
            "mfa": len(self.iam.list_mfa_devices(UserName=name)["MFADevices"]),
            "console": self._has_password(name),
            "keys": keys,
        }

    def _has_password(self, user: str) -> bool:
        try:
            self.iam.get_login_profile(UserName=user)
        except self.iam.exceptions.NoSuchEntityException:
            return False
        return True

    def _password_policy(self) -> dict | None:
        try:
            return self.iam.get_account_password_policy()["PasswordPolicy"]
        except ClientError:
            return None

    def _trail_logging(self) -> bool | None:
        try:
            return bool(self.cloudtrail.get_trail_status(Name=TRAIL_NAME)["IsLogging"])
        except ClientError:
            return None

    # -- acting ----------------------------------------------------------------------------------------------

    def click(self, body: dict) -> dict:
        """Send the block_actions request Slack would send for a click on one of the message's buttons (or, with
        `picked`, a choice in one of its selects)."""
        user = self.user(_text(body, "user"))
        ts = _text(body, "ts", 40)
        channel = self.channel_of(body.get("channel"))
        message = self.fake.message(channel, ts)
        if message is None:
            raise ApiError(404, "no such message")
        action_id = _text(body, "action_id", 255)
        block_id = _text(body, "block_id", 255, required=False)
        if "picked" in body:
            choices = [
                (b, e)
                for b, e in views.elements(message)
                if e["action_id"] == action_id and e.get("type") != "button" and block_id in ("", b)
            ]
            found = choices[0] if choices else None
        else:
            found = find_element(message, action_id, block_id, _text(body, "value", 2000, required=False))
        if found is None:
            raise ApiError(404, "that message has no such button (any more)")
        number = self._next()
        payload = block_actions(user, channel, self.channels[channel], message, found, number)
        if "picked" in body:
            payload["actions"] = [views.view_action(found[1], found[0], body["picked"])]
        payload["trigger_id"] = self.views.trigger(user.id, number)
        payload["response_url"] = self.fake.response_url(f"click-{number}", user.id, channel)
        status, _reply = self._post({"payload": json.dumps(payload)})
        return {"status": status}

    def command(self, body: dict) -> dict:
        """Send the slash command request Slack would send; its HTTP reply is shown to the user alone."""
        user = self.user(_text(body, "user"))
        command = _text(body, "command", 40)
        text = _text(body, "text", 2000, required=False)
        channel = self.channel_of(body.get("channel"))
        if command != "/iam":
            raise ApiError(400, f"{command} is not a command of this workspace; try /iam")
        number = self._next()
        form = {
            "token": "sandbox-verification-token",
            "team_id": TEAM["id"],
            "team_domain": TEAM["domain"],
            "channel_id": channel,
            "channel_name": self.channels[channel],
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url(f"command-{number}", user.id, channel),
            "trigger_id": self.views.trigger(user.id, number),
        }
        status, reply = self._post(form)
        shown = ""
        if status == 200 and reply.strip():
            try:
                answer = json.loads(reply)
            except ValueError:
                answer = {"text": reply}
            shown = str(answer.get("text") or "")
            if shown or answer.get("blocks"):
                self.fake.add_ephemeral(user.id, channel, shown, answer.get("blocks"), "slash command")
        return {"status": status, "reply": shown}

    def simulate(self, body: dict) -> dict:
        """Run a Simulate scenario (moto changes, then the records into the bot's queue)."""
        scenario = _text(body, "scenario", 60)
        if scenario not in scenarios.BY_ID:
            raise ApiError(404, "no such scenario")
        user_agent = _text(body, "user_agent", 500, required=False) or None
        with self._lock:  # one scenario at a time, so names and moto changes don't interleave
            sent = scenarios.simulate(self.world, scenario, self.sqs, user_agent)
        users = {str((r.get("requestParameters") or {}).get("userName") or "") for r in sent} - {""}
        return {
            "sent": [r["eventName"] for r in sent],
            "event_ids": [r["eventID"] for r in sent],
            "users": sorted(users),
        }

    def open_home(self, body: dict) -> dict:
        """Send the app_home_opened event Slack sends when the user opens the app's Home tab."""
        user = self.user(_text(body, "user"))
        event = views.app_home_opened(user.id, self.views.home(user.id), TEAM["id"], APP_ID)
        status, _reply = self._post_json(event)
        return {"status": status}

    def view_action(self, body: dict) -> dict:
        """Send the block_actions request for a click (or a choice in a select) in the user's App Home or modal."""
        user, shown = self._shown(body)
        action_id = _text(body, "action_id", 255)
        block_id = _text(body, "block_id", 255, required=False)
        found = [(b, e) for b, e in views.elements(shown.view) if e["action_id"] == action_id and block_id in ("", b)]
        if not found:
            raise ApiError(404, "that view has no such element (any more)")
        number = self._next()
        payload = {
            **self._from(user, number),
            "type": "block_actions",
            "container": {"type": "view", "view_id": shown.id},
            "view": views.view_payload(shown, views.state_values(shown.view, body.get("values")), TEAM["id"], APP_ID),
            "actions": [views.view_action(found[0][1], found[0][0], body.get("picked"))],
        }
        status, _reply = self._post({"payload": json.dumps(payload)})
        return {"status": status}

    def view_submit(self, body: dict) -> dict:
        """Send view_submission for the user's modal and do what the bot answers: show its errors, update the
        view, push one, or close the modal (an empty answer)."""
        user, shown = self._shown(body, "modal")
        number = self._next()
        values = views.state_values(shown.view, body.get("values"))
        payload = {
            **self._from(user, number),
            "type": "view_submission",
            "view": views.view_payload(shown, values, TEAM["id"], APP_ID),
            "response_urls": [],
        }
        status, reply = self._post({"payload": json.dumps(payload)})
        if status != 200:
            return {"status": status}
        try:
            answer = json.loads(reply) if reply.strip() else {}
        except ValueError:
            answer = {}
        action = answer.get("response_action") if isinstance(answer, dict) else None
        new_view = answer.get("view") if isinstance(answer, dict) else None
        if action == "errors":
            errors = answer.get("errors") if isinstance(answer.get("errors"), dict) else {}
            return {"status": status, "errors": {str(k): str(v) for k, v in errors.items()}}
        if action in ("update", "push") and isinstance(new_view, dict):
            (self.views.update if action == "update" else self.views.push)(shown, new_view)
        else:
            self.views.close(shown, everything=action == "clear")
        return {"status": status}

    def view_close(self, body: dict) -> dict:
        """Close the user's modal; the bot hears of it (view_closed) only when the view asked to be told."""
        user, shown = self._shown(body, "modal")
        status = None
        if shown.view.get("notify_on_close"):
            payload = {
                **self._from(user, self._next()),
                "type": "view_closed",
                "view": views.view_payload(
                    shown, views.state_values(shown.view, body.get("values")), TEAM["id"], APP_ID
                ),
                "is_cleared": bool(shown.view.get("clear_on_close")),
            }
            status, _reply = self._post({"payload": json.dumps(payload)})
        self.views.close(shown, everything=bool(shown.view.get("clear_on_close")))
        return {"status": status}

    def _shown(self, body: dict, kind: str = "") -> tuple[SlackUser, views.Shown]:
        user = self.user(_text(body, "user"))
        try:
            shown = self.views.get(user.id, _text(body, "view_id", 40))
        except views.ViewError as err:
            raise ApiError(err.status, str(err)) from err
        if kind and shown.kind != kind:
            raise ApiError(400, f"that view is not a {kind}")
        return user, shown

    def _from(self, user: SlackUser, number: int) -> dict:
        """The parts every interactive payload from `user` carries."""
        return {
            "team": TEAM,
            "user": slack_user(user),
            "api_app_id": APP_ID,
            "token": "sandbox-verification-token",
            "trigger_id": self.views.trigger(user.id, number),
            "is_enterprise_install": False,
        }

    def _next(self) -> int:
        with self._lock:
            self._clicks += 1
            return self._clicks

    def _post(self, form: dict[str, str]) -> tuple[int, str]:
        """POST a form to the bot's /slack/events, signed as Slack signs it."""
        return self._deliver(urlencode(form), "application/x-www-form-urlencoded")

    def _post_json(self, value: dict) -> tuple[int, str]:
        """POST an Events API body (JSON) to the bot's /slack/events, signed."""
        return self._deliver(json.dumps(value), "application/json")

    def _deliver(self, body: str, content_type: str) -> tuple[int, str]:
        headers = {"Content-Type": content_type, **slack_headers(body, self.secret)}
        # The bot's own loopback address, set by the sandbox: never a user-supplied URL.
        request = urllib.request.Request(self.bot_url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
                return reply.status, reply.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", "replace")
        except OSError as err:
            raise ApiError(502, f"the bot did not answer: {type(err).__name__}") from err


def slack_user(user: SlackUser) -> dict:
    """The `user` object of an interactive payload."""
    return {"id": user.id, "username": user.name.lower().replace(" ", "."), "name": user.name, "team_id": TEAM["id"]}


def block_actions(user: SlackUser, channel: str, channel_name: str, message: dict, found: tuple, number: int) -> dict:
    """The block_actions payload Slack sends when `user` clicks `found` (block id, element) in `message`."""
    block_id, element = found
    action = {
        "action_id": element["action_id"],
        "block_id": block_id,
        "value": element.get("value", ""),
        "type": element.get("type", "button"),
        "text": element.get("text"),
        "action_ts": f"{time.time():.6f}",
    }
    if element.get("style"):
        action["style"] = element["style"]
    return {
        "type": "block_actions",
        "team": TEAM,
        "user": slack_user(user),
        "api_app_id": APP_ID,
        "token": "sandbox-verification-token",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"{number}.{secrets.token_hex(6)}",
        "channel": {"id": channel, "name": channel_name},
        "message": {
            "type": "message",
            "user": message.get("user"),
            "bot_id": "BBOT",
            "ts": message["ts"],
            "text": message.get("text", ""),
            "blocks": message.get("blocks") or [],
            **({"thread_ts": message["thread_ts"]} if message.get("thread_ts") else {}),
        },
        "state": {"values": {}},
        "actions": [action],
    }


def thread_items(items: list[dict]) -> list[dict]:
    """Channel-level items, oldest first, each with its thread's replies; a broadcast reply is in both places."""
    items = sorted(items, key=lambda i: i["ts"])
    parents = {i["ts"] for i in items if i.get("thread_ts") in (None, i["ts"])}
    replies: dict[str, list[dict]] = {}
    channel: list[dict] = []
    for item in items:
        parent = item.get("thread_ts")
        if parent in (None, item["ts"]) or parent not in parents:
            channel.append(item)
            continue
        replies.setdefault(parent, []).append(item)
        if item.get("reply_broadcast"):
            channel.append({**item, "broadcast": True})
    return [{**i, "replies": [] if i.get("broadcast") else replies.get(i["ts"], [])} for i in channel]


def _details(iam: Any, kind: str) -> list[dict]:
    """Every User or Role entry of GetAccountAuthorizationDetails (without the ~1,100 AWS managed policies)."""
    pages = iam.get_paginator("get_account_authorization_details").paginate(Filter=[kind])
    return [entry for page in pages for entry in page[f"{kind}DetailList"]]


def _day(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else None


class _ClientGone(Exception):
    """The browser's connection broke (a tab closed or reloaded) while its request was read or answered."""


class _Server(ThreadingHTTPServer):
    """The page's HTTP server; a browser leaving mid-request is routine, not an error worth a traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # reset or closed while reading the request line
            return
        super().handle_error(request, client_address)


class PageServer:
    """The page and its API over HTTP on 127.0.0.1 (threaded; stop() ends it)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, port: int, say: Callable[[str], None] = print) -> str:
        """Serve on `port`, or on a free port (saying so) when `port` is taken; returns the page's URL."""
        handler = _handler(self.backend)
        try:
            self._server = _Server(("127.0.0.1", port), handler)
        except OSError as err:
            if err.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            reason = "is in use" if err.errno == errno.EADDRINUSE else "needs privileges"
            self._server = _Server(("127.0.0.1", 0), handler)
            say(f"port {port} {reason}; the sandbox page uses free port {self.port} instead")
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-page", daemon=True
        )
        self._thread.start()
        return self.url

    @property
    def port(self) -> int:
        """The port served on."""
        assert self._server is not None, "not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(backend: Backend) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to `backend`."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "IAMWardenSandbox/1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._guarded(self._get)

        def do_POST(self) -> None:
            self._guarded(self._post)

        def _guarded(self, work: Callable[[], None]) -> None:
            try:
                try:
                    port = self.server.server_address[1]
                    if self.headers.get("Host", "") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
                        raise ApiError(421, "wrong Host header")  # DNS rebinding: answer our own address only
                    work()
                except ApiError as err:
                    self._json({"error": str(err)}, err.status)
                except _ClientGone:
                    raise
                except Exception as err:  # report, don't drop the connection; the sandbox keeps running
                    self._json({"error": f"{type(err).__name__}: {err}"}, 500)
            except _ClientGone:  # nobody is left to answer
                self.close_connection = True

        def _get(self) -> None:
            url = urlparse(self.path)
            if url.path in STATIC_FILES:
                name, kind = STATIC_FILES[url.path]
                self._send(200, (STATIC / name).read_bytes(), kind)
            elif url.path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")
            elif url.path == "/api/state":
                query = parse_qs(url.query)
                self._json(backend.state((query.get("user") or [""])[0], (query.get("channel") or [""])[0]))
            elif url.path == "/api/account":
                self._json(backend.account())
            elif url.path.startswith("/files/"):
                found = backend.file(url.path.removeprefix("/files/"))
                if found is None:
                    raise ApiError(404, "no such file")
                safe = "".join(c for c in found[0] if c.isalnum() or c in "._-") or "file"
                self._send(
                    200,
                    found[1],
                    "text/plain; charset=utf-8",
                    {"Content-Disposition": f'attachment; filename="{safe}"'},
                )
            else:
                raise ApiError(404, "not found")

        def _post(self) -> None:
            routes = {
                "/api/click": backend.click,
                "/api/command": backend.command,
                "/api/simulate": backend.simulate,
                "/api/home": backend.open_home,
                "/api/view_action": backend.view_action,
                "/api/view_submit": backend.view_submit,
                "/api/view_close": backend.view_close,
            }
            route = routes.get(urlparse(self.path).path)
            if route is None:
                raise ApiError(404, "not found")
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                raise ApiError(415, "send JSON")  # also keeps other sites' plain form posts out
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ApiError(413, "request too large")
            try:
                body = json.loads(self._read(length) or b"{}")
            except ValueError as err:
                raise ApiError(400, "body is not JSON") from err
            if not isinstance(body, dict):
                raise ApiError(400, "body must be a JSON object")
            self._json(route(body))

        def _json(self, value: object, status: int = 200) -> None:
            self._send(status, json.dumps(value).encode(), "application/json; charset=utf-8")

        def _read(self, length: int) -> bytes:
            try:
                return self.rfile.read(length)
            except ConnectionError as err:
                raise _ClientGone from err

        def _send(self, status: int, data: bytes, kind: str, extra: dict[str, str] | None = None) -> None:
            try:
                self._write(status, data, kind, extra)
            except ConnectionError as err:
                raise _ClientGone from err

        def _write(self, status: int, data: bytes, kind: str, extra: dict[str, str] | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for key, value in {**SECURITY_HEADERS, **(extra or {})}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
