"""Consume the SQS queue fed by EventBridge (or S3/CloudTrail notifications): at-least-once, never lossy.

A message is deleted only once everything in it is durably stored: its records and alerts by the pipeline, or
the message itself as a dead letter. Anything transient leaves the message in the queue; SQS redelivers it
after the visibility timeout, the pipeline's eventID dedupe makes the redelivery harmless, and the queue's own
redrive policy moves a poison message to its DLQ after maxReceiveCount.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ingest.envelopes import MalformedMessage, unwrap
from ingest.pipeline import Pipeline
from ingest.s3_objects import read_cloudtrail_object

log = logging.getLogger(__name__)

# S3 errors that no retry will fix: the message is kept as a dead letter instead of being redelivered forever.
PERMANENT_S3_ERRORS = frozenset(
    {"NoSuchKey", "NoSuchBucket", "AccessDenied", "AllAccessDisabled", "InvalidObjectState", "403", "404"}
)


class SqsWorker:
    """Long-polls one queue and feeds every message through the pipeline."""

    def __init__(
        self,
        sqs_client: Any,
        s3_client: Any,
        queue_url: str,
        pipeline: Pipeline,
        wait_seconds: int = 20,
        max_messages: int = 10,
        on_received: Callable[[str, float], None] | None = None,
        max_backoff: float = 60.0,
    ) -> None:
        self.sqs = sqs_client
        self.s3 = s3_client
        self.queue_url = queue_url
        self.pipeline = pipeline
        self.wait_seconds = wait_seconds
        self.max_messages = max_messages
        self.on_received = on_received  # (message id, time.monotonic()) as each message arrives
        self.max_backoff = max_backoff
        self.failed = 0  # messages left in the queue by the last poll because of a transient error

    def poll_once(self) -> int:
        """Receive one batch (long poll) and handle each message; returns how many messages arrived.

        Errors receiving the batch propagate; errors handling a message are logged and leave it queued.
        """
        reply = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.max_messages,
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages = reply.get("Messages", [])
        self.failed = 0
        for message in messages:
            if self.on_received:
                self.on_received(message["MessageId"], time.monotonic())
            if not self.handle(message):
                self.failed += 1
        return len(messages)

    def handle(self, message: dict) -> bool:
        """Process and delete one message; False when a transient error left it in the queue."""
        message_id = message["MessageId"]
        source = f"sqs:{message_id}"
        body = message.get("Body", "")
        try:
            try:
                unwrapped = unwrap(body)
            except MalformedMessage as err:
                self.pipeline.dead_letter(source, err.reason, body)
                self._delete(message)
                return True
            records = list(unwrapped.records)
            unreadable: list[str] = []
            for bucket, key in unwrapped.s3_objects:
                try:
                    records.extend(read_cloudtrail_object(self.s3, bucket, key))
                except ClientError as err:
                    code = str(err.response.get("Error", {}).get("Code", ""))
                    if code not in PERMANENT_S3_ERRORS:
                        raise
                    unreadable.append(f"cannot read s3://{bucket}/{key}: {code}")
                except MalformedMessage as err:
                    unreadable.append(f"s3://{bucket}/{key}: {err.reason}")
            self.pipeline.process(records, source=source)
            # Dead letters only after the records are stored, so a failed attempt does not keep them twice.
            for reason in unreadable:
                self.pipeline.dead_letter(source, reason, body)
            self._delete(message)
            return True
        except Exception:
            receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
            log.exception("SQS message %s (receive %s) not processed; it stays queued", message_id, receives)
            return False

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set, backing off while errors repeat; never raises."""
        streak = 0
        while not stop.is_set():
            try:
                self.poll_once()
                streak = streak + 1 if self.failed else 0
            except Exception as err:
                streak += 1
                if streak == 1:
                    log.exception("receiving from SQS failed")
                else:
                    log.warning("receiving from SQS failed (%d in a row): %s", streak, type(err).__name__)
            if streak:
                stop.wait(min(self.max_backoff, 2.0 ** min(streak, 16)))

    def _delete(self, message: dict) -> None:
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
