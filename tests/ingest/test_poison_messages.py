"""Poison SQS messages never stall the queue: unreadable ones are dead-lettered and deleted (at once when they can
never parse, at the receive limit otherwise), and only AWS errors make the worker back off.

moto SQS and S3, the real pipeline, a real SQLite file; the worker's own `run` loop where back-off matters.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from app.wiring import event_source
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from ingest.sqs_worker import SqsWorker
from storage import Store

BUCKET = "trail-bucket"
POISON = '{"eventName":"x","deep":' + "[" * 100_000 + "]" * 100_000 + "}"


class PauseRecorder(threading.Event):
    """The worker's stop event, recording every back-off pause `run` asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.pauses.append(timeout or 0.0)
        return super().wait(timeout)


@pytest.fixture
def file_store(tmp_path: Path) -> Iterator[Store]:
    db = Store(tmp_path / "warden.db")
    yield db
    db.close()


@pytest.fixture
def alerted() -> list[int]:
    return []


@pytest.fixture
def file_pipeline(file_store: Store, alerted: list[int]) -> Pipeline:
    return Pipeline(file_store, PipelineContext(file_store), on_alerts=alerted.extend)


@pytest.fixture
def queue_url(sqs) -> str:
    # Visibility 0: a message left in the queue comes back at the next poll, as after its timeout in production.
    return sqs.create_queue(QueueName="iam-warden", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]


def send(sqs, queue_url: str, body: object) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    return sqs.send_message(QueueUrl=queue_url, MessageBody=text)["MessageId"]


def queued(sqs, queue_url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def count_polls(worker: SqsWorker) -> list[int]:
    """Wraps worker.poll_once; the list gets each poll's message count."""
    polls: list[int] = []
    poll_once = worker.poll_once

    def counting() -> int:
        polls.append(poll_once())
        return polls[-1]

    worker.poll_once = counting  # type: ignore[method-assign]
    return polls


def run_until(worker: SqsWorker, done: Callable[[], bool], timeout: float = 30.0) -> PauseRecorder:
    """Run the worker's own loop in a thread until `done()` (or the timeout); returns its stop event."""
    stop = PauseRecorder()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    return stop


def raising_on(pipeline: Pipeline, event_id: str) -> list[int]:
    """Make the pipeline raise on every batch holding `event_id` (a rule's bug, hostile content); returns the
    list that counts those attempts."""
    attempts: list[int] = []
    process = pipeline.process

    def process_or_raise(records, source):
        if any(isinstance(r, dict) and r.get("eventID") == event_id for r in records):
            attempts.append(1)
            raise RuntimeError("a rule crashed")
        return process(records, source)

    pipeline.process = process_or_raise  # type: ignore[method-assign]
    return attempts


def test_deeply_nested_poison_never_delays_the_valid_events(
    sqs, s3, queue_url, file_pipeline, file_store, alerted, create_user, envelopes
):
    poison_ids = [send(sqs, queue_url, POISON) for _ in range(2)]
    records = [create_user(f"user-{i}") for i in range(50)]
    for record in records:
        send(sqs, queue_url, envelopes.eventbridge(record))
    worker = SqsWorker(sqs, s3, queue_url, file_pipeline, wait_seconds=1)  # the default 60 s max back-off
    polls = count_polls(worker)

    stop = run_until(worker, lambda: len(file_store.alerts()) == 50 and len(file_store.dead_letters()) == 2)

    assert {a.event_id for a in file_store.alerts(rule="user_created")} == {r["eventID"] for r in records}
    assert len(alerted) == 50  # the poster was woken for every alert
    letters = file_store.dead_letters()
    assert sorted(letter.source for letter in letters) == sorted(f"sqs:{i}" for i in poison_ids)
    assert all("nested too deep" in letter.reason and letter.body == POISON for letter in letters)
    assert queued(sqs, queue_url) == 0
    assert stop.pauses == [], "bad content must not make the worker back off"
    assert sum(1 for n in polls if n) <= 7  # 52 messages, 10 a poll


@pytest.mark.parametrize("max_receives", [1, 3])
def test_message_failing_every_time_is_dead_lettered_at_the_receive_limit(
    sqs, s3, queue_url, file_pipeline, file_store, create_user, envelopes, max_receives
):
    bad = create_user("crashes-a-rule")
    attempts = raising_on(file_pipeline, bad["eventID"])
    bad_id = send(sqs, queue_url, envelopes.eventbridge(bad))
    good = [create_user(f"fine-{i}") for i in range(5)]
    for record in good:
        send(sqs, queue_url, envelopes.eventbridge(record))
    worker = SqsWorker(sqs, s3, queue_url, file_pipeline, wait_seconds=1, max_receives=max_receives)
    polls = count_polls(worker)

    stop = run_until(worker, lambda: queued(sqs, queue_url) == 0)

    assert len(attempts) == max_receives
    [letter] = file_store.dead_letters()
    assert letter.source == f"sqs:{bad_id}"
    assert f"not processed in {max_receives} receives (RuntimeError)" == letter.reason
    assert json.loads(letter.body)["detail"]["eventID"] == bad["eventID"]
    assert {a.event_id for a in file_store.alerts()} == {r["eventID"] for r in good}
    assert stop.pauses == [] and len([n for n in polls if n]) == max_receives


def test_one_failing_record_of_a_log_file_is_dead_lettered_and_the_others_stored(
    sqs, s3, queue_url, file_pipeline, file_store, create_user, envelopes
):
    records = [create_user("alice"), create_user("crashes-a-rule"), create_user("bob")]
    attempts = raising_on(file_pipeline, records[1]["eventID"])
    s3.create_bucket(Bucket=BUCKET)
    key = envelopes.log_key()
    s3.put_object(Bucket=BUCKET, Key=key, Body=envelopes.gzipped_log(records))
    message_id = send(sqs, queue_url, envelopes.s3_notification(BUCKET, key))
    worker = SqsWorker(sqs, s3, queue_url, file_pipeline, wait_seconds=0, max_receives=2)

    worker.poll_once()
    assert (worker.failed, worker.aws_failed) == (1, 0)
    assert file_store.alerts() == [] and queued(sqs, queue_url) == 1  # a batch is stored whole or not at all
    worker.poll_once()  # the last try: record by record

    assert sorted(a.target.rsplit("/", 1)[-1] for a in file_store.alerts()) == ["alice", "bob"]
    [letter] = file_store.dead_letters()
    assert letter.source == f"sqs:{message_id}" and "RuntimeError" in letter.reason
    assert json.loads(letter.body)["eventID"] == records[1]["eventID"]
    assert len(attempts) == 3 and queued(sqs, queue_url) == 0  # the batch twice, then the record alone


class ThrottledS3:
    """An S3 client throttled (a transient AWS error) on every read."""

    def __init__(self) -> None:
        self.reads = 0

    def get_object(self, **_: object):
        self.reads += 1
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, "GetObject")


def test_aws_errors_back_off_and_stay_queued_past_the_limit_while_bad_content_goes(
    sqs, queue_url, file_pipeline, file_store, create_user, envelopes
):
    s3 = ThrottledS3()
    bad = create_user("crashes-a-rule")
    raising_on(file_pipeline, bad["eventID"])
    bad_id = send(sqs, queue_url, envelopes.eventbridge(bad))
    send(sqs, queue_url, envelopes.s3_notification(BUCKET, envelopes.log_key()))
    worker = SqsWorker(sqs, s3, queue_url, file_pipeline, wait_seconds=0, max_backoff=0.01, max_receives=3)

    stop = run_until(worker, lambda: s3.reads >= 5)

    [letter] = file_store.dead_letters()  # the bad content, at its third receive
    assert letter.source == f"sqs:{bad_id}"
    assert s3.reads >= 5 and queued(sqs, queue_url) == 1  # throttled: never dead-lettered, still queued
    assert len(stop.pauses) >= 4  # one pause per poll that met the throttling


@pytest.mark.parametrize("max_receives", [1, 2])
def test_the_bot_gives_its_worker_the_configured_receive_limit(aws, make_bot, create_user, envelopes, max_receives):
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName="iam-warden", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    bot = make_bot(session=aws, sqs_queue_url=queue, sqs_max_receives=max_receives)
    worker = event_source(bot.rt)
    worker.wait_seconds = 0
    bad = create_user("crashes-a-rule")
    raising_on(bot.rt.pipeline, bad["eventID"])
    send(sqs, queue, envelopes.eventbridge(bad))
    for _ in range(max_receives):
        assert bot.store.dead_letters() == [] and queued(sqs, queue) == 1
        worker.poll_once()
    [letter] = bot.store.dead_letters()
    assert f"not processed in {max_receives} receives" in letter.reason
    assert queued(sqs, queue) == 0
