"""The feed's dead man's switch: alert once when the event feed falls silent, and say when it is back.

Life is whatever proves the feed works: in SQS mode any message (the EventBridge schedule puts a heartbeat in
the queue every 5 minutes, so a quiet account is not a silent feed); in LookupEvents mode a stored poll of every
region (each region's cursor, which the poller advances only after a poll whose batch was stored). Both are kept
in the store's cursors, as is the open silence, so a restart neither forgets a silence nor raises it twice. After
a start the watch waits a full interval before it alerts: the bot may have been down, and the queue is not
silent, only unread.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from core.feed import FeedHealth
from core.rows import AlertRow
from core.times import utc
from detections.rules.feed_silent import silence_alert
from storage import Store

log = logging.getLogger(__name__)

LAST_HEARD = "feed.last_heard"  # ISO time of the latest life the SQS worker reported
SILENCE = "feed.silence"  # the open silence as JSON (see Silence), or "" when the feed is fine


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@dataclass
class Silence:
    """A silence the watch alerted on: its alert, the life it followed, and when the feed came back (if it has)."""

    alert_id: int
    since: str  # the last life before the silence ("" when there was none)
    back: str = ""  # the first life after it; the "back" reply is still to be posted while this is set


class FeedWatch:
    """Watches one feed; `heard()` from the event source, `check()` every minute from its own thread (`run`)."""

    def __init__(
        self,
        store: Store,
        minutes: int,
        feed: str,
        on_alerts: Callable[[list[int]], None] | None = None,
        reply: Callable[[AlertRow, str], bool] | None = None,
        life: Callable[[], datetime | None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`feed` names the feed in the alert; `reply(alert, back_at)` says in the alert's thread that the feed is
        back (False: not yet); `life` reads the latest life from elsewhere (LookupEvents mode) instead of `heard()`."""
        self.store = store
        self.window = timedelta(minutes=minutes)
        self.minutes = minutes
        self.feed = feed
        self.on_alerts = on_alerts
        self.reply = reply
        self.life = life
        self.clock = clock
        self.started = clock()
        self._heard: datetime | None = None  # reported by the event source, not yet in the store
        self._lock = threading.Lock()

    def heard(self) -> None:
        """The feed delivered something (a heartbeat or an event). Cheap and thread-safe: `check` stores it."""
        now = self.clock()
        with self._lock:
            self._heard = now

    def last_heard(self) -> datetime | None:
        """The latest life of the feed known here or in the store, or None."""
        if self.life is not None:
            return self.life()
        with self._lock:
            pending = self._heard
        stored = utc(self.store.cursor(LAST_HEARD))
        return max((t for t in (pending, stored) if t is not None), default=None)

    def check(self) -> None:
        """Raise the silence alert when it is due, or post the "back" reply when the feed spoke again."""
        heard = self._store_heard()
        silence = self._silence()
        if silence is not None:
            since = utc(silence.since) if silence.since else None
            if not silence.back and heard is not None and (since is None or heard > since):
                silence.back = _iso(heard)
                self.store.set_cursor(SILENCE, json.dumps(asdict(silence)))
                log.info("the event feed is back (silent since %s)", silence.since or "the start")
            if silence.back:
                alert = self.store.alert(silence.alert_id)
                back_at = silence.back[:19].replace("T", " ")
                if alert is None or self.reply is None or self.reply(alert, back_at):
                    self.store.set_cursor(SILENCE, "")
            return
        quiet_since = max(heard or self.started, self.started)  # never before one window after the start
        if self.clock() - quiet_since >= self.window:
            self._raise(heard)

    def run(self, stop: threading.Event, every_seconds: float = 60.0) -> None:
        """Check every `every_seconds` until `stop` is set; never raises."""
        while not stop.wait(every_seconds):
            try:
                self.check()
            except Exception:  # the store or Slack failing: the next check tries again
                if stop.is_set():  # shutting down: the store may already be closed
                    return
                log.exception("feed watch check failed")

    def _raise(self, heard: datetime | None) -> None:
        alert = silence_alert(heard, self.started, self.feed, self.minutes)
        event = {
            "event_id": alert.event_id,
            "event_name": alert.event_name,
            "event_time": alert.event_time,
            "account": "",
            "source": "feed-watch",
        }
        ids = self.store.store_batch([event], [alert])
        # Stored before (a crash after storing, another instance on the same store): that alert is this silence's.
        alert_id = ids[0] if ids else _first_id(self.store.alerts(event_id=alert.event_id))
        self.store.set_cursor(SILENCE, json.dumps(asdict(Silence(alert_id, _iso(heard) if heard else ""))))
        log.warning(
            "the event feed (%s) has been silent for over %d minutes: alert %s", self.feed, self.minutes, alert_id
        )
        if ids and self.on_alerts:
            self.on_alerts(ids)

    def _store_heard(self) -> datetime | None:
        """Persist the life `heard()` reported (so a restart keeps it); returns the latest life."""
        if self.life is not None:
            return self.life()
        with self._lock:
            pending = self._heard
        stored = utc(self.store.cursor(LAST_HEARD))
        if pending is not None and (stored is None or pending > stored):
            self.store.set_cursor(LAST_HEARD, _iso(pending))
            return pending
        return stored

    def _silence(self) -> Silence | None:
        raw = self.store.cursor(SILENCE)
        if not raw:
            return None
        try:
            return Silence(**json.loads(raw))
        except (ValueError, TypeError):
            log.warning("unreadable %s cursor; treating the feed as not silent", SILENCE)
            return None


def feed_health(store: Store, feed: str, minutes: int, life: Callable[[], datetime | None] | None = None) -> FeedHealth:
    """What the store knows of the feed's health (App Home shows it): its latest life (the stored heartbeat or
    message, or `life` in LookupEvents mode), the silence alert still open, and each account's latest event. A
    life the SQS worker reported in the last minute is not stored yet: the watch stores it at its next check."""
    last = life() if life is not None else utc(store.cursor(LAST_HEARD))
    raw = store.cursor(SILENCE)
    open_alert = None
    if raw:
        try:
            silence = Silence(**json.loads(raw))
            open_alert = None if silence.back else silence.alert_id
        except (ValueError, TypeError):
            log.warning("unreadable %s cursor; the feed's health shows no open silence", SILENCE)
    return FeedHealth(feed, last, minutes, open_alert, tuple(store.latest_event_per_account()))


def lookup_life(store: Store, regions: Iterable[str]) -> Callable[[], datetime | None]:
    """LookupEvents mode's life: the oldest region's stored poll (None while a region has never been stored)."""
    keys = [f"lookup:{region}" for region in regions]

    def life() -> datetime | None:
        times = [utc(store.cursor(key)) for key in keys]
        return None if any(t is None for t in times) else min(times)  # type: ignore[type-var]

    return life


def _first_id(rows: list[AlertRow]) -> int:
    if not rows:
        raise RuntimeError("the silence alert was neither stored nor found")
    return rows[0].id
