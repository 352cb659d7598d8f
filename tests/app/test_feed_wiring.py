"""The wiring's feed watch on the real bot: fed by the event source, its alert posted with working buttons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.wiring import event_source, feed_watch
from ingest.sqs_worker import SqsWorker
from tests.conftest import CHANNEL, RESPONDER

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/iam-warden-events"


def test_sqs_feed_watch_alert_is_acknowledged_and_answered_when_the_feed_is_back(make_bot, aws):
    bot = make_bot(session=aws, sqs_queue_url=QUEUE_URL)
    source = event_source(bot.rt)
    watch = feed_watch(bot.rt, source)
    assert isinstance(source, SqsWorker) and source.on_alive == watch.heard
    assert watch.minutes == 30 and "iam-warden-events" in watch.feed

    watch.check()
    assert bot.store.alerts() == []  # not at start-up
    later = datetime.now(UTC) + timedelta(minutes=31)
    watch.clock = lambda: later
    watch.check()
    assert bot.rt.poster.drain() == 1
    [alert] = bot.store.alerts(rule="feed_silent")
    [message] = bot.fake.channel_messages(CHANNEL)
    assert "raised by the bot, not a CloudTrail event" in str(message["blocks"])
    assert "cloudtrailv2" not in str(message["blocks"])  # no console link to an event that does not exist
    assert "iam_ack" in str(message["blocks"]) and "iam_disable" not in str(message["blocks"])

    bot.click(bot.store.alert(alert.id), "iam_ack", RESPONDER)
    assert bot.fake.wait_for(lambda: bot.store.alert(alert.id).status == "acknowledged")

    source.on_alive()  # a poll brought messages
    watch.check()
    first = bot.fake.channel_messages(CHANNEL)[0]
    [back] = [m for m in bot.fake.channel_messages(CHANNEL) if "event feed is back" in m["text"]]
    assert back["thread_ts"] == first["ts"] and back["reply_broadcast"]


def test_lookup_feed_watch_reads_every_regions_cursor(make_bot, aws):
    bot = make_bot(session=aws, regions=("us-east-1", "eu-west-1"))
    watch = feed_watch(bot.rt, event_source(bot.rt))
    assert "us-east-1, eu-west-1" in watch.feed
    assert watch.last_heard() is None
    bot.store.set_cursor("lookup:us-east-1", "2026-03-02T09:10:00+00:00")
    assert watch.last_heard() is None  # eu-west-1 has never been polled successfully
    bot.store.set_cursor("lookup:eu-west-1", "2026-03-02T09:05:00+00:00")
    assert watch.last_heard() == datetime(2026, 3, 2, 9, 5, tzinfo=UTC)  # the oldest region's


def test_app_home_reads_a_delivery_the_watch_heard_before_it_is_stored(make_bot, aws):
    """The SQS worker's latest delivery is kept in the watch until its next check stores it; App Home's feed health
    shows it at once, not "no heartbeat or message stored yet"."""
    from tests.handlers.test_app_home import open_home, published, valid_view

    bot = make_bot(session=aws, sqs_queue_url=QUEUE_URL)
    source = event_source(bot.rt)
    bot.rt.feed = feed_watch(bot.rt, source)  # as start_background() does
    open_home(bot, "U0ADMIN1")
    assert "no heartbeat or message stored yet" in valid_view(published(bot, "U0ADMIN1"))
    source.on_alive()  # a poll delivered messages; the watch has not stored it yet
    assert not bot.store.cursor("feed.last_heard")
    open_home(bot, "U0ADMIN1")
    text = valid_view(published(bot, "U0ADMIN1", count=2))
    assert "last heartbeat or message" in text and "(0 min ago)" in text and ":white_check_mark: delivering" in text
