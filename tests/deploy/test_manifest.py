"""manifest.yml declares what the code registers: its slash commands, interactivity for its buttons, and
exactly the bot scopes the code needs."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from slack_bolt import App, BoltRequest
from slack_bolt.authorization import AuthorizeResult

import handlers
from handlers.deps import Deps

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest.yml"

# Why the bot holds each scope (the manifest explains the same in comments).
SCOPES = {
    "chat:write": "post alerts and replies, ephemeral refusals, update alerts after a button press",
    "commands": "the /iam slash command",
    "channels:history": "after a crash, find an alert already posted in a public channel",
    "groups:history": "after a crash, find an alert already posted in a private channel",
    "files:write": "upload audit reports",
}


class RecordingApp(App):
    """A real Bolt app that also notes which slash commands and action ids get registered."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands: list[str] = []
        self.action_ids: list[str] = []

    def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        self.commands.append(command if isinstance(command, str) else command.pattern)
        return super().command(command, *args, **kwargs)

    def action(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        self.action_ids.append(constraints if isinstance(constraints, str) else json.dumps(constraints, default=str))
        return super().action(constraints, *args, **kwargs)


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


@pytest.fixture
def app() -> RecordingApp:
    """The real listeners, registered on a Bolt app that never calls Slack; nothing they touch is needed."""

    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        # Answers locally, so Bolt does not call auth.test.
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-manifest-test", bot_user_id="U0BOT"
        )

    bolt = RecordingApp(
        signing_secret="manifest-test-secret",
        authorize=authorize,
        request_verification_enabled=False,
    )
    handlers.register(bolt, Deps(store=None, remediator=None, admins=frozenset()))  # type: ignore[arg-type]
    return bolt


def test_manifest_names_the_app_and_its_bot_user(manifest):
    assert manifest["display_information"]["name"] == "IAM Warden"
    assert len(manifest["display_information"]["description"]) <= 140
    assert 175 <= len(manifest["display_information"]["long_description"]) <= 4000
    assert manifest["features"]["bot_user"]["display_name"] == "IAM Warden"


def test_every_registered_slash_command_is_declared(manifest, app):
    declared = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert app.commands, "the handlers register at least /iam"
    assert set(app.commands) == set(declared)
    iam = declared["/iam"]
    assert iam["usage_hint"] == "audit | status | mute | unmute | help"
    assert iam["should_escape"] is False
    assert iam["description"]


def test_the_declared_command_reaches_a_listener(manifest, app):
    for command in manifest["features"]["slash_commands"]:
        body = urlencode(
            {
                "command": command["command"],
                "text": "help",
                "user_id": "U0MANIFEST",
                "channel_id": "C0MANIFEST",
                "team_id": "T0MANIFEST",
                "response_url": "https://hooks.slack.invalid/commands/1",
                "trigger_id": "1.2.3",
            }
        )
        headers = {
            "content-type": ["application/x-www-form-urlencoded"],
            "x-slack-request-timestamp": [str(int(time.time()))],
        }
        response = app.dispatch(BoltRequest(body=body, headers=headers))
        assert response.status == 200, f"{command['command']} is declared but no listener answers it"


def test_interactivity_is_on_for_the_buttons(manifest, app):
    assert app.action_ids, "the handlers register button actions"
    assert "iam_ack" in app.action_ids
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_socket_mode_is_on_and_http_users_are_told_what_to_change(manifest):
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    text = MANIFEST.read_text()
    assert "https://<host>/slack/events" in text
    assert re.search(r"#.*socket_mode_enabled.*false", text, re.I)


def test_bot_scopes_are_exactly_the_ones_the_code_uses(manifest):
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes))
    assert set(scopes) == set(SCOPES)
    assert "user" not in manifest["oauth_config"]["scopes"], "the app needs no user token"


def test_every_scope_is_explained_by_a_comment(manifest):
    lines = MANIFEST.read_text().splitlines()
    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        (at,) = [i for i, line in enumerate(lines) if line.strip() == f"- {scope}"]
        before = at - 1
        while lines[before].strip().startswith("- ") and not lines[before].strip().startswith("#"):
            before -= 1  # scopes sharing one comment (channels:history, groups:history)
        assert lines[before].strip().startswith("#"), f"{scope} has no comment saying why"
