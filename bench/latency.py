"""Latency figures of the live path (printed, not asserted).

1. SQS receipt -> chat.postMessage: root sign-in events sent one by one to an SQS queue (moto, in process),
   consumed by the real SqsWorker, pipeline and outbox poster, posted to the local Slack stand-in.
   Goal: p50 <= 1 s.
   Incidents are on (a 10-minute thread window): the sign-ins are one actor's, so each after the first is a
   reply in the incident's thread and its post includes the parent's redraw (chat.update).
2. Button ack with the incident updates in place: 20 concurrent signed `iam_ack` clicks at a time against the
   real Bolt app served by waitress, timed by the clicking side from sending the signed request to reading the
   reply. Each click lands on the first alert of its own incident (`--incident-events` alerts each, posted
   through the real outbox beforehand), so each click's lazy work acknowledges it and redraws the incident's
   parent in place; the bench counts those redraws at the stand-in. Three processes, as in production: the bot,
   the Slack Web API stand-in its lazy work calls, and the clicking users.
   Goal: p99 <= 50 ms.

Run: .venv/bin/python bench/latency.py [--events 20] [--rounds 10] [--incident-events 3] [--warmup-rounds 0]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
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
from waitress import create_server  # noqa: E402

from app.http import wsgi_app  # noqa: E402
from app.wiring import build  # noqa: E402
from config import Settings  # noqa: E402
from core.actions import ActionId  # noqa: E402
from core.severity import Severity  # noqa: E402
from core.states import PostState  # noqa: E402
from ingest.sqs_worker import SqsWorker  # noqa: E402
from standins.slack import FakeSlack  # noqa: E402
from tests import outbox  # noqa: E402
from tests.conftest import Bot, post  # noqa: E402

ACCOUNT = "111122223333"


def root_login(event_id: str) -> dict:
    """An EventBridge event around a root console sign-in without MFA."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS Console Sign In via CloudTrail",
        "source": "aws.signin",
        "account": ACCOUNT,
        "region": "us-east-1",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "Root",
                "principalId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:root",
                "accountId": ACCOUNT,
            },
            "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.10",
            "userAgent": "Mozilla/5.0",
            "requestParameters": None,
            "responseElements": {"ConsoleLogin": "Success"},
            "additionalEventData": {
                "LoginTo": "https://console.aws.amazon.com/",
                "MobileVersion": "No",
                "MFAUsed": "No",
            },
            "eventID": event_id,
            "readOnly": False,
            "eventType": "AwsConsoleSignIn",
            "managementEvent": True,
            "recipientAccountId": ACCOUNT,
            "eventCategory": "Management",
        },
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def slack_api(conn: Connection) -> None:
    """The Slack Web API stand-in, in its own process as in production; answers "updates" (how many chat.update
    calls it took) until told "stop"."""
    fake = FakeSlack()
    fake.start()
    conn.send(fake.base_url)
    while conn.recv() == "updates":
        conn.send(len(fake.calls_of("chat.update")))
    fake.stop()


def incidents_to_click(rt, count: int, events: int) -> list:
    """`count` incidents of `events` alerts each (one actor each: a high root, a critical reply, medium ones),
    posted through the real outbox; returns each incident's first alert, whose message is its parent."""
    batch = []
    for i in range(count):
        actor = f"arn:aws:iam::{ACCOUNT}:user/bench-{i}"
        for j in range(events):
            severity = Severity.HIGH if j == 0 else Severity.CRITICAL if j == 1 else Severity.MEDIUM
            batch.append(outbox.alert(i * events + j, actor=actor, severity=severity))
    ids = outbox.stored(rt.store, *batch)
    rt.poster.min_interval = 0.0  # the stand-in does not rate-limit; setting up is not what is measured
    rt.poster.wake()
    deadline = time.monotonic() + 600
    while rt.store.counts().unposted and time.monotonic() < deadline:
        time.sleep(0.2)
    rt.poster.min_interval = 1.0
    roots = [rt.store.alert(i) for i in ids[::events]]
    assert all(r.post_state == PostState.POSTED and r.thread_ts is None for r in roots), "an incident was not posted"
    assert all(rt.store.incident(r.incident_id).events == events for r in roots), "an incident did not fold"
    return roots


@dataclass
class _ResponseUrls:
    """What `Bot.click` needs from the stand-in: response_url addresses (the clickers run apart from it)."""

    base: str

    def response_url(self, name: str = "r") -> str:
        return f"{self.base.removesuffix('/api/')}/respond/{name}"


def clickers(conn: Connection) -> None:
    """The people clicking: 20 threads released together per round, in a process of their own (in production
    the clicks come from Slack's servers, which share nothing with the bot nor with the Web API)."""
    url, secret, api_url, alerts, rounds, warmup = conn.recv()
    driver = Bot(None, url, _ResponseUrls(api_url), None, secret=secret)
    durations: list[float] = []
    failures: list[str] = []
    round_max: list[float] = []
    for round_no in range(warmup + rounds):
        barrier = threading.Barrier(20)
        if round_no == warmup:  # the rounds before warm the bot up (first connections, pools) and are not kept
            durations.clear()
            failures.clear()
            round_max.clear()

        def click(i: int, round_no: int = round_no, barrier: threading.Barrier = barrier) -> None:
            alert = alerts[(round_no * 20 + i) % len(alerts)]
            # Built and signed before the clock starts: Slack's servers do that work, not the bot.
            body, headers = driver.signed(driver.click_payload(alert, ActionId.ACK, "U0ADMIN1"))
            barrier.wait()
            start = time.perf_counter()
            reply = post(url, body, headers, "application/x-www-form-urlencoded")
            durations.append(time.perf_counter() - start)
            if reply.status != 200:
                failures.append(f"{reply.status} {reply.body[:80]}")

        threads = [threading.Thread(target=click, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        round_max.append(max(durations[-20:]))
        time.sleep(0.5)  # let the bot finish this round's lazy work, as spaced human clicks would
    conn.send((durations, failures, round_max))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--incident-events", type=int, default=3, help="alerts in each clicked incident (>= 2)")
    parser.add_argument("--warmup-rounds", type=int, default=0, help="rounds of clicks before the measured ones")
    args = parser.parse_args()
    fork = multiprocessing.get_context("fork")
    parent, child = fork.Pipe()
    slack = fork.Process(target=slack_api, args=(child,), daemon=True)
    slack.start()
    slack_url = parent.recv()
    to_clickers, clickers_end = fork.Pipe()
    people = fork.Process(target=clickers, args=(clickers_end,), daemon=True)
    people.start()
    workdir = Path(tempfile.mkdtemp(prefix="iam-warden-bench-"))
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        queue = session.client("sqs").create_queue(QueueName="iam-warden-events")["QueueUrl"]
        settings = Settings(
            bot_token="xoxb-test-token",
            signing_secret="bench-secret",
            slack_api_url=slack_url,
            channel="C0BENCH",
            admins=frozenset({"U0ADMIN1"}),
            db_path=str(workdir / "w.db"),
            sqs_queue_url=queue,
            thread_minutes=10,
        )
        rt = build(settings, session=session)
        received: dict[str, float] = {}
        posted: dict[int, float] = {}
        rt.poster.on_posted = lambda alert_id, at: posted.setdefault(alert_id, at)
        worker = SqsWorker(
            session.client("sqs"),
            session.client("s3"),
            queue,
            rt.pipeline,
            wait_seconds=1,
            on_received=lambda mid, at: received.setdefault(mid, at),
        )
        threading.Thread(target=rt.poster.run, args=(rt.stop,), daemon=True).start()
        threading.Thread(target=worker.run, args=(rt.stop,), daemon=True).start()

        sqs = session.client("sqs")
        message_of_event: dict[str, str] = {}
        for _ in range(args.events):
            event_id = str(uuid.uuid4())
            reply = sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(root_login(event_id)))
            message_of_event[event_id] = reply["MessageId"]
            time.sleep(1.1)  # slower than Slack's one message per second per channel: no queueing in the bot
        deadline = time.monotonic() + 30
        while len(posted) < args.events and time.monotonic() < deadline:
            time.sleep(0.05)
        latencies = []
        for alert in rt.store.alerts():
            message = message_of_event.get(alert.event_id)
            if message in received and alert.id in posted:
                latencies.append(posted[alert.id] - received[message])
        print(
            f"SQS receipt -> chat.postMessage accepted, {len(latencies)}/{args.events} events: "
            f"p50 {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
            "(goal p50 <= 1000 ms)"
        )

        alerts = incidents_to_click(rt, 20 * (args.warmup_rounds + args.rounds), max(2, args.incident_events))
        server = create_server(wsgi_app(rt), host="127.0.0.1", port=0, threads=32)
        threading.Thread(target=server.run, daemon=True).start()
        url = f"http://127.0.0.1:{server.effective_port}/slack/events"
        parent.send("updates")
        before = parent.recv()
        to_clickers.send((url, settings.signing_secret, slack_url, alerts, args.rounds, args.warmup_rounds))
        durations, failures, round_max = to_clickers.recv()
        clicked_at = time.monotonic()
        deadline = clicked_at + 60
        redrawn = 0
        while time.monotonic() < deadline:
            parent.send("updates")
            redrawn = parent.recv() - before
            if redrawn >= len(alerts):
                break
            time.sleep(0.1)
        acked = sum(rt.store.alert(a.id).status == "acknowledged" for a in alerts)
        print(
            f"lazy work: {acked}/{len(alerts)} incidents' first alerts acknowledged, {redrawn} parents redrawn "
            f"(chat.update) within {time.monotonic() - clicked_at:.1f} s of the last round"
        )
        print("slowest click of each round (ms):", [round(d * 1000) for d in round_max])
        print(
            f"button ack, 20 concurrent clicks x {args.rounds} rounds"
            + (f" after {args.warmup_rounds} warm-up" if args.warmup_rounds else "")
            + f" ({len(durations)} requests, "
            f"{len(failures)} failed): p50 {percentile(durations, 50) * 1000:.1f} ms, "
            f"p99 {percentile(durations, 99) * 1000:.1f} ms (goal p99 <= 50 ms)"
        )
        for failure in failures[:3]:
            print(f"  failed: {failure}")
        parent.send("stop")
        rt.stop.set()
        time.sleep(0.5)
        server.close()
    slack.join(timeout=5)
    people.join(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
