"""Poll CloudTrail's event history (LookupEvents) for accounts without a trail, queue or EventBridge rule.

One query per event name the rules read (LookupEvents filters on one attribute at a time), plus one for the
root user's activity, per region. Names a rule reads only when refused (`Rule.refused_event_names`, the IAM reads
iam_writes_refused counts) are not asked for: LookupEvents cannot filter on the error, and 67 more queries at 2
requests a second would stretch every poll by half a minute per region for calls that nearly always succeed.

Each poll covers [cursor - lag, now]: event history can surface events minutes late, and the pipeline's eventID
dedupe makes the overlap harmless. The cursor (the end of the last poll whose batch was stored) is kept in the
store, so a restart neither misses nor repeats events.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from core.times import utc
from detections import event_names as rule_event_names
from detections import reads_root_events
from ingest.pipeline import Pipeline
from storage import Store

log = logging.getLogger(__name__)

# LookupEvents is limited to 2 requests per second per account per region.
MAX_REQUESTS_PER_SECOND = 2.0


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class RateLimiter:
    """Spaces calls at least 1/rate seconds apart, using an injectable clock and sleep."""

    def __init__(
        self,
        rate: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.monotonic = monotonic
        self.sleep = sleep
        self._last: float | None = None

    def wait(self) -> None:
        """Block until the next call is allowed, then claim its slot."""
        now = self.monotonic()
        if self._last is not None and now < self._last + self.interval:
            self.sleep(self._last + self.interval - now)
            now = self.monotonic()
        self._last = now


class LookupPoller:
    """Feeds LookupEvents results for the rules' event names through the pipeline, region by region."""

    def __init__(
        self,
        clients: Mapping[str, Any],
        store: Store,
        pipeline: Pipeline,
        lag_minutes: int = 15,
        now: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        event_names: Iterable[str] | None = None,
        include_root: bool | None = None,
        max_rate: float = MAX_REQUESTS_PER_SECOND,
    ) -> None:
        """`clients` maps region to CloudTrail client; `event_names`/`include_root` default to the rules'."""
        self.clients = dict(clients)
        self.store = store
        self.pipeline = pipeline
        self.lag = timedelta(minutes=lag_minutes)
        self.now = now
        self.limiters = {region: RateLimiter(max_rate, monotonic, sleep) for region in self.clients}
        self._event_names = None if event_names is None else sorted(set(event_names))
        self._include_root = include_root
        self._streaks = dict.fromkeys(self.clients, 0)  # consecutive failed polls per region

    def lookup_attributes(self) -> list[dict[str, str]]:
        """One LookupAttributes filter per query, in a stable order."""
        names = self._event_names if self._event_names is not None else sorted(rule_event_names())
        root = self._include_root if self._include_root is not None else reads_root_events()
        attrs = [{"AttributeKey": "EventName", "AttributeValue": name} for name in names]
        if root:
            attrs.append({"AttributeKey": "Username", "AttributeValue": "root"})
        return attrs

    def poll_once(self) -> int:
        """Poll every region once; returns the number of events fetched. A failing region is logged."""
        fetched = 0
        for region, client in self.clients.items():
            try:
                fetched += self.poll_region(region, client)
                self._streaks[region] = 0
            except Exception as err:
                self._streaks[region] += 1
                # One traceback per run of failures; repeats are one line each.
                if self._streaks[region] == 1:
                    log.exception("LookupEvents poll of %s failed; its cursor stays put", region)
                else:
                    log.warning(
                        "LookupEvents poll of %s failed again (%d in a row): %s",
                        region,
                        self._streaks[region],
                        type(err).__name__,
                    )
        return fetched

    def poll_region(self, region: str, client: Any) -> int:
        """Fetch [cursor - lag, now] for one region, process it as one batch, then advance the cursor."""
        key = f"lookup:{region}"
        end = self.now()
        cursor = utc(self.store.cursor(key))
        start = (cursor or end) - self.lag
        source = f"lookup:{region}"
        records: list[dict] = []
        unreadable: list[tuple[str, object]] = []
        seen: set[str] = set()
        for attribute in self.lookup_attributes():
            for event in self._events(region, client, attribute, start, end):
                event_id = event.get("EventId")
                if event_id and event_id in seen:
                    continue  # root's CreateUser comes back from both the name and the root query
                if event_id:
                    seen.add(event_id)
                raw = event.get("CloudTrailEvent")
                try:
                    record = json.loads(raw) if isinstance(raw, str) else None
                except ValueError:
                    record = None
                if isinstance(record, dict):
                    records.append(record)
                else:
                    unreadable.append((f"LookupEvents event {event_id} has no readable CloudTrailEvent", raw))
        self.pipeline.process(records, source=source)
        for reason, body in unreadable:
            self.pipeline.dead_letter(source, reason, body if isinstance(body, str) else json.dumps(body))
        # Only now is everything up to `end` stored: a crash before this line re-reads the window.
        self.store.set_cursor(key, end.isoformat())
        return len(records) + len(unreadable)

    def run(self, stop: threading.Event, interval_seconds: float = 60.0) -> None:
        """Poll every `interval_seconds` until `stop` is set (less often while polls fail); never raises."""
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # poll_once handles regions itself; this guards the loop against anything else
                log.exception("LookupEvents poll failed")
            streak = max(self._streaks.values(), default=0)
            stop.wait(min(interval_seconds * 2 ** min(streak, 4), max(interval_seconds, 900.0)))

    def _events(
        self, region: str, client: Any, attribute: dict[str, str], start: datetime, end: datetime
    ) -> Iterator[dict]:
        # Paginated by hand rather than with a botocore paginator: every page request must pass the rate
        # limiter, and a paginator only requests the next page inside its own iterator.
        params: dict[str, Any] = {
            "LookupAttributes": [attribute],
            "StartTime": start,
            "EndTime": end,
            "MaxResults": 50,
        }
        limiter = self.limiters[region]
        while True:
            limiter.wait()
            page = client.lookup_events(**params)
            yield from page.get("Events", [])
            token = page.get("NextToken")
            if not token:
                return
            params["NextToken"] = token
