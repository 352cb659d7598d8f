"""`bot.py replay --post` runs on the bot's own store, so its rule mutes apply: a muted alert is still replayed
(printed, stored, marked with its mute) but not posted; an alert no mute covers is posted as the live bot would."""

from __future__ import annotations

import io
import json

import pytest

import bot
from core.rule_mutes import MuteScope
from core.states import PostState
from detections import example_records as s
from storage import Store
from tests.conftest import ADMINS, BOT_TOKEN, CHANNEL, SIGNING_SECRET

CFN = "IdentityCFNServiceRole"


def create_user(name: str, n: int, actor: dict) -> dict:
    return s.iam_call("CreateUser", {"userName": name}, event_id=f"00000000-0000-4000-8000-{n:012d}", actor=actor)


@pytest.fixture
def bot_env(monkeypatch, tmp_path, fake_slack):
    for key, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "IAMBOT_CHANNEL": CHANNEL,
        "IAMBOT_ADMINS": ",".join(sorted(ADMINS)),
        "IAMBOT_DB": str(tmp_path / "warden.db"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    return tmp_path / "warden.db"


def test_replay_post_replays_a_muted_alert_without_posting_it(bot_env, tmp_path, fake_slack):
    store = Store(bot_env)
    _, mute = store.add_rule_mute("user_created", MuteScope.ACTOR, f"arn:aws:iam::*:role/{CFN}", "CFN", "U0ADMIN1", 30)
    store.close()
    path = tmp_path / "trail.json"
    records = [create_user("svc", 1, s.role_session(CFN, "cfn-1")), create_user("eve", 2, s.iam_user("alice"))]
    path.write_text(json.dumps({"Records": records}))

    out = io.StringIO()
    assert bot.replay([str(path)], as_jsonl=False, post=True, out=out, stdin=io.StringIO("")) == 0
    printed = out.getvalue()
    assert "IAM user svc created" in printed and "IAM user eve created" in printed  # both replayed
    assert f"muted by rule mute #{mute.id}: stored and counted, not posted" in printed
    [posted] = fake_slack.channel_messages(CHANNEL)
    assert "IAM user eve created" in posted["text"]

    store = Store(bot_env)
    by_target = {a.target.rsplit("/", 1)[-1]: a for a in store.alerts(rule="user_created")}
    assert (by_target["svc"].mute_id, by_target["svc"].post_state) == (mute.id, PostState.MUTED)
    assert by_target["eve"].post_state == PostState.POSTED
    store.close()
