"""The feed's dead man's switch: one alert per silence, a thread reply when the feed is back, across restarts;
the queue's heartbeat through moto SQS; LookupEvents polls that keep failing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from app.wiring import slack_client
from delivery.poster import Poster
from detections import rule
from ingest.envelopes import MalformedMessage, unwrap
from ingest.feed_watch import LAST_HEARD, SILENCE, FeedWatch, lookup_life
from ingest.lookup_poller import LookupPoller
from ingest.sqs_worker import SqsWorker
from slackui.blocks import feed_back_reply
from storage import Store
from tests.conftest import CHANNEL, settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# An EventBridge schedule's event as it arrives in the queue (the shape AWS documents for scheduled rules).
HEARTBEAT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "111122223333",
    "time": "2026-03-02T09:05:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:111122223333:rule/iam-warden-events-HeartbeatRule-1A2B3C4D5E6F"],
    "detail": {},
}


class Clock:
    """A wall clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now_ = T0

    def now(self) -> datetime:
        return self.now_

    def monotonic(self) -> float:
        return self.now_.timestamp()

    def sleep(self, seconds: float) -> None:
        self.advance(seconds=seconds)

    def advance(self, minutes: float = 0, seconds: float = 0) -> None:
        self.now_ += timedelta(minutes=minutes, seconds=seconds)


class Bot:
    """The parts of the bot the watch works with, on one database file: the store, the poster, the watch.

    `restart()` drops them and builds them again on the same file, as a new process would.
    """

    def __init__(self, path: Path, fake_slack, clock: Clock) -> None:
        self.path, self.fake, self.clock = path, fake_slack, clock
        self.client = slack_client(settings(path.parent, fake_slack))
        self._build()

    def _build(self) -> None:
        self.store = Store(self.path)
        self.poster = Poster(self.store, self.client, CHANNEL, thread_minutes=10, min_interval=0.0)
        self.watch = FeedWatch(
            self.store,
            30,
            "SQS queue iam-warden-events",
            on_alerts=self.poster.wake,
            reply=lambda alert, back_at: self.poster.reply(alert.id, feed_back_reply(alert, back_at), broadcast=True),
            clock=self.clock.now,
        )

    def restart(self) -> None:
        self.store.close()
        self._build()

    def tick(self) -> None:
        """One round of the background threads: the watch checks, the poster drains."""
        self.watch.check()
        self.poster.drain()

    def messages(self) -> list[dict]:
        return self.fake.channel_messages(CHANNEL)


@pytest.fixture
def bot(tmp_path: Path, fake_slack):
    made = Bot(tmp_path / "warden.db", fake_slack, Clock())
    yield made
    made.store.close()


@pytest.mark.parametrize("restart", ["never", "during the silence", "with the back reply pending"])
def test_one_alert_per_silence_and_a_reply_when_the_feed_is_back(bot: Bot, restart: str):
    bot.watch.heard()  # a heartbeat at T0
    bot.tick()
    bot.clock.advance(minutes=29, seconds=59)
    bot.tick()
    assert bot.store.alerts() == [] and bot.messages() == []

    bot.clock.advance(seconds=1)  # 30 minutes without a heartbeat or an event
    bot.tick()
    [alert] = bot.store.alerts(rule="feed_silent")
    assert alert.severity == "high" and alert.title == rule("feed_silent").title
    assert alert.facts["Last heard"] == "2026-03-02T09:00:00Z (UTC)"
    [posted] = bot.messages()
    assert posted["ts"] == bot.store.alert(alert.id).ts
    assert "event feed is silent" in posted["text"]

    if restart == "during the silence":
        bot.restart()
    for _ in range(6):  # two more hours of silence: still the one alert, nothing more said
        bot.clock.advance(minutes=20)
        bot.tick()
    assert len(bot.store.alerts()) == 1 and len(bot.messages()) == 1

    if restart == "with the back reply pending":
        bot.fake.fail_next("chat.postMessage", error="internal_error", status=200)
    bot.watch.heard()  # the feed delivers again
    bot.clock.advance(minutes=1)
    bot.tick()
    if restart == "with the back reply pending":
        assert len(bot.messages()) == 1  # Slack refused the reply: it is still owed
        bot.restart()
        bot.tick()
    first, back = bot.messages()
    assert back["thread_ts"] == first["ts"] and back["reply_broadcast"]
    assert "event feed is back" in back["text"] and f"alert #{alert.id}" in back["text"]
    assert bot.store.cursor(SILENCE) == ""

    bot.clock.advance(minutes=10)  # alive again: nothing more is said
    bot.watch.heard()
    bot.tick()
    assert len(bot.messages()) == 2 and len(bot.store.alerts()) == 1


def test_a_new_silence_is_a_new_alert(bot: Bot):
    bot.clock.advance(minutes=30)
    bot.tick()
    bot.watch.heard()
    bot.tick()  # back
    bot.clock.advance(minutes=30)
    bot.tick()
    assert [a.rule for a in bot.store.alerts()] == ["feed_silent", "feed_silent"]
    first, second = bot.store.alerts()
    assert first.event_id != second.event_id
    assert first.facts["Last heard"].startswith("nothing since the watch began at 2026-03-02T09:00:00Z")


def test_no_alert_at_start_up_before_one_interval(bot: Bot):
    """Life heard two hours before a restart: the bot was down, the queue is unread, not silent."""
    bot.store.set_cursor(LAST_HEARD, (T0 - timedelta(hours=2)).isoformat())
    bot.restart()
    bot.tick()
    bot.clock.advance(minutes=29)
    bot.tick()
    assert bot.store.alerts() == []
    bot.clock.advance(minutes=1)
    bot.tick()
    [alert] = bot.store.alerts()
    assert alert.facts["Last heard"] == "2026-03-02T07:00:00Z (UTC)"  # says when the feed really went quiet


def test_the_same_silence_is_stored_once_by_two_watches_on_one_store(bot: Bot):
    """A crash between storing the alert and noting the silence, or a second instance: one alert all the same."""
    bot.watch.heard()
    bot.tick()
    other = FeedWatch(bot.store, 30, "SQS queue iam-warden-events", clock=bot.clock.now)
    bot.clock.advance(minutes=31)
    other.check()
    bot.store.set_cursor(SILENCE, "")  # as if the other had crashed before noting the silence
    bot.tick()
    assert len(bot.store.alerts()) == 1
    assert json.loads(bot.store.cursor(SILENCE))["alert_id"] == bot.store.alerts()[0].id


# ---- the heartbeat through the queue ---------------------------------------------------------------------


def test_heartbeat_message_is_consumed_deleted_and_counted_as_life(sqs, s3, pipeline, store):
    clock = Clock()
    watch = FeedWatch(store, 30, "SQS queue iam-warden", clock=clock.now)
    queue_url = sqs.create_queue(QueueName="iam-warden")["QueueUrl"]
    worker = SqsWorker(sqs, s3, queue_url, pipeline, wait_seconds=0, on_alive=watch.heard)
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(HEARTBEAT))

    clock.advance(minutes=5)
    assert worker.poll_once() == 1
    assert worker.heartbeats == 1 and worker.failed == 0
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attrs == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    assert store.dead_letters() == [] and store.db["events"].count == 0 and store.alerts() == []

    watch.check()
    assert store.cursor(LAST_HEARD) == (T0 + timedelta(minutes=5)).isoformat()
    clock.advance(minutes=29)  # 34 minutes after the start, 29 after the heartbeat
    watch.check()
    assert store.alerts() == []
    clock.advance(minutes=1)
    watch.check()
    assert [a.rule for a in store.alerts()] == ["feed_silent"]


def test_only_the_schedules_own_event_is_a_heartbeat():
    assert unwrap(json.dumps(HEARTBEAT)).heartbeats == 1
    assert unwrap(json.dumps({"Type": "Notification", "Message": json.dumps(HEARTBEAT)})).heartbeats == 1
    with pytest.raises(MalformedMessage, match="does not carry a CloudTrail record"):
        unwrap(json.dumps({**HEARTBEAT, "source": "custom.app"}))


# ---- LookupEvents mode -----------------------------------------------------------------------------------


def test_lookup_polls_that_keep_failing_raise_the_alert_and_a_good_poll_ends_it(fake_aws, store, pipeline):
    clock = Clock()
    client = boto3.client("cloudtrail", region_name="us-east-1")
    poller = LookupPoller(
        {"us-east-1": client},
        store,
        pipeline,
        now=clock.now,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        event_names=["CreateUser"],
        include_root=False,
    )
    watch = FeedWatch(store, 30, "LookupEvents", life=lookup_life(store, ["us-east-1"]), clock=clock.now)
    with Stubber(client) as stub:
        stub.add_response("lookup_events", {"Events": []})
        poller.poll_once()  # one good poll, then the permission is gone
        watch.check()
        for _ in range(6):
            clock.advance(minutes=5)
            stub.add_client_error("lookup_events", "AccessDeniedException", http_status_code=400)
            poller.poll_once()
            watch.check()
            assert (store.alerts() != []) is (clock.now() - T0 >= timedelta(minutes=30))
        [alert] = store.alerts(rule="feed_silent")
        assert alert.facts["Feed"] == "LookupEvents"

        clock.advance(minutes=5)
        stub.add_client_error("lookup_events", "ThrottlingException", http_status_code=400)
        poller.poll_once()
        watch.check()
        assert len(store.alerts()) == 1  # more failures: no second alert

        clock.advance(minutes=1)
        stub.add_response("lookup_events", {"Events": []})
        poller.poll_once()
        watch.check()
        stub.assert_no_pending_responses()
    assert store.cursor(SILENCE) == ""  # back: the silence is over (no reply hook here)
    assert len(store.alerts()) == 1
