"""Buttons whose value is not a small positive id: one ephemeral "malformed", one warning without the value."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import CHANNEL
from tests.handlers.test_buttons import posted_alert, wait_ephemeral

HOSTILE_VALUES = {
    "list": ["hostile-list-marker", 1],
    "dict": {"hostile-dict-marker": 1},
    "huge": "98765432109876543210987654321",  # past SQLite's INTEGER: it used to crash the listener
    "negative": "-4242424242",
    "empty": "",
    "not digits": "12 or 1=1 hostile-text-marker",
    "arabic digit": "\u0663",  # int() reads it as 3
    "number": 7,
}
MALFORMED = "That button's data is malformed; nothing was done."
MARKERS = ("hostile-list-marker", "hostile-dict-marker", "98765432109876543210987654321", "4242424242", "1=1")


def assert_malformed_told_once(bot, caplog: pytest.LogCaptureFixture, user: str) -> None:
    note = wait_ephemeral(bot, 1)
    assert note["user"] == user and note["text"] == MALFORMED
    assert all(r.exc_info is None for r in caplog.records)
    # waitress' "Task queue depth" note under a loaded machine is about the server, not this request
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name != "waitress.queue"]
    assert "malformed value" in warning.getMessage() and warning.name.startswith("handlers.")
    assert not any(marker in caplog.text for marker in MARKERS)


@pytest.mark.parametrize("case", HOSTILE_VALUES, ids=list(HOSTILE_VALUES))
def test_alert_button_with_hostile_value_is_malformed(make_bot, aws, caplog, case):
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    caplog.set_level(logging.INFO)
    payload = bot.click_payload(alert, "iam_detach_policy", "U0ADMIN1")
    payload["actions"][0]["value"] = HOSTILE_VALUES[case]
    assert bot.send(payload).status == 200
    assert_malformed_told_once(bot, caplog, "U0ADMIN1")
    assert bot.store.actions(alert.id) == []


def mute_payload(bot, value: object) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": "U0ADMIN1"},
        "team": {"id": "T0TEST"},
        "api_app_id": "A0TEST",
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": CHANNEL},
        "channel": {"id": CHANNEL},
        "message": {"ts": "1.000001"},
        "trigger_id": "1.1",
        "response_url": bot.fake.response_url("mute"),
        "actions": [
            {"action_id": "iam_mute_finding", "value": value, "type": "button", "block_id": "b", "action_ts": "1"}
        ],
    }


@pytest.mark.parametrize("case", HOSTILE_VALUES, ids=list(HOSTILE_VALUES))
def test_mute_button_with_hostile_value_is_malformed(make_bot, aws, caplog, case):
    bot = make_bot(session=aws)
    caplog.set_level(logging.INFO)
    assert bot.send(mute_payload(bot, HOSTILE_VALUES[case])).status == 200
    assert_malformed_told_once(bot, caplog, "U0ADMIN1")
    assert bot.store.active_mutes() == []


def test_button_id_accepts_only_small_positive_integer_strings():
    from handlers.values import button_id

    assert [button_id(v) for v in ("1", "42", "999999999999999999")] == [1, 42, 999999999999999999]
    assert [button_id(v) for v in (*HOSTILE_VALUES.values(), "0", "007", "1.0", " 5", None)] == [None] * 13
