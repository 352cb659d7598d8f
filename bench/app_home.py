"""App Home figures: how long reading the store and building one user's Home tab takes (printed, not asserted).

A real SQLite store in a temporary directory is filled with `--events` CloudTrail events over `--accounts`
accounts (the feed health groups them per account: a scan of the events table, which is never pruned), `--alerts`
open posted alerts with an action each, and `--findings` open findings over 40 checks. Then handlers/home.py's
home_content and slackui's home_view run `--runs` times; the median and the worst time are printed, with the view's
block count and its size as JSON (a click on the tab sends the view back to the bot).

Goal: well under a second at 200,000 events, so the lazy listener answers long before Slack's patience runs out.

Run: .venv/bin/python bench/app_home.py [--events 200000 --accounts 50 --alerts 200 --findings 2000 --runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.alert import Alert
from core.severity import Severity
from handlers.deps import Deps
from handlers.home import home_content
from ingest.feed_watch import feed_health
from slackui import blocks
from storage import Store
from tests.findings import failing


def fill(store: Store, events: int, accounts: int, alerts: int, findings: int) -> None:
    """Seed the store as a long-running bot would have filled it."""
    batch = []
    for i in range(events):
        batch.append(
            {
                "event_id": f"e{i}",
                "event_name": "GetUser",
                "event_time": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                "account": f"{100000000000 + i % accounts}",
                "source": "bench",
            }
        )
        if len(batch) == 5000:
            store.store_batch(batch, [])
            batch = []
    store.store_batch(batch, [])
    severities = list(Severity)
    made = []
    for i in range(alerts):
        alert = Alert(
            rule="privileged_grant",
            severity=severities[i % 5],
            title=f"Admin policy attached to user u{i}",
            event_id=f"a{i}",
            event_name="AttachUserPolicy",
            event_source="iam.amazonaws.com",
            event_time="2026-11-23T08:00:00Z",
            account="100000000000",
            region="us-east-1",
            actor_arn="arn:aws:iam::100000000000:user/mallory",
            actor_type="IAMUser",
            remediation={
                "principal_type": "user",
                "principal_name": f"u{i}",
                "policy_arn": "arn:aws:iam::aws:policy/X",
            },
        )
        alert.dedup_key = alert.thread_key = f"k{i}"
        event = {"event_id": f"a{i}", "event_name": "AttachUserPolicy", "event_time": alert.event_time}
        made += store.store_batch([{**event, "account": "100000000000", "source": "bench"}], [alert])
    for n, alert_id in enumerate(made):
        store.mark_posted(alert_id, "C0ALERTS", f"{n}.0", None)
        store.record_refusal(alert_id, "iam_detach_policy", "U0SOMEONE", "not an admin")
    audit = store.start_audit("schedule", None, ["100000000000"])
    rows = [
        failing(f"check_{i % 40}", "100000000000", f"arn:aws:iam::100000000000:user/u{i}", "medium", f"Check {i % 40}")
        for i in range(findings)
    ]
    store.record_findings(audit, rows, {("100000000000", f"check_{i}") for i in range(40)}, [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--findings", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        store.migrate()
        started = time.perf_counter()
        fill(store, args.events, args.accounts, args.alerts, args.findings)
        print(f"seeded {args.events} events, {args.alerts} alerts, {args.findings} findings "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        deps = Deps(
            store=store,
            remediator=None,  # type: ignore[arg-type]  # the Home tab makes no AWS call
            admins=frozenset({"U0ADMIN"}),
            feed=lambda: feed_health(store, "SQS queue bench", 30),
        )
        times, view = [], {}
        for _ in range(args.runs):
            start = time.perf_counter()
            view = blocks.home_view(home_content(deps, "U0ADMIN"))
            times.append(time.perf_counter() - start)
        started = time.perf_counter()
        store.latest_event_per_account()
        scan = time.perf_counter() - started
        print(f"home tab: median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms over "
              f"{args.runs} runs; of which the per-account scan {scan * 1000:.0f} ms")  # fmt: skip
        print(f"view: {len(view['blocks'])} blocks, {len(json.dumps(view))} bytes of JSON")
        store.close()


if __name__ == "__main__":
    main()
