"""Socket Mode, the default install, against a local Socket Mode endpoint: `bot.py serve` with SLACK_APP_TOKEN.

The stand-in hands out ws:// URLs from apps.connections.open, says hello, delivers envelopes and records the acks
and how each connection ended, as Slack does; the bot is a subprocess, so its CPU time is its own.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest

from standins.slack import FakeSlack
from tests.botprocess import BotProcess, moto_server
from tests.conftest import CHANNEL, RESPONDER

APP_TOKEN = "xapp-test-token"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    yield from moto_server()


@pytest.fixture
def bot(tmp_path, fake_slack: FakeSlack, moto_url: str) -> Iterator[BotProcess]:
    """The bot connected over Socket Mode (hello received), with nothing else going on."""
    fake_slack.start_socket_mode()
    process = BotProcess(tmp_path, moto_url, fake_slack.base_url, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="")
    try:
        process.wait_log(r"Socket Mode connected")
        assert fake_slack.wait_for(lambda: fake_slack.socket_open_links(), timeout=10), process.stderr
        yield process
    finally:
        process.kill()


def click(fake: FakeSlack) -> dict:
    """A button press as Slack delivers it over Socket Mode (the alert does not exist: the bot says so)."""
    return {
        "type": "block_actions",
        "team": {"id": "T0TEST", "domain": "test"},
        "user": {"id": RESPONDER, "username": "responder", "team_id": "T0TEST"},
        "api_app_id": "A0TEST",
        "token": "legacy",
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": CHANNEL, "is_ephemeral": False},
        "trigger_id": "1.trigger",
        "channel": {"id": CHANNEL, "name": "iam-alerts"},
        "message": {"ts": "1.000001", "type": "message"},
        "response_url": fake.response_url("socket"),
        "actions": [
            {
                "action_id": "iam_ack",
                "block_id": "iam_alert_actions",
                "value": "999",
                "type": "button",
                "action_ts": "1",
            }
        ],
    }


def acked_within(fake: FakeSlack, seconds: float) -> float:
    """Deliver a click on the newest connection; returns how long its ack took (fails past `seconds`)."""
    started = time.monotonic()
    envelope_id = fake.socket_envelope(click(fake))
    ack = fake.socket_ack(envelope_id, timeout=seconds)
    took = time.monotonic() - started
    assert ack == {"envelope_id": envelope_id}, f"no ack within {seconds} s"
    return took


def reconnected(fake: FakeSlack, before: int, seconds: float) -> float:
    """Wait for a new connection (apps.connections.open, then hello) after `before` links; returns the delay."""
    started = time.monotonic()
    assert fake.wait_for(lambda: len(fake.socket_links) > before and fake.socket_link().open, seconds), (
        f"no new connection within {seconds} s"
    )
    return time.monotonic() - started


def test_a_connection_dropped_without_a_close_frame_is_replaced_within_10_s_without_a_busy_loop(bot, fake_slack):
    assert acked_within(fake_slack, 1.0) < 1.0  # an envelope is acked with its envelope_id
    assert fake_slack.wait_for(lambda: fake_slack.calls_of("chat.postEphemeral"), timeout=10)  # and handled
    assert fake_slack.calls_of("chat.postEphemeral")[0].args["user"] == RESPONDER
    before, cpu, dropped = len(fake_slack.socket_links), bot.cpu_seconds(), time.monotonic()
    fake_slack.socket_drop()
    reconnected(fake_slack, before, 10.0)
    time.sleep(max(0.0, dropped + 10.0 - time.monotonic()))
    assert bot.cpu_seconds() - cpu < 1.0  # over the 10 s after the drop
    assert acked_within(fake_slack, 1.0) < 1.0
    assert len(fake_slack.socket_open_links()) == 1
    assert "Traceback" not in bot.stderr


def test_a_connection_that_dies_silently_is_replaced_within_10_s(bot, fake_slack):
    before = len(fake_slack.socket_links)
    fake_slack.socket_silence()  # no FIN, no Close frame: only the missing pongs tell
    assert reconnected(fake_slack, before, 10.0) < 10.0
    assert acked_within(fake_slack, 1.0) < 1.0
    assert "Traceback" not in bot.stderr


def test_after_a_refresh_the_new_connection_acks_within_1_s(bot, fake_slack):
    for _ in range(3):  # the old socket's read timeout used to delay the switch by ~3 s; each refresh must be fast
        before = len(fake_slack.socket_links)
        fake_slack.socket_refresh()
        reconnected(fake_slack, before, 5.0)
        assert acked_within(fake_slack, 1.0) < 1.0
        old = fake_slack.socket_link(before)
        assert fake_slack.wait_for(lambda: not old.open, timeout=5)  # noqa: B023 (used at once)
        assert old.close_frame  # the old connection was left properly
    assert len(fake_slack.calls_of("apps.connections.open")) == 4  # one per connection, none wasted
    assert len(fake_slack.socket_open_links()) == 1


def test_a_close_frame_from_slack_is_followed_by_a_new_connection_at_once(bot, fake_slack):
    before = len(fake_slack.socket_links)
    fake_slack.socket_close()
    assert reconnected(fake_slack, before, 10.0) < 2.0  # not at the next health check
    assert acked_within(fake_slack, 1.0) < 1.0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_closes_the_connection_with_a_close_frame_and_exits_0(bot, fake_slack, sig):
    link = fake_slack.socket_link()
    assert bot.stop(sig) == 0
    assert not link.open and link.close_frame, bot.stderr[-4000:]
    assert "Traceback" not in bot.stderr


def test_a_refused_app_token_exits_2_with_one_line(tmp_path, fake_slack, moto_url):
    fake_slack.start_socket_mode()
    process = BotProcess(tmp_path, moto_url, fake_slack.base_url, SLACK_APP_TOKEN="xapp-revoked")
    try:
        assert process.proc.wait(60) == 2
    finally:
        process.kill()
    assert "error: Slack rejected SLACK_APP_TOKEN (invalid_auth)" in process.stderr
    assert "Traceback" not in process.stderr


def test_app_home_opened_over_socket_mode_publishes_the_home_tab(bot, fake_slack):
    event = {
        "type": "event_callback",
        "team_id": "T0TEST",
        "api_app_id": "A0TEST",
        "event_id": "Ev0HOME",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0TEST", "user_id": "UBOT", "is_bot": True}],
        "event": {"type": "app_home_opened", "user": RESPONDER, "channel": "D0HOME", "tab": "home", "event_ts": "1.0"},
    }
    envelope_id = fake_slack.socket_envelope(event, kind="events_api")
    assert fake_slack.socket_ack(envelope_id) == {"envelope_id": envelope_id}
    assert fake_slack.wait_for(lambda: fake_slack.home_view(RESPONDER), timeout=10), bot.stderr
    view = fake_slack.home_view(RESPONDER)
    assert view["type"] == "home" and any("Open alerts (0)" in str(b) for b in view["blocks"])
    assert "Traceback" not in bot.stderr
