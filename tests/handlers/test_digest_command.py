"""/iam digest [DAYS] over signed HTTP against the real app: the ack, the posted digest's links and muted lines."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block

from core.times import stored
from tests.conftest import CHANNEL, OUTSIDER
from tests.handlers.test_buttons import posted_alert

DIGEST_HEAD = ":newspaper: *IAM Warden digest*"


def digests(bot) -> list[dict]:
    return [m for m in bot.fake.channel_messages(CHANNEL) if m["text"].startswith("IAM Warden digest")]


def wait_digests(bot, n: int) -> list[dict]:
    assert bot.fake.wait_for(lambda: len(digests(bot)) == n), f"expected {n} digests, got {len(digests(bot))}"
    return digests(bot)


def valid_blocks(message: dict) -> str:
    """Every block parsed and validated by slack_sdk's models, within Slack's limits; returns the blocks' text."""
    assert len(message["blocks"]) <= 50
    for block in message["blocks"]:
        Block.parse(block).validate_json()
        assert len(block["text"]["text"]) <= 3000
    return "\n".join(b["text"]["text"] for b in message["blocks"])


def backdate_mute(bot, mute_id: int, when: datetime) -> None:
    with sqlite3.connect(bot.rt.settings.db_path) as db:
        db.execute("UPDATE mutes SET created_at = ? WHERE id = ?", (stored(when), mute_id))


@pytest.fixture
def bot(make_bot, aws):
    return make_bot(session=aws)


def test_digest_days_acks_then_posts_links_to_open_alerts_and_names_the_mutes(bot):
    first = posted_alert(bot, title="Admin policy attached to user bob")
    second = posted_alert(bot, title="Admin policy attached to user eve")
    acked = posted_alert(bot, title="Admin policy attached to user carl")
    bot.store.acknowledge(acked.id, "U0ADMIN1")
    recent = bot.store.add_mute(
        "old_access_keys", "123456789012", "arn:aws:iam::123456789012:user/ci", "rotation", "U0ADMIN1", 14
    )
    old = bot.store.add_mute(
        "mfa_enabled", "123456789012", "arn:aws:iam::123456789012:user/old", "legacy", "U0ADMIN2", 30
    )
    backdate_mute(bot, old.id, datetime.now(UTC) - timedelta(days=5))

    reply = bot.command("digest 3", user=OUTSIDER)  # read-only: anyone may, as /iam status
    assert reply.status == 200
    ack = reply.json()
    assert ack["response_type"] == "ephemeral"
    assert ack["text"].startswith(":newspaper: Posting the digest of ") and "(the last 3 days)" in ack["text"]

    [message] = wait_digests(bot, 1)
    text = valid_blocks(message)
    today = datetime.now(UTC)
    assert f"{DIGEST_HEAD} — {today - timedelta(days=3):%Y-%m-%d} to {today:%Y-%m-%d}" in text
    for alert in (first, second):
        link = f"https://test.slack.com/archives/{CHANNEL}/p{alert.ts.replace('.', '')}"
        assert f"<{link}|{alert.title}>" in text
    assert "user carl" not in text  # acknowledged: not open
    assert "*Unacknowledged alerts (2)*" in text
    assert "*Muted in this period (1)*" in text
    assert f":mute: #{recent.id} `old_access_keys` on `arn:aws:iam::123456789012:user/ci` by <@U0ADMIN1>" in text
    assert "user/old" not in text  # muted five days ago: outside the period
    asked = [c.args for c in bot.fake.calls_of("chat.getPermalink")]
    assert sorted(a["message_ts"] for a in asked) == sorted([first.ts, second.ts])


def test_digest_without_days_covers_the_time_since_the_last_scheduled_digest(bot):
    reply = bot.command("digest")
    assert "(the last 7 days; no digest was posted yet)" in reply.json()["text"]
    [first] = wait_digests(bot, 1)
    today = datetime.now(UTC)
    assert f"— {today - timedelta(days=7):%Y-%m-%d} to {today:%Y-%m-%d}" in first["blocks"][0]["text"]["text"]

    slot = (today - timedelta(days=2)).replace(microsecond=0)
    assert bot.rt.jobs.fire("digest", slot)  # the scheduled job, as app/wiring.py binds it
    wait_digests(bot, 2)
    reply = bot.command("digest")
    assert f"{slot:%Y-%m-%d %H:%M} to " in reply.json()["text"] and "(since the last digest)" in reply.json()["text"]
    third = wait_digests(bot, 3)[-1]
    assert f"— {slot:%Y-%m-%d} to {today:%Y-%m-%d}" in third["blocks"][0]["text"]["text"]


@pytest.mark.parametrize("text", ["digest 0", "digest 366", "digest abc", "digest -3", "digest ٣", "digest 3 4"])
def test_bad_days_get_one_line_and_post_nothing(bot, text):
    reply = bot.command(text)
    answer = reply.json()["text"]
    assert reply.status == 200 and "\n" not in answer
    assert "must be a whole number from 1 to 365" in answer or "at most one argument" in answer
    assert "Usage: `/iam digest [DAYS]`" in answer
    assert not bot.fake.wait_for(lambda: digests(bot), timeout=0.5)


def test_a_channel_the_bot_cannot_post_in_is_told_to_the_user(bot):
    bot.fake.fail_next("chat.postMessage", error="not_in_channel", status=200)
    bot.command("digest 1")
    assert bot.fake.wait_for(lambda: any("could not be posted" in r.get("text", "") for r in bot.fake.responses))
    [told] = [r for r in bot.fake.responses if "could not be posted" in r.get("text", "")]
    assert "`not_in_channel`" in told["text"] and digests(bot) == []


def test_help_lists_the_digest(bot):
    assert "`/iam digest [DAYS]`" in bot.command("help").json()["text"]


def test_many_long_open_alerts_stay_within_a_section_and_keep_links_whole(bot):
    for n in range(14):
        posted_alert(
            bot, title=f"Admin policy attached to user {'x' * 150}{n}", actor_arn="arn:aws:iam::1:user/" + "a" * 200
        )
    bot.command("digest 1")
    [message] = wait_digests(bot, 1)
    valid_blocks(message)
    [alerts] = [b["text"]["text"] for b in message["blocks"] if b["text"]["text"].startswith("*Unacknowledged")]
    links = re.findall(r"<(https://[^|>]+)\|[^>]+>", alerts)
    assert links and alerts.count("<") == len(links)  # every link whole
    assert re.search(r"…and \d+ more$", alerts)
