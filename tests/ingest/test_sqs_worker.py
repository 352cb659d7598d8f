"""The SQS worker end to end against moto SQS and S3: store first, delete after, never lose a message."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ingest.sqs_worker import SqsWorker

BUCKET = "trail-bucket"


@pytest.fixture
def queue_url(sqs):
    # Visibility 0: a message left in the queue is receivable again at once, as after its timeout.
    return sqs.create_queue(QueueName="iam-warden", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]


@pytest.fixture
def worker(sqs, s3, queue_url, pipeline):
    return SqsWorker(sqs, s3, queue_url, pipeline, wait_seconds=0)


def queued(sqs, queue_url) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def send(sqs, queue_url, body: object) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    return sqs.send_message(QueueUrl=queue_url, MessageBody=text)["MessageId"]


def test_message_deleted_only_after_storing(sqs, queue_url, worker, pipeline, store, create_user, envelopes):
    record = create_user()
    message_id = send(sqs, queue_url, envelopes.eventbridge(record))
    seen_in_queue: list[int] = []
    process = pipeline.process

    def checking_process(records, source):
        seen_in_queue.append(queued(sqs, queue_url))  # still queued while being stored
        return process(records, source)

    pipeline.process = checking_process
    assert worker.poll_once() == 1
    assert seen_in_queue == [1]
    assert queued(sqs, queue_url) == 0
    [alert] = store.alerts(rule="user_created")
    assert alert.event_id == record["eventID"]
    assert store.seen_events([record["eventID"]]) == {record["eventID"]}
    assert store.db["events"].get(record["eventID"])["source"] == f"sqs:{message_id}"


def test_redelivery_stores_nothing_new(sqs, queue_url, worker, store, create_user, envelopes):
    body = envelopes.eventbridge(create_user())
    send(sqs, queue_url, body)
    worker.poll_once()
    send(sqs, queue_url, body)  # the same event delivered again (at-least-once)
    worker.poll_once()
    assert store.db["events"].count == 1
    assert len(store.alerts()) == 1
    assert queued(sqs, queue_url) == 0


def test_malformed_message_dead_lettered_and_deleted_and_worker_keeps_going(
    sqs, queue_url, worker, store, create_user, envelopes
):
    bad_id = send(sqs, queue_url, "this is { not json")
    good = create_user()
    send(sqs, queue_url, envelopes.sns(envelopes.eventbridge(good)))
    handled = 0
    while handled < 2:
        handled += worker.poll_once()
    [letter] = store.dead_letters()
    assert letter.source == f"sqs:{bad_id}"
    assert "not JSON" in letter.reason
    assert letter.body == "this is { not json"
    assert [a.event_id for a in store.alerts()] == [good["eventID"]]
    assert queued(sqs, queue_url) == 0


def test_s3_notification_reads_the_gzipped_log(sqs, s3, queue_url, worker, store, create_user, root_login, envelopes):
    records = [create_user(), root_login()]
    s3.create_bucket(Bucket=BUCKET)
    key = envelopes.log_key("111122223333_CloudTrail_us-east-1_20240514T0915Z_x y.json.gz")
    s3.put_object(Bucket=BUCKET, Key=key, Body=envelopes.gzipped_log(records))
    send(sqs, queue_url, envelopes.s3_notification(BUCKET, key))
    worker.poll_once()
    assert sorted(a.rule for a in store.alerts()) == ["root_login", "user_created"]
    assert queued(sqs, queue_url) == 0


def test_cloudtrail_sns_notification_reads_every_file(sqs, s3, queue_url, worker, store, create_user, envelopes):
    s3.create_bucket(Bucket=BUCKET)
    keys = [envelopes.log_key("a.json.gz"), envelopes.log_key("b.json.gz")]
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=envelopes.gzipped_log([create_user()]))
    send(sqs, queue_url, envelopes.sns({"s3Bucket": BUCKET, "s3ObjectKey": keys}))
    worker.poll_once()
    assert len(store.alerts(rule="user_created")) == 2


def test_missing_s3_object_dead_lettered(sqs, s3, queue_url, worker, store, envelopes):
    s3.create_bucket(Bucket=BUCKET)
    key = envelopes.log_key("gone.json.gz")
    send(sqs, queue_url, envelopes.s3_notification(BUCKET, key))
    worker.poll_once()
    [letter] = store.dead_letters()
    assert f"s3://{BUCKET}/{key}" in letter.reason and "NoSuchKey" in letter.reason
    assert queued(sqs, queue_url) == 0


def test_missing_bucket_dead_lettered(sqs, queue_url, worker, store, envelopes):
    send(sqs, queue_url, envelopes.s3_notification("no-such-bucket", envelopes.log_key()))
    worker.poll_once()
    [letter] = store.dead_letters()
    assert "s3://no-such-bucket/" in letter.reason and "NoSuchBucket" in letter.reason
    assert queued(sqs, queue_url) == 0


def test_one_missing_object_does_not_lose_the_others(sqs, s3, queue_url, worker, store, create_user, envelopes):
    s3.create_bucket(Bucket=BUCKET)
    present, missing = envelopes.log_key("present.json.gz"), envelopes.log_key("missing.json.gz")
    s3.put_object(Bucket=BUCKET, Key=present, Body=envelopes.gzipped_log([create_user()]))
    send(sqs, queue_url, {"s3Bucket": BUCKET, "s3ObjectKey": [present, missing]})
    worker.poll_once()
    assert len(store.alerts(rule="user_created")) == 1
    [letter] = store.dead_letters()
    assert "missing.json.gz" in letter.reason


def test_corrupt_s3_object_dead_lettered(sqs, s3, queue_url, worker, store, envelopes):
    s3.create_bucket(Bucket=BUCKET)
    key = envelopes.log_key("corrupt.json.gz")
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"\x1f\x8b\x08garbage")
    send(sqs, queue_url, envelopes.s3_notification(BUCKET, key))
    worker.poll_once()
    [letter] = store.dead_letters()
    assert "gzip" in letter.reason and key in letter.reason
    assert queued(sqs, queue_url) == 0


def test_pipeline_failure_leaves_the_message(sqs, queue_url, worker, pipeline, store, create_user, envelopes, caplog):
    record = create_user()
    send(sqs, queue_url, envelopes.eventbridge(record))
    process = pipeline.process
    calls = {"n": 0}

    def flaky(records, source):
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("database is locked")
        return process(records, source)

    pipeline.process = flaky
    with caplog.at_level(logging.ERROR, logger="ingest.sqs_worker"):
        assert worker.poll_once() == 1
    assert worker.failed == 1
    assert queued(sqs, queue_url) == 1
    assert store.alerts() == []
    [logged] = [r for r in caplog.records if r.name == "ingest.sqs_worker"]
    assert logged.exc_info and record["eventID"] not in logged.getMessage()
    assert worker.poll_once() == 1  # redelivered
    assert worker.failed == 0
    assert len(store.alerts()) == 1
    assert queued(sqs, queue_url) == 0


class ThrottledS3:
    """An S3 client that is throttled (a transient error) on every read."""

    def get_object(self, **_: object):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, "GetObject")


def test_transient_s3_error_leaves_the_message(sqs, queue_url, pipeline, store, envelopes):
    worker = SqsWorker(sqs, ThrottledS3(), queue_url, pipeline, wait_seconds=0)
    send(sqs, queue_url, envelopes.s3_notification(BUCKET, envelopes.log_key()))
    worker.poll_once()
    assert worker.failed == 1
    assert store.dead_letters() == []
    assert queued(sqs, queue_url) == 1


def test_on_received_reports_each_message(sqs, s3, queue_url, pipeline, create_user, envelopes):
    seen: list[tuple[str, float]] = []
    worker = SqsWorker(sqs, s3, queue_url, pipeline, wait_seconds=0, on_received=lambda i, t: seen.append((i, t)))
    ids = {send(sqs, queue_url, envelopes.eventbridge(create_user())) for _ in range(3)}
    before = time.monotonic()
    while len(seen) < 3:
        worker.poll_once()
    assert {i for i, _ in seen} == ids
    assert all(before <= t <= time.monotonic() for _, t in seen)


def test_run_processes_until_stopped(sqs, s3, queue_url, pipeline, store, create_user, envelopes):
    worker = SqsWorker(sqs, s3, queue_url, pipeline, wait_seconds=1)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    send(sqs, queue_url, envelopes.eventbridge(create_user()))
    deadline = time.monotonic() + 10
    while not store.alerts() and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(store.alerts()) == 1


class DownSqs:
    """An SQS client whose endpoint cannot be reached."""

    def __init__(self) -> None:
        self.calls = 0

    def receive_message(self, **_: object):
        self.calls += 1
        raise EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com/")


def test_run_backs_off_and_survives_receive_errors(pipeline, caplog):
    sqs = DownSqs()
    worker = SqsWorker(sqs, None, "https://sqs.us-east-1.amazonaws.com/111122223333/q", pipeline, max_backoff=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    with caplog.at_level(logging.WARNING, logger="ingest.sqs_worker"):
        thread.start()
        deadline = time.monotonic() + 5
        while sqs.calls < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive() and sqs.calls >= 3
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1  # one traceback per run of failures, then one line each
    assert any("in a row" in r.getMessage() for r in caplog.records)
