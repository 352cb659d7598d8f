"""`bot.py hunt`: the chosen rules over the trail's history in Athena or CloudTrail Lake, the alerts printed (or
posted with --post)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from app.offline import offline_pipeline
from app.replay_cli import alert_summary
from app.wiring import build
from aws.athena import Athena, AthenaError
from aws.causes import CALL_ERRORS, describe
from aws.cloudtrail_lake import Lake, LakeError
from aws.sessions import AwsSessions
from config import load
from detections import all_rules
from hunt.query import HuntQuery, QueryError, athena_sql, choose_rules, event_data_store, lake_sql, parse_when
from hunt.records import lake_record_of, record_of
from hunt.runner import HuntStats, run_pages
from ingest.pipeline import BatchResult
from slackui.alerts import render_alert
from slackui.terminal import render


def hunt(args: argparse.Namespace, out: TextIO, now: datetime | None = None) -> int:
    """`bot.py hunt`: run the chosen rules over the trail's history in Athena or CloudTrail Lake; print (or post)
    the alerts."""
    now = now or datetime.now(UTC)
    lake_region: str | None = None
    try:
        rules = choose_rules(all_rules(), _items(args.rules))
        until = parse_when(args.until, now) if args.until else now
        if args.lake is not None:
            source, lake_region = event_data_store(args.lake)
        else:
            source = args.athena
        query = HuntQuery(
            source, parse_when(args.since, now), until, rules, _items(args.accounts), _items(args.regions)
        )
        sql = lake_sql(query) if args.lake is not None else athena_sql(query)
    except QueryError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.explain:
        out.write(sql + "\n")
        return 0
    if args.lake is not None and (args.athena_output or args.workgroup):
        print("error: --athena-output and --workgroup are Athena's; --lake takes neither", file=sys.stderr)
        return 2
    if args.lake is None and not (args.athena_output or "").startswith("s3://"):
        print("error: --athena-output wants the query results location, s3://BUCKET/PREFIX/", file=sys.stderr)
        return 2
    if args.post:
        rt = build(load(serving=True))
        store, pipeline, sessions = rt.store, rt.pipeline, rt.sessions
        pipeline.rules = rules
    else:
        pipeline = offline_pipeline(rules)
        store = pipeline.store
        try:  # an AWS_PROFILE that names no profile fails here
            sessions = AwsSessions()
        except CALL_ERRORS as err:
            print(f"error: {describe(err)}", file=sys.stderr)
            return 1
    region = sessions.session.region_name or "us-east-1"
    engine: Athena | Lake
    if args.lake is not None:  # the event data store's own region when its ARN names one
        engine = Lake(sessions.client("cloudtrail", region=lake_region or region))
        name, rebuild = "CloudTrail Lake", lake_record_of
    else:
        engine = Athena(sessions.client("athena", region=region), args.athena_output, args.workgroup or "primary")
        name, rebuild = "Athena", record_of
    stats = HuntStats()

    shown: list[tuple[str, int, int | None]] = []

    def progress(status: Any) -> None:  # aws.athena.QueryStatus or aws.cloudtrail_lake.LakeStatus
        stats.bytes_scanned = status.bytes_scanned
        events = getattr(status, "events_matched", None)  # Lake counts the events matched; Athena does not
        if shown[-1:] != [(status.state, status.bytes_scanned, events)]:  # a line when something changed
            shown.append((status.state, status.bytes_scanned, events))
            matched = f", {events} event(s) matched" if events is not None else ""
            line = f"query {status.query_id}: {status.state}, {_size(status.bytes_scanned)} scanned{matched}"
            print(line, file=sys.stderr)

    def emit(result: BatchResult) -> None:
        for alert_id in result.alert_ids:
            alert = store.alert(alert_id)
            out.write(json.dumps(alert_summary(alert)) + "\n" if args.jsonl else render(render_alert(alert)) + "\n")

    def read(done: HuntStats) -> None:
        print(f"rows read: {done.rows}", file=sys.stderr)

    query_id = ""
    try:
        query_id = engine.start(sql)
        print(
            f"query {query_id}: started ({len(rules)} rule(s), {query.since:%Y-%m-%d} to {until:%Y-%m-%d})",
            file=sys.stderr,
        )
        engine.wait(query_id, progress)
        run_pages(engine.rows(query_id), pipeline, f"hunt:{query_id}", emit, read, stats, rebuild)
    except (AthenaError, LakeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if query_id:
            try:
                engine.stop(query_id)
            except (AthenaError, LakeError) as err:
                print(f"error: could not cancel query {query_id}: {err}", file=sys.stderr)
                return 130
            print(f"hunt cancelled: query {query_id} stopped", file=sys.stderr)
        else:
            print("hunt cancelled", file=sys.stderr)
        return 130
    if args.post:
        rt.poster.recover()
        rt.poster.drain()
    summary = f"{stats.alerts} alert(s) from {stats.rows} row(s); {name} scanned {_size(stats.bytes_scanned)}"
    summary += f" ({stats.bytes_scanned} bytes)"
    if stats.duplicates:
        summary += f", {stats.duplicates} event(s) already seen"
    if stats.dead_letters:
        summary += f", {stats.dead_letters} unreadable row(s) kept as dead letters"
    print(summary, file=sys.stderr)
    return 4 if stats.dead_letters else 0


def _items(text: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (text or "").split(",") if item.strip())


def _size(count: int) -> str:
    size, unit = float(count), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            break
        size /= 1000
    return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
