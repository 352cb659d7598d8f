"""Consume the SQS queue fed by EventBridge (or S3/CloudTrail notifications): at-least-once, never lossy.

A message is deleted only once everything in it is durably stored: its records and alerts by the pipeline, or
the message itself as a dead letter. Bad content never holds the queue up:

- a message that can never parse is kept as a dead letter and deleted at once (the feed's scheduled heartbeat
  parses: it holds no records and is deleted like any stored message);
- a message that fails for any other reason stays queued (SQS redelivers it after the visibility timeout; the
  pipeline's eventID dedupe makes the redelivery harmless) until its `max_receives`-th receive, when the records
  that fail alone are dead-lettered, the others stored, and the message deleted;
- only AWS errors (receiving, reading S3, deleting) make the worker back off; they leave the message queued
  whatever its receive count, and the queue's own redrive policy (maxReceiveCount above `max_receives`) is the
  last net for an outage.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ingest.envelopes import MalformedMessage, unwrap
from ingest.pipeline import Pipeline
from ingest.s3_objects import read_cloudtrail_object

log = logging.getLogger(__name__)

# S3 errors that no retry will fix: the message is kept as a dead letter instead of being redelivered forever.
PERMANENT_S3_ERRORS = frozenset(
    {"NoSuchKey", "NoSuchBucket", "AccessDenied", "AllAccessDisabled", "InvalidObjectState", "403", "404"}
)
AWS_ERRORS = (ClientError, BotoCoreError)


class Outcome(enum.Enum):
    """What handling one message did."""

    DONE = "done"  # stored (records, dead letters) and deleted from the queue
    RETRY = "retry"  # failed on its content or locally; left queued for its next receive
    AWS_ERROR = "aws_error"  # an AWS call failed; left queued, and the worker backs off


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
        max_receives: int = 3,
        on_alive: Callable[[], None] | None = None,
    ) -> None:
        self.sqs = sqs_client
        self.s3 = s3_client
        self.queue_url = queue_url
        self.pipeline = pipeline
        self.wait_seconds = wait_seconds
        self.max_messages = max_messages
        self.on_received = on_received  # (message id, time.monotonic()) as each message arrives
        self.max_backoff = max_backoff
        self.max_receives = max_receives  # the receive on which a failing message is dead-lettered and deleted
        self.on_alive = on_alive  # called when a poll brought messages: the feed's watchdog counts them as life
        self.heartbeats = 0  # scheduled heartbeats consumed since start
        self.failed = 0  # messages the last poll left in the queue, for any reason
        self.aws_failed = 0  # of those, the ones an AWS error left there (these alone make `run` back off)

    def poll_once(self) -> int:
        """Receive one batch (long poll) and handle each message; returns how many messages arrived.

        Errors receiving the batch propagate; errors handling a message are logged, never raised (see `handle`).
        """
        reply = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.max_messages,
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages = reply.get("Messages", [])
        self.failed = self.aws_failed = 0
        if messages and self.on_alive:
            self.on_alive()  # whatever the messages hold, the feed delivered them
        for message in messages:
            if self.on_received:
                self.on_received(message["MessageId"], time.monotonic())
            outcome = self.handle(message)
            self.failed += outcome is not Outcome.DONE
            self.aws_failed += outcome is Outcome.AWS_ERROR
        return len(messages)

    def handle(self, message: dict) -> Outcome:
        """Process one message: stored and deleted, or left queued (see the module docstring for which)."""
        message_id = message["MessageId"]
        source = f"sqs:{message_id}"
        body = message.get("Body", "")
        receives = receive_count(message)
        try:
            try:
                unwrapped = unwrap(body)
            except MalformedMessage as err:
                self.pipeline.dead_letter(source, err.reason, body)
                self._delete(message)
                return Outcome.DONE
            self.heartbeats += unwrapped.heartbeats
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
            self._process(records, source, last_try=receives >= self.max_receives)
            # Dead letters only after the records are stored, so a failed attempt does not keep them twice.
            for reason in unreadable:
                self.pipeline.dead_letter(source, reason, body)
            self._delete(message)
            return Outcome.DONE
        except AWS_ERRORS as err:
            log.warning("SQS message %s (receive %d) stays queued: AWS error %s", message_id, receives, _aws_code(err))
            return Outcome.AWS_ERROR
        except Exception as err:
            if receives >= self.max_receives:
                return self._give_up(message, source, body, receives, err)
            log.exception("SQS message %s (receive %d) not processed; it stays queued", message_id, receives)
            return Outcome.RETRY

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set, backing off while AWS errors repeat; never raises."""
        streak = 0
        while not stop.is_set():
            try:
                self.poll_once()
                streak = streak + 1 if self.aws_failed else 0
            except Exception as err:
                streak += 1
                if streak == 1:
                    log.exception("receiving from SQS failed")
                else:
                    log.warning("receiving from SQS failed (%d in a row): %s", streak, type(err).__name__)
            if streak:
                stop.wait(min(self.max_backoff, 2.0 ** min(streak, 16)))

    def _process(self, records: list[object], source: str, last_try: bool) -> None:
        """Store the records as one batch; on the last try, a failed batch is retried record by record so one
        record that always fails (hostile content, a rule's bug) is dead-lettered without losing the others."""
        try:
            self.pipeline.process(records, source=source)
            return
        except AWS_ERRORS:
            raise
        except Exception:
            if not last_try or len(records) < 2:
                raise
            log.warning("batch from %s failed on its last try; storing its %d records one by one", source, len(records))
        # Oldest first, as the pipeline orders a batch: each stored record is visible to the next one's rules.
        for record in sorted(records, key=lambda r: str(r.get("eventTime", "")) if isinstance(r, dict) else ""):
            try:
                self.pipeline.process([record], source=source)
            except AWS_ERRORS:
                raise
            except Exception as err:
                self.pipeline.dead_letter(source, f"record failed on the last try ({type(err).__name__})", record)

    def _give_up(self, message: dict, source: str, body: str, receives: int, err: Exception) -> Outcome:
        """Keep a message that failed on its last allowed receive as a dead letter, and delete it."""
        log.error(
            "SQS message %s failed on receive %d of %d; kept as a dead letter",
            message["MessageId"],
            receives,
            self.max_receives,
            exc_info=err,
        )
        reason = f"not processed in {receives} receives ({type(err).__name__})"
        try:
            self.pipeline.dead_letter(source, reason, body)
            self._delete(message)
        except AWS_ERRORS:
            log.warning("SQS message %s: deleting it failed; it stays queued", message["MessageId"], exc_info=True)
            return Outcome.AWS_ERROR
        except Exception:
            log.exception("SQS message %s could not be kept as a dead letter; it stays queued", message["MessageId"])
            return Outcome.RETRY
        return Outcome.DONE

    def _delete(self, message: dict) -> None:
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def receive_count(message: dict) -> int:
    """How many times SQS has delivered the message, this time included (1 when SQS did not say)."""
    try:
        return max(1, int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1)))
    except (TypeError, ValueError):
        return 1


def _aws_code(err: Exception) -> str:
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code", "")) or type(err).__name__
    return type(err).__name__
