"""Poison messages vs. the valid ones behind them (figures printed, not asserted).

50 CreateUser events queued behind 2 poison messages (`{"eventName":"x","deep":` + `[`x100000 + `]`x100000 + `}`),
and the same 50 without poison. The real SqsWorker loop (`run`, with its back-off), the real pipeline and a SQLite
file, moto SQS in process with the shipped queue's visibility timeout (120 s; --visibility 0 makes a message left
in the queue come back at the next poll, as the issue's run saw it). Per event: time from
send_message to the pipeline returning with it stored; and how many polls it took.
Goal: the same figures with and without poison, within one poll interval (--wait, the long poll).

Run: .venv/bin/python bench/poison.py [--events 50] [--wait 1] [--visibility 120] [--timeout 120]
(The same file runs against the code before the fix, 5ddd56d, for comparison.)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

for key, value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(key, value)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from detections import example_records  # noqa: E402
from ingest.context import PipelineContext  # noqa: E402
from ingest.pipeline import Pipeline  # noqa: E402
from ingest.sqs_worker import SqsWorker  # noqa: E402
from storage import Store  # noqa: E402

POISON = '{"eventName":"x","deep":' + "[" * 100_000 + "]" * 100_000 + "}"


def create_user_event(n: int) -> tuple[str, str]:
    """(eventID, EventBridge message body) of a CreateUser the user_created rule alerts on."""
    event_id = f"00000000-0000-4000-8000-{n:012d}"
    user = f"bench-user-{n}"
    record = example_records.iam_call(
        "CreateUser",
        {"userName": user},
        {
            "user": {
                "path": "/",
                "userName": user,
                "userId": example_records.user_id(user),
                "arn": example_records.user_arn(user),
            }
        },
        event_id=event_id,
    )
    body = {
        "version": "0",
        "id": event_id,
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "account": example_records.ACCOUNT,
        "time": record["eventTime"],
        "region": "us-east-1",
        "resources": [],
        "detail": record,
    }
    return event_id, json.dumps(body)


def run_case(label: str, poison: int, events: int, args: argparse.Namespace, workdir: Path) -> None:
    """Queue `poison` poison messages then `events` valid ones, run the worker until all are stored, print."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(
            QueueName="iam-warden-events",
            Attributes={"VisibilityTimeout": str(args.visibility), "ReceiveMessageWaitTimeSeconds": "20"},
        )["QueueUrl"]
        store = Store(workdir / f"{label}.db")
        pipeline = Pipeline(store, PipelineContext(store))
        stored: dict[str, float] = {}
        process = pipeline.process

        def timed_process(records, source):
            result = process(records, source)
            now = time.monotonic()
            for record in records:
                if isinstance(record, dict) and isinstance(record.get("eventID"), str):
                    stored.setdefault(record["eventID"], now)
            return result

        pipeline.process = timed_process  # type: ignore[method-assign]
        worker = SqsWorker(sqs, boto3.client("s3", region_name="us-east-1"), queue, pipeline, wait_seconds=args.wait)
        polls: list[int] = []
        poll_once = worker.poll_once

        def counted_poll() -> int:
            polls.append(poll_once())
            return polls[-1]

        worker.poll_once = counted_poll  # type: ignore[method-assign]

        sent: dict[str, float] = {}
        for _ in range(poison):
            sqs.send_message(QueueUrl=queue, MessageBody=POISON)
        for n in range(1, events + 1):
            event_id, body = create_user_event(n)
            sent[event_id] = time.monotonic()
            sqs.send_message(QueueUrl=queue, MessageBody=body)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        deadline = time.monotonic() + args.timeout
        while len(stored.keys() & sent.keys()) < events and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        thread.join(timeout=args.wait + 5)

        latencies = [stored[e] - sent[e] for e in sent if e in stored]
        figures = (
            f"p50 {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s" if latencies else "none stored"
        )
        print(
            f"{label}: {len(latencies)}/{events} events stored and alerted ({len(store.alerts())} alerts) within "
            f"{args.timeout:.0f} s; sent -> stored {figures}; polls with messages {sum(1 for n in polls if n)}, "
            f"polls in all {len(polls)}; dead letters {len(store.dead_letters())}"
        )
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--wait", type=int, default=1, help="the worker's long poll (production: 20 s)")
    parser.add_argument("--visibility", type=int, default=120, help="the queue's visibility timeout (s)")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up on a case after this many seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the dead letters' warnings would interleave with the figures
    workdir = Path(tempfile.mkdtemp(prefix="iam-warden-poison-"))
    run_case("warm-up (moto, imports)", 0, 10, args, workdir)
    run_case("without poison", 0, args.events, args, workdir)
    run_case("behind 2 poison messages", 2, args.events, args, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
