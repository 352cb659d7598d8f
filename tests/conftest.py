"""Shared fixtures: Slack request signing, the local Slack Web API stand-in, moto, and the bot over HTTP."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws

from config import Settings
from core.rows import AlertRow
from standins.signing import slack_headers
from standins.slack import FakeSlack

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"
CHANNEL = "C0ALERTS"
ADMINS = frozenset({"U0ADMIN1", "U0ADMIN2"})
RESPONDER = "U0RESPOND"
OUTSIDER = "U0OUTSIDE"


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Headers Slack would send with `body` (v0 HMAC-SHA256 over `v0:<ts>:<body>`)."""
    return slack_headers(body, secret, timestamp)


@dataclass
class Reply:
    """An HTTP reply from the bot."""

    status: int
    body: str

    def json(self) -> dict:
        return json.loads(self.body)


def post(url: str, body: str, headers: dict[str, str], content_type: str) -> Reply:
    """POST to the bot and return status and body (HTTP errors included)."""
    request = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"Content-Type": content_type, **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return Reply(reply.status, reply.read().decode())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.read().decode())


@pytest.fixture(autouse=True)
def declared_aws_calls_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every AWS call the bot makes in a test must be declared in aws/permissions.py (and so in the policy)."""
    import aws.permissions

    monkeypatch.setattr(aws.permissions, "STRICT", True)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake AWS credentials so nothing can reach a real account."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def aws(aws_env: None) -> Iterator[boto3.Session]:
    """A boto3 session backed by moto (in-process)."""
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """The local Slack Web API stand-in on a free loopback port."""
    fake = FakeSlack(token=BOT_TOKEN)
    fake.start()
    yield fake
    fake.stop()


def settings(tmp_path: Path, fake: FakeSlack, **overrides: object) -> Settings:
    """Test settings pointing at the stand-in and a fresh database file."""
    values: dict = {
        "bot_token": BOT_TOKEN,
        "signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.base_url,
        "channel": CHANNEL,
        "admins": ADMINS,
        "responders": frozenset({RESPONDER}),
        "db_path": str(tmp_path / "warden.db"),
        "thread_minutes": 10,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Bot:
    """The real bot wired by app.wiring.build(), served over HTTP by waitress on a free port."""

    rt: object
    url: str
    fake: FakeSlack
    server: object
    clicks: int = field(default=0)
    secret: str = SIGNING_SECRET

    @property
    def store(self):
        return self.rt.store

    def signed(self, payload: dict) -> tuple[str, dict[str, str]]:
        """An interactivity payload as Slack sends it: the form-encoded body and its signature headers."""
        body = urlencode({"payload": json.dumps(payload)})
        return body, sign(body, secret=self.secret)

    def send(self, payload: dict, headers: dict[str, str] | None = None) -> Reply:
        """POST an interactivity payload (form-encoded `payload=`), signed unless headers are given."""
        body, signature = self.signed(payload)
        return post(self.url, body, headers if headers is not None else signature, "application/x-www-form-urlencoded")

    def command(self, text: str, user: str = "U0ADMIN1", headers: dict[str, str] | None = None) -> Reply:
        """POST a /iam slash command, signed."""
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T0TEST",
                "channel_id": CHANNEL,
                "user_id": user,
                "command": "/iam",
                "text": text,
                "response_url": self.fake.response_url("cmd"),
                "trigger_id": "1.2.3",
            }
        )
        return post(
            self.url,
            body,
            headers if headers is not None else sign(body, secret=self.secret),
            "application/x-www-form-urlencoded",
        )

    def click(self, alert: AlertRow, action_id: str, user: str) -> Reply:
        """Press one of an alert's buttons as `user`, exactly as Slack would send it."""
        return self.send(self.click_payload(alert, action_id, user))

    def click_payload(self, alert: AlertRow, action_id: str, user: str) -> dict:
        """The block_actions payload Slack sends when `user` presses one of an alert's buttons."""
        self.clicks += 1
        payload = {
            "type": "block_actions",
            "team": {"id": "T0TEST", "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0TEST"},
            "api_app_id": "A0TEST",
            "token": "legacy",
            "container": {
                "type": "message",
                "message_ts": alert.ts,
                "channel_id": alert.channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{self.clicks}.trigger",
            "channel": {"id": alert.channel, "name": "iam-alerts"},
            "message": {"ts": alert.ts, "type": "message"},
            "response_url": self.fake.response_url(f"click{self.clicks}"),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "iam_alert_actions",
                    "value": str(alert.id),
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return payload


def serve_until_closed(server) -> None:
    """Run a waitress server until the test closes it (closing its socket ends the loop with EBADF)."""
    with contextlib.suppress(OSError, ValueError):
        server.run()


@pytest.fixture
def make_bot(tmp_path: Path, fake_slack: FakeSlack) -> Iterator:
    """Factory: build and serve the bot with settings overrides and an AWS session."""
    from waitress import create_server

    from app.http import wsgi_app
    from app.wiring import build, slack_client

    made: list[tuple[object, threading.Thread, object]] = []

    def factory(session: boto3.Session | None = None, checks: tuple | None = None, **overrides: object) -> Bot:
        rt = build(
            settings(tmp_path, fake_slack, **overrides),
            session=session,
            client=slack_client(settings(tmp_path, fake_slack, **overrides)),
            checks=checks,
        )
        rt.poster.min_interval = 0.0
        server = create_server(wsgi_app(rt), host="127.0.0.1", port=0, threads=8)
        thread = threading.Thread(target=serve_until_closed, args=(server,), daemon=True)
        thread.start()
        made.append((rt, thread, server))
        return Bot(rt, f"http://127.0.0.1:{server.effective_port}/slack/events", fake_slack, server)

    yield factory
    for rt, _thread, server in made:
        rt.stop.set()
        server.close()  # the serving thread is a daemon and ends with its closed socket
        rt.store.close()
