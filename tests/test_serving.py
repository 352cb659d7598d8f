"""`bot.py serve` starts and stops as a supervisor needs: clean exits on SIGTERM/SIGINT, Slack outages waited out."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from standins.slack import Call, FakeSlack
from storage import Store
from tests.botprocess import BotProcess, free_port, moto_server
from tests.conftest import BOT_TOKEN, CHANNEL
from tests.outbox import alert, stored


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    yield from moto_server()


def healthz(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
        return json.loads(reply.read())


def pending_alerts(db: Path, count: int) -> None:
    """Leave `count` alerts in the outbox of the database at `db`, as a bot stopped before posting them would."""
    store = Store(db)
    stored(store, *(alert(n, actor=f"arn:aws:iam::111122223333:user/actor{n}") for n in range(count)))
    store.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_http_mode_stops_on_a_signal_with_exit_0_and_no_traceback(tmp_path, fake_slack, moto_url, sig):
    bot = BotProcess(tmp_path, moto_url, fake_slack.base_url)
    try:
        bot.wait_log(r"listening on port")
        assert healthz(bot.port)["status"] == "ok"
        started = time.monotonic()
        assert bot.stop(sig) == 0
        assert time.monotonic() - started < 5  # the workers were told to stop, not waited out
    finally:
        bot.kill()
    assert "Traceback" not in bot.stderr
    assert f"{sig.name} received; stopping" in bot.stderr and "stopped" in bot.stderr


def test_a_stop_lets_the_post_in_flight_finish_and_leaves_the_rest_in_the_outbox(tmp_path, fake_slack, moto_url):
    pending_alerts(tmp_path / "warden.db", 3)

    def slow_post(call: Call) -> None:
        if call.method == "chat.postMessage":
            time.sleep(2)  # Slack is slow: the stop arrives while this post is on the wire

    fake_slack.listeners.append(slow_post)
    bot = BotProcess(tmp_path, moto_url, fake_slack.base_url)
    try:
        assert fake_slack.wait_for(lambda: fake_slack.calls_of("chat.postMessage"), timeout=30), bot.stderr
        started = time.monotonic()
        assert bot.stop(signal.SIGTERM) == 0
        assert time.monotonic() - started < 10  # within Docker's grace period
    finally:
        bot.kill()
    assert "Traceback" not in bot.stderr
    store = Store(tmp_path / "warden.db")
    states = [a["post_state"] for a in store.alerts()]
    store.close()
    assert states == ["posted", "pending", "pending"]
    assert len(fake_slack.channel_messages(CHANNEL)) == 1


def test_slack_unreachable_at_start_is_retried_with_backoff_until_it_answers(tmp_path, moto_url):
    port = free_port()
    bot = BotProcess(tmp_path, moto_url, f"http://127.0.0.1:{port}/api/")
    fake = FakeSlack(token=BOT_TOKEN)
    try:
        bot.wait_log(r"(?s)unreachable.*unreachable", timeout=60)  # two failed attempts: nothing listens yet
        fake.start(port)
        bot.wait_log(r"connected to Slack team test", timeout=30)
        bot.wait_log(r"listening on port")
        assert healthz(bot.port)["status"] == "ok"
        assert bot.stop() == 0
    finally:
        bot.kill()
        fake.stop()
    log = bot.stderr
    assert "Traceback" not in log and "URLError" not in log
    retries = [line for line in log.splitlines() if "unreachable" in line]
    assert all("auth.test (connection refused); retrying in" in line for line in retries), log
    delays = [int(line.rsplit("retrying in ", 1)[1].split()[0]) for line in retries]
    assert delays[:3] == [1, 2, 4][: len(delays[:3])] and len(delays) >= 2
    lines = log.splitlines()
    first = lines.index(retries[0])
    up = next(i for i, line in enumerate(lines) if "connected to Slack team" in line)
    assert lines[first:up] == retries, log  # one line per failed attempt, nothing else


def test_slack_5xx_at_start_is_retried_and_a_refused_token_still_exits_2(tmp_path, fake_slack, moto_url):
    fake_slack.fail_next("auth.test", error="service_unavailable", status=503, times=2)
    bot = BotProcess(tmp_path, moto_url, fake_slack.base_url)
    try:
        bot.wait_log(r"connected to Slack team test", timeout=60)
        assert bot.stop() == 0
    finally:
        bot.kill()
    assert bot.stderr.count("Slack is unreachable for auth.test (HTTP 503 service_unavailable)") == 2
    assert "Traceback" not in bot.stderr

    wrong = BotProcess(tmp_path, moto_url, fake_slack.base_url, SLACK_BOT_TOKEN="xoxb-revoked")
    try:
        assert wrong.proc.wait(60) == 2
    finally:
        wrong.kill()
    assert "error: Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in wrong.stderr
    assert "unreachable" not in wrong.stderr and "Traceback" not in wrong.stderr
