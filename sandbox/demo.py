"""`bot.py demo`: the whole bot, built by `app.wiring.build()`, against a local AWS account and a Slack stand-in.

AWS is a moto server on 127.0.0.1 holding a seeded account and the SQS queue the bot consumes; Slack is the
stand-in in standins/slack.py; the page (sandbox/page_server.py) shows the channel and sends signed
clicks and commands to the bot's /slack/events. `--once` drives the same page API through a scripted scenario
and exits 0 when every step worked. Nothing is written outside one temporary directory, removed at exit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

import boto3
from waitress import create_server
from waitress.server import BaseWSGIServer, MultiSocketServer

from app.http import wsgi_app
from app.wiring import Runtime, build, start_background
from config import load
from core.actions import ActionId
from sandbox import seed
from sandbox.page_server import TEAM, USERS, Backend, PageServer
from slackui import blocks
from standins.slack import FakeSlack

CHANNEL = "C0IAMALERTS"
INCIDENTS = "C0INCIDENTS"  # where Sandbox(route_critical=True) sends critical alerts (IAMBOT_ROUTES)
ADMIN = USERS[0].id  # the scripted scenario acts as Ada Admin
ADMINS = ",".join(u.id for u in USERS if u.role == "admin")
# The process environment the sandbox sets while it runs (restored afterwards). Fake credentials, no profile and
# no config files: nothing the bot does can reach a real AWS account.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": seed.REGION,
    "AWS_REGION": seed.REGION,
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}
CLEARED_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "MOTO_ACCOUNT_ID", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
QUIET_LOGGERS = {
    "werkzeug": logging.CRITICAL,
    "waitress": logging.WARNING,
    "apscheduler": logging.WARNING,
    "botocore": logging.WARNING,
}

Say = Callable[[str], None]
T = TypeVar("T")


def _say(line: str) -> None:
    print(line, flush=True)


class Environment:
    """Set environment variables for the sandbox's lifetime and put the previous values back afterwards."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, key: str, value: str | None) -> None:
        """Set (or, with None, remove) one variable, remembering its first previous value."""
        self._saved.setdefault(key, os.environ.get(key))
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value

    def restore(self) -> None:
        """Put every changed variable back as it was."""
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()


class QuietMotoNotes:
    """A stdout wrapper dropping the note moto's server prints for each AWS API it does not emulate (IAM Access
    Analyzer, for one). The audit report already lists those parts under "Could not check"; on stdout the notes
    would only break up the sandbox's own lines."""

    NOTE = "Unable to find appropriate backend for "

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._drop_newline = False

    def write(self, text: str) -> int:
        """Write `text` unless it is moto's note (or the newline print() sends after it)."""
        dropped = text.startswith(self.NOTE) or (self._drop_newline and text == "\n")
        self._drop_newline = text.startswith(self.NOTE)
        return len(text) if dropped else self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class Sandbox:
    """The running sandbox: moto, the Slack stand-in, the bot (HTTP + background threads) and the page."""

    def __init__(self, say: Say = _say, route_critical: bool = False) -> None:
        self.say = say
        # IAMBOT_ROUTES for the bot, and the channels the page shows besides #iam-alerts
        self.routes = f"critical={INCIDENTS}" if route_critical else ""
        self.more_channels = {INCIDENTS: "incidents"} if route_critical else {}
        self.env = Environment()
        self.workdir = ""
        self.moto: Any = None
        self.fake: FakeSlack | None = None
        self.rt: Runtime | None = None
        self.bot_server: BaseWSGIServer | MultiSocketServer | None = None
        self.page: PageServer | None = None
        self.seeded: seed.Seeded | None = None
        self.page_url = ""
        self.bot_url = ""
        self._log_levels: dict[str, int] = {}
        self._stdout: TextIO | None = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self, port: int = 0) -> str:
        """Start everything (progress lines on the way); returns the page's URL."""
        started = time.monotonic()
        self.workdir = tempfile.mkdtemp(prefix="iam-warden-sandbox-")
        self._quiet()
        session = self._start_aws()
        self.seeded = self._seed(session)
        self.fake = FakeSlack(token=f"xoxb-sandbox-{secrets.token_hex(8)}")
        self.fake.team_url = f"https://{TEAM['domain']}.slack.com/"  # message links (the digest's) jump on the page
        self.say(f"[4/6] Slack stand-in serving the Web API on {self.fake.start()}")
        secret = secrets.token_hex(16)
        self._start_bot(session, secret)
        backend = Backend(
            self.fake, self.bot_url, secret, CHANNEL, session, self.seeded, more_channels=self.more_channels
        )
        self.page = PageServer(backend)
        self.page_url = self.page.start(port, self.say)
        self.say(f"[6/6] sandbox page: {self.page_url}  (ready in {time.monotonic() - started:.1f} s)")
        return self.page_url

    def _quiet(self) -> None:
        """Silence the servers' request logs and moto's notes for APIs it lacks (answered with a 500 and a
        traceback, which the audit reports as "Could not check"); close() restores both."""
        for name, level in QUIET_LOGGERS.items():
            logger = logging.getLogger(name)
            self._log_levels[name] = logger.level
            logger.setLevel(level)
        self._stdout = sys.stdout
        sys.stdout = QuietMotoNotes(sys.stdout)  # type: ignore[assignment]

    def _start_aws(self) -> boto3.Session:
        from moto.server import ThreadedMotoServer

        for key, value in AWS_ENV.items():
            self.env.set(key, value)
        for key in [*CLEARED_ENV, *(k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_"))]:
            self.env.set(key, None)
        for key in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            self.env.set(key, os.path.join(self.workdir, "no-aws-config"))
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, moto_port = self.moto.get_host_and_port()
        self.env.set("AWS_ENDPOINT_URL", f"http://{host}:{moto_port}")
        self.say(f"[1/6] local AWS (moto) on http://{host}:{moto_port}, account {seed.ACCOUNT}")
        return boto3.Session(region_name=seed.REGION)

    def _seed(self, session: boto3.Session) -> seed.Seeded:
        self.say("[2/6] loading AWS managed policies into moto's IAM (takes a few seconds)…")
        loaded = time.monotonic()
        session.client("iam").get_policy(PolicyArn=seed.ADMIN_POLICY)
        self.say(f"      loaded in {time.monotonic() - loaded:.1f} s")
        seeded = seed.seed(session)
        self.say(
            f"[3/6] seeded {len(seed.USERS)} users, 2 roles, a weak password policy, trail {seed.TRAIL_NAME} "
            f"and queue {seed.QUEUE_NAME}"
        )
        return seeded

    def _start_bot(self, session: boto3.Session, secret: str) -> None:
        assert self.fake is not None and self.seeded is not None
        settings = load(
            {
                "SLACK_BOT_TOKEN": self.fake.token,
                "SLACK_SIGNING_SECRET": secret,
                "SLACK_API_URL": self.fake.base_url,
                "IAMBOT_CHANNEL": CHANNEL,
                "IAMBOT_ROUTES": self.routes,
                "IAMBOT_ADMINS": ADMINS,
                "IAMBOT_SQS_QUEUE_URL": self.seeded.queue_url,
                "IAMBOT_DB": os.path.join(self.workdir, "iam-warden.db"),
                "LOG_LEVEL": "INFO",
            },
            serving=True,
        )
        self.rt = build(settings, session=session)
        who = self.rt.client.auth_test()  # as `serve` does: the token works against this "Slack"
        start_background(self.rt)
        self.bot_server = create_server(wsgi_app(self.rt), host="127.0.0.1", port=0, threads=8)
        threading.Thread(target=self._serve_bot, name="bot-http", daemon=True).start()
        self.bot_url = f"http://127.0.0.1:{self.bot_server.effective_port}/slack/events"
        self.say(
            f"[5/6] bot built by app.wiring.build(): {self.bot_url}, SQS worker and poster running, "
            f"posting as {who['user_id']} to {CHANNEL}" + (f" (routes: {self.routes})" if self.routes else "")
        )

    def _reset_moto(self) -> None:
        """Empty moto's in-process backends (they outlive its server), so a later sandbox in this process seeds a
        fresh account."""
        host, port = self.moto.get_host_and_port()
        reset = urllib.request.Request(f"http://{host}:{port}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(reset, timeout=10):  # noqa: S310 - the local moto server
            pass

    def _serve_bot(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # closing the socket ends the loop
            self.bot_server.run()

    def close(self) -> None:
        """Stop the bot's threads, the servers and moto; remove the temporary directory; restore the environment.
        Safe to call twice and after a failed start."""
        if self.rt is not None:
            self.rt.stop.set()
            self.rt.poster.wake()
            for hook in self.rt.stop_hooks:
                with contextlib.suppress(Exception):
                    hook()
        for stop in (
            self.bot_server and self.bot_server.close,
            self.page and self.page.stop,
            self.fake and self.fake.stop,
        ):
            if stop:
                with contextlib.suppress(Exception):
                    stop()
        if self.rt is not None:
            for thread in self.rt.threads:
                if thread.name != "sqs":  # the SQS worker may sit in a 20 s long poll; it ends after it (daemon)
                    thread.join(timeout=2)
            self.rt.store.close()
        if self.moto is not None:
            with contextlib.suppress(Exception):
                self._reset_moto()
            with contextlib.suppress(Exception):
                self.moto.stop()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.env.restore()
        for name, level in self._log_levels.items():
            logging.getLogger(name).setLevel(level)
        if self._stdout is not None:
            sys.stdout, self._stdout = self._stdout, None
        self.rt = self.bot_server = self.page = self.fake = self.moto = None
        self.workdir = ""


# -- the scripted scenario (--once) ----------------------------------------------------------------------------


class StepFailed(Exception):
    """A step of the scripted scenario did not happen."""


class PageClient:
    """The page's JSON API, used exactly as the browser uses it."""

    def __init__(self, url: str) -> None:
        if not url.startswith("http://127.0.0.1:"):
            raise ValueError("the sandbox page is served on 127.0.0.1")
        self.url = url.rstrip("/")

    def get(self, path: str) -> dict:
        """GET a JSON resource."""
        return self._call(path, None)

    def post(self, path: str, body: dict) -> dict:
        """POST a JSON body; the JSON reply."""
        return self._call(path, json.dumps(body).encode())

    def _call(self, path: str, data: bytes | None) -> dict:
        headers = {"Content-Type": "application/json"} if data is not None else {}
        request = urllib.request.Request(self.url + path, data=data, headers=headers)  # noqa: S310 - loopback only
        try:
            with urllib.request.urlopen(request, timeout=15) as reply:  # noqa: S310
                return json.loads(reply.read())
        except urllib.error.HTTPError as err:
            raise StepFailed(f"{path} answered {err.code}: {err.read().decode()[:200]}") from err

    def timeline(self, user: str = ADMIN, channel: str = "") -> list[dict]:
        """A channel's items (the default channel's unless named) as `user` sees them, each with its thread's
        replies."""
        return self.get(f"/api/state?user={user}&channel={channel}")["timeline"]

    def channels(self) -> list[str]:
        """The ids of the channels the page shows, the default one first."""
        return [c["id"] for c in self.get(f"/api/state?user={ADMIN}")["channels"]]


def wait_for(what: str, probe: Callable[[], T | None], timeout: float) -> T:
    """Poll `probe` every 0.2 s until it returns something; StepFailed naming `what` after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > end:
            raise StepFailed(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.2)


def buttons(message: dict) -> dict[str, dict]:
    """action_id -> button element, for the buttons of a message's actions blocks."""
    return {e["action_id"]: e for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]}


class Script:
    """The scripted scenario: each step returns what it saw, or raises StepFailed."""

    def __init__(self, client: PageClient) -> None:
        self.client = client
        self.user = ""
        self.alert_ts = ""
        self.alert_channel = ""  # where the alert was posted: #incidents when critical alerts are routed there
        self.command_ts = ""

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        """The steps in order, with their names."""
        return [
            ("simulate a privileged user created", self.simulate),
            ("alert posted", self.alert),
            ("admin detaches the policy (confirm)", self.detach),
            ("admin disables the new user's key (confirm)", self.disable_key),
            ("/iam audit acknowledged", self.audit),
            ("audit report posted", self.report),
        ]

    def simulate(self) -> str:
        """Queue CreateUser + AttachUserPolicy + CreateAccessKey (and make the changes in moto)."""
        sent = self.client.post("/api/simulate", {"scenario": "privileged_user_created"})
        self.user = sent["users"][0]
        return f"{', '.join(sent['sent'])} for user {self.user} queued as EventBridge events"

    def _alert(self) -> dict | None:
        """The privileged_user_created alert about our user, wherever it sits (any channel, its own message or a
        thread's reply; not an incident's parent, whose text is the incident's summary)."""
        for channel in self.client.channels():
            for top in self.client.timeline(channel=channel):
                for item in [top, *top["replies"]]:
                    # The alert's own message says its title in its text; an incident's parent says its summary.
                    shown = json.dumps(item.get("blocks"))
                    rule = "rule `privileged_user_created`" in shown
                    if item["kind"] == "message" and rule and f"New user {self.user} given" in item["text"]:
                        self.alert_channel = channel
                        return item
        return None

    def alert(self) -> str:
        """Wait for the critical alert to reach the channel."""
        message = wait_for("the privileged_user_created alert", self._alert, 40)
        self.alert_ts = message["ts"]
        return f"{message['text'][:100]} (buttons: {', '.join(buttons(message))})"

    def _press(self, action_id: str) -> str:
        message = self._alert()
        button = buttons(message or {}).get(action_id)
        if message is None or button is None:
            raise StepFailed(f"the alert has no {action_id} button")
        confirm = button.get("confirm")
        if not confirm:
            raise StepFailed(f"{action_id} asks for no confirmation")
        reply = self.client.post(
            "/api/click",
            {
                "user": ADMIN,
                "channel": self.alert_channel,
                "ts": message["ts"],
                "action_id": action_id,
                "block_id": blocks.ACTIONS_BLOCK,
                "value": button["value"],
            },
        )
        if reply["status"] != 200:
            raise StepFailed(f"the bot answered the click with HTTP {reply['status']}")
        return confirm["title"]["text"]

    def _user(self) -> dict:
        account = self.client.get("/api/account")
        found = [u for u in account["users"] if u["name"] == self.user]
        if not found:
            raise StepFailed(f"user {self.user} is not in the moto account")
        return found[0]

    def detach(self) -> str:
        """Press Detach as an admin, accepting the confirmation; the policy leaves moto, the message updates."""
        title = self._press(ActionId.DETACH_POLICY)
        wait_for("AdministratorAccess leaving the moto user", lambda: not self._user()["attached"], 20)
        wait_for(
            "the alert message update",
            lambda: (m := self._alert()) and m["edits"] and ActionId.DETACH_POLICY not in buttons(m),
            20,
        )
        return f"confirmed '{title}'; {self.user} has no attached policy; the alert message was updated"

    def disable_key(self) -> str:
        """Press Disable keys as an admin; every key of the new user becomes Inactive in moto."""
        title = self._press(ActionId.DISABLE_KEY)

        def inactive() -> list[str] | None:
            keys = self._user()["keys"]
            return [k["id"] for k in keys] if keys and all(k["status"] == "Inactive" for k in keys) else None

        ids = wait_for(f"{self.user}'s keys becoming Inactive", inactive, 20)
        return f"confirmed '{title}'; key {', '.join(ids)} is Inactive"

    def audit(self) -> str:
        """Type /iam audit; the ack comes back as an ephemeral message."""
        reply = self.client.post("/api/command", {"user": ADMIN, "command": "/iam", "text": "audit"})
        if reply["status"] != 200 or not reply["reply"]:
            raise StepFailed(f"the bot answered /iam audit with HTTP {reply['status']} and {reply['reply']!r}")
        return f"ephemeral reply: {reply['reply'][:100]}"

    def report(self) -> str:
        """Wait for the audit report (and its files) in the channel."""

        def posted() -> dict | None:
            found = [m for m in self.client.timeline() if m["kind"] == "message" and m["text"].startswith("IAM audit")]
            return found[-1] if found else None

        message = wait_for("the audit report", posted, 120)
        with contextlib.suppress(StepFailed):
            wait_for(
                "the report's files", lambda: (m := posted()) and any(r["kind"] == "files" for r in m["replies"]), 10
            )
        files = [f["name"] for r in (posted() or {}).get("replies", []) if r["kind"] == "files" for f in r["files"]]
        return message["text"][:120] + (f" (files: {', '.join(files)})" if files else "")


def run_script(client: PageClient, say: Say = _say) -> int:
    """Run the scripted scenario; one line per step; 0 when all worked, 1 naming the failed step."""
    steps = Script(client).steps()
    for number, (name, step) in enumerate(steps, start=1):
        started = time.monotonic()
        try:
            detail = step()
        except Exception as err:
            reason = str(err) if isinstance(err, StepFailed) else f"{type(err).__name__}: {err}"
            say(f"FAIL  {number}/{len(steps)} {name}: {reason}")
            say(f"demo --once failed at step {number} ({name})")
            return 1
        say(f"ok    {number}/{len(steps)} {name} [{time.monotonic() - started:.1f} s]: {detail}")
    say(f"demo --once: all {len(steps)} steps worked")
    return 0


# -- entry point -------------------------------------------------------------------------------------------------


def _wait_for_interrupt(say: Say) -> None:
    """Block until Ctrl-C (SIGINT) or SIGTERM, whatever the shell did with SIGINT for background jobs."""
    stop = threading.Event()
    main = threading.current_thread() is threading.main_thread()
    previous = (
        {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)} if main else {}
    )
    say("Open the page in your browser. Press Ctrl-C to stop.")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_demo(once: bool = False, port: int = 8080, route_critical: bool = False) -> int:
    """`bot.py demo [--once] [--port N] [--route-critical]`: run the sandbox until Ctrl-C, or the scripted scenario
    headless; with `route_critical`, critical alerts go to #incidents (IAMBOT_ROUTES)."""
    say = _say
    say("IAM Warden sandbox: the whole bot against local AWS (moto) and a Slack stand-in")
    sandbox = Sandbox(say, route_critical=route_critical)
    try:
        url = sandbox.start(0 if once else port)
        if once:
            return run_script(PageClient(url), say)
        _wait_for_interrupt(say)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        say("stopping the sandbox…")
        workdir = sandbox.workdir
        sandbox.close()
        say(f"stopped; removed {workdir}" if workdir else "stopped")
        sys.stdout.flush()
