"""`bot.py replay` offline on one CloudTrail file: watcher_impaired and remediation_reverted alert, the latter
learning what the bot undid from the bot's own calls in the same file (its User-Agent's app id)."""

from __future__ import annotations

from pathlib import Path

from detections import example_records as s
from tests.replaying import replay_alerts

ROOT = Path(__file__).resolve().parents[2]
BOT_AGENT = "Boto3/1.44.5 md/Botocore#1.44.5 ua/2.1 os/linux#6.1.0 lang/python#3.11.7 app/iam-warden Botocore/1.44.5"
FEED_RULE = "iam-warden-events-IamEventsRule-1QX5R7ZV9K2M3"


def _at(record: dict, minute: int) -> dict:
    return record | {"eventTime": f"2024-05-14T10:{minute:02d}:00Z"}


def _key_status(user: str, status: str, event_id: str, **kwargs: object) -> dict:
    key = s.access_key_id(user)
    return s.iam_call(
        "UpdateAccessKey", {"userName": user, "accessKeyId": key, "status": status}, event_id=event_id, **kwargs
    )


def records() -> list[dict]:
    mallory = s.role_session("OpsAdmin", "mallory")
    bot = s.iam_user("iam-warden-bot")
    return [
        _at(
            _key_status(
                "build-agent", "Inactive", "00000000-0000-4000-8000-00000000c001", actor=bot, user_agent=BOT_AGENT
            ),
            0,
        ),
        _at(_key_status("build-agent", "Active", "00000000-0000-4000-8000-00000000c002", actor=mallory), 1),
        # A person's own off-and-on again: the bot undid nothing here.
        _at(_key_status("alice", "Inactive", "00000000-0000-4000-8000-00000000c003", actor=s.iam_user("alice")), 2),
        _at(_key_status("alice", "Active", "00000000-0000-4000-8000-00000000c004", actor=s.iam_user("alice")), 3),
        _at(
            s.event(
                "DisableRule",
                "events.amazonaws.com",
                event_id="00000000-0000-4000-8000-00000000c005",
                actor=mallory,
                request={"name": FEED_RULE},
            ),
            4,
        ),
        _at(
            s.event(
                "StopConfigurationRecorder",
                "config.amazonaws.com",
                event_id="00000000-0000-4000-8000-00000000c006",
                actor=mallory,
                request={"configurationRecorderName": "default"},
            ),
            5,
        ),
        _at(
            s.event(
                "DisableRule",
                "events.amazonaws.com",
                event_id="00000000-0000-4000-8000-00000000c007",
                request={"name": "nightly-report"},
            ),
            6,
        ),
    ]


def test_replay_raises_the_watcher_and_revert_alerts_offline(tmp_path: Path) -> None:
    path = tmp_path / "111122223333_CloudTrail_us-east-1_20240514T1000Z_c.json"
    alerts, stderr = replay_alerts(path, records())
    assert [(a["event_id"][-4:], a["rule"], a["severity"]) for a in alerts] == [
        ("c002", "remediation_reverted", "critical"),
        ("c005", "watcher_impaired", "critical"),
        ("c006", "watcher_impaired", "high"),
    ]
    assert alerts[0]["title"] == f"Access key {s.access_key_id('build-agent')} of user build-agent made Active again"
    assert alerts[1]["title"] == f"The bot's EventBridge rule {FEED_RULE} disabled"
    assert "7 record(s)" in stderr
