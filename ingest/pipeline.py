"""One path for every event source: records in, deduplicated, evaluated, stored durably, outbox woken."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter

from core import cloudtrail as ct
from core.alert import Alert
from core.metrics import Metrics, source_kind
from core.redaction import redact
from core.times import utc
from detections import all_rules
from detections.base import Rule
from detections.engine import evaluate, raises_nothing
from ingest.context import PipelineContext
from ingest.judged import Judged, event_row
from ingest.rule_mutes import mute_alerts
from storage import Store

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What one batch did: new alert ids, events skipped as already seen, records dead-lettered."""

    alert_ids: list[int] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    duplicates: int = 0
    dead_letters: int = 0


def malformed_reason(record: object) -> str | None:
    """Why a record cannot be processed, or None when it is a usable CloudTrail record."""
    if not isinstance(record, dict):
        return f"record is a {type(record).__name__}, not an object"
    get = record.get
    # Three tests in a row instead of a loop over the keys: a replay asks this of every kept record.
    event_id, name, time = get("eventID"), get("eventName"), get("eventTime")
    if not isinstance(event_id, str) or not event_id:
        return "record has no eventID"
    if not isinstance(name, str) or not name:
        return "record has no eventName"
    if not isinstance(time, str) or not time:
        return "record has no eventTime"
    if utc(time) is None:
        return "record's eventTime is not an ISO 8601 time"
    return None


_event_time_text = itemgetter("eventTime")  # the sort key, without a Python call per record


def _event_time_of(item: dict | Judged) -> str:
    """The sort key of a batch holding judged events too."""
    return item[2] if type(item) is Judged else item["eventTime"]  # type: ignore[return-value]


class Pipeline:
    """Evaluate records against the rules and store events + alerts atomically, then wake the poster."""

    def __init__(
        self,
        store: Store,
        context: PipelineContext,
        on_alerts: Callable[[list[int]], None] | None = None,
        on_dead_letter: Callable[[str, str], None] | None = None,
        metrics: Metrics | None = None,
        rules: tuple[Rule, ...] | None = None,
    ) -> None:
        self.store = store
        self.context = context
        self.on_alerts = on_alerts
        self.on_dead_letter = on_dead_letter  # (source, reason) of each dead letter, instead of a log line
        self.metrics = metrics or Metrics()
        self.rules = rules  # the rules to run (every registered one when None), e.g. `bot.py hunt --rules`
        self.windows = {r.id: r.dedup_minutes for r in all_rules() if r.dedup_minutes}

    def process(self, records: Iterable[object], source: str) -> BatchResult:
        """Process one batch (an SQS message, a file, a poll). Returns once everything is durably stored.

        A batch may hold `Judged` events (a reader's, `judge`) among its records: each is stored, deduplicated and
        counted where its record would have been, in event-time order, and evaluated by no rule.
        """
        result = BatchResult()
        usable: list[dict] = []
        judged = 0
        for record in records:
            if type(record) is Judged:
                usable.append(record)  # type: ignore[arg-type]
                judged += 1
                continue
            reason = malformed_reason(record)
            if reason:
                self.dead_letter(source, reason, record)
                result.dead_letters += 1
            else:
                usable.append(record)  # type: ignore[arg-type]
        seen = self.store.seen_events(r[0] if type(r) is Judged else r["eventID"] for r in usable)
        # Oldest first, so what a rule remembers is known before the records that follow it.
        usable.sort(key=_event_time_of if judged else _event_time_text)
        events: list[tuple] = []
        alerts: list[Alert] = []
        self.context.refresh()  # what other instances remembered meanwhile
        memory = self.context.memory
        context, rules, tail = self.context, self.rules, (source,)
        for record in usable:
            if type(record) is Judged:
                event_id = record[0]
                if event_id in seen:
                    result.duplicates += 1
                    continue
                seen.add(event_id)
                events.append(record + tail)  # event_row's, with the batch's source
                continue
            event_id = record["eventID"]
            if event_id in seen:
                result.duplicates += 1
                continue
            seen.add(event_id)
            found = evaluate(record, context, rules, memory=memory)
            if found:
                alerts.extend(found)
            events.append(event_row(record, source))
        self.apply_rule_mutes(alerts)
        facts = memory.pending()
        try:
            result.alert_ids = self.store.store_batch(events, alerts, self.windows, facts, memory.horizons())
        except BaseException:
            memory.discard(facts)  # the batch will come again; it must not find itself remembered
            raise
        result.alerts = alerts
        self.keep_records(usable, alerts)
        self._count(usable, source)
        if result.alert_ids and self.on_alerts:
            self.on_alerts(result.alert_ids)
        return result

    def judge(self, record: object) -> tuple | None:
        """The event row (`Judged`'s) of a record this pipeline would only store: usable, and raising nothing with
        the pipeline's rules whatever their context and memory hold; else None. Asks nothing of the store or AWS,
        so a reader process may call it."""
        if type(record) is not dict or malformed_reason(record) is not None or not raises_nothing(record, self.rules):
            return None
        return event_row(record, "")[:-1]  # the source is the batch's, added by `process`

    def keep_records(self, records: list[dict], alerts: list[Alert]) -> None:
        """Keep the record of each event that raised an alert, secrets redacted, for the alert's Details view. After
        the batch is stored: a record lost to a crash here costs only that view, which then says so."""
        alerting = {a.event_id for a in alerts}
        if alerting:
            self.store.keep_event_records(
                redact(r) for r in records if type(r) is not Judged and r["eventID"] in alerting
            )

    def apply_rule_mutes(self, alerts: list[Alert]) -> None:
        """Mark the alerts an active rule mute hides (stored and counted like the rest, never posted)."""
        if alerts:
            mute_alerts(alerts, self.store.active_rule_mutes())

    def _count(self, records: list[dict], source: str) -> None:
        if not records:
            return
        self.metrics.events_read.labels(source_kind(source)).inc(len(records))
        last = records[-1]  # the records are sorted by eventTime; parse only the last
        newest = utc(last[2]) if type(last) is Judged else ct.event_time(last)
        if newest is not None:
            self.metrics.feed_lag.set(max(0.0, (datetime.now(UTC) - newest).total_seconds()))

    def dead_letter(self, source: str, reason: str, body: object) -> None:
        """Keep something unreadable with the reason, and log it once (without its content).

        No content makes this raise (the store escapes what it cannot encode); a failing database does, so that
        the caller keeps the input for another try instead of losing it.
        """
        if isinstance(body, str | bytes):
            text = body
        else:
            try:
                text = json.dumps(body, default=str)
            except (ValueError, RecursionError) as err:  # a circular or too deeply nested value
                text = f"(body not kept: {type(err).__name__} serialising it)"
        letter = self.store.add_dead_letter(source, reason, text)
        self.metrics.dead_letters.labels(source_kind(source)).inc()
        if self.on_dead_letter is not None:
            self.on_dead_letter(source, reason)
        else:
            log.warning("dead letter %s from %s: %s", letter, source, reason)
