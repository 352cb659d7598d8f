"""`bot.py replay`: CloudTrail files through the detections, the alerts printed (or posted with --post)."""

from __future__ import annotations

import json
import os
import sys
from typing import TextIO

from app.offline import offline_pipeline
from config import load
from core.rows import AlertRow
from ingest.files import ReadStats
from ingest.read_ahead import read_batches
from slackui.alerts import render_alert
from slackui.terminal import render

# How many unreadable inputs `replay` names on stderr before it only counts them.
REPLAY_WARNINGS = 5


def replay(paths: list[str], as_jsonl: bool, post: bool, out: TextIO, stdin: TextIO) -> int:
    """Run CloudTrail files through the detections; print alerts (or JSON lines); with post, send to Slack."""
    named: list[str] = []  # the first few dead letters, by file and line (reasons never quote content)

    def note(source: str, reason: str) -> None:
        if len(named) < REPLAY_WARNINGS:
            named.append(f"{source.removeprefix('replay:')}: {reason}")

    if post:
        from app.wiring import build  # here: Slack, the scheduler and boto3 load only to post

        rt = build(load(serving=True))
        store, pipeline = rt.store, rt.pipeline
        pipeline.on_dead_letter = note
    else:
        pipeline = offline_pipeline(on_dead_letter=note)
        store = pipeline.store
    alerts = dead = 0
    colour = out.isatty() and not os.environ.get("NO_COLOR")  # https://no-color.org
    stats = ReadStats()
    for source, records in read_batches(
        paths, stdin, dead_letter=pipeline.dead_letter, stats=stats, judge=pipeline.judge
    ):
        result = pipeline.process(records, source)
        dead += result.dead_letters
        for alert_id in result.alert_ids:
            alert = store.alert(alert_id)
            alerts += 1
            if as_jsonl:
                out.write(json.dumps(alert_summary(alert)) + "\n")
            else:
                out.write(render(render_alert(alert), colour=colour) + "\n")
    if post:
        rt.poster.recover()
        rt.poster.drain()
    dead += stats.dead_letters
    read = stats.records + stats.records_skipped + stats.skipped
    summary = f"{alerts} alert(s) from {read} record(s)" + (
        f", {dead} unreadable record(s) kept as dead letters" if dead else ""
    )
    for line in named:
        print(f"unreadable: {line}", file=sys.stderr)
    if dead > len(named):
        print(f"unreadable: … and {dead - len(named)} more", file=sys.stderr)
    print(summary, file=sys.stderr)
    return 4 if dead else 0


def alert_summary(alert: AlertRow) -> dict:
    """The one-line JSON of `replay --jsonl` (Alert.summary's contract, read back from the store)."""
    return {
        "event_id": alert.event_id,
        "rule": alert.rule,
        "severity": alert.severity,
        "account": alert.account,
        "actor": alert.actor_arn,
        "target": alert.target,
        "title": alert.title,
    }
