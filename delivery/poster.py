"""The outbox: post stored alerts to Slack until Slack accepts them, none twice, respecting rate limits. An alert
starts an incident (its message is the parent) or, when it is linked to an incident open in its channel within the
thread window (the same actor, or about the same principal: core/incident_links.py), goes in that incident's thread
and the parent is redrawn in place."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.metrics import Metrics
from core.routing import Routes
from core.rows import AlertRow, IncidentRow
from core.severity import Severity
from core.states import PostState
from delivery.incidents import update_parent
from slackui.alerts import current_message
from storage import Store

log = logging.getLogger(__name__)

METADATA_TYPE = "iam_warden_alert"
# Errors that no retry will fix without a human (logged loudly; the alert stays in the outbox).
NEEDS_HUMAN = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
}
# Refusals of one channel: an alert its route sends to such a channel goes to the default channel instead.
CHANNEL_ERRORS = {"channel_not_found", "not_in_channel", "is_archived"}


class Poster:
    """Drains the alerts outbox into the channels `routes` picks (`channel` alone without routes). Thread-safe
    `wake()`; `run()` loops until stopped."""

    def __init__(
        self,
        store: Store,
        client: WebClient,
        channel: str,
        thread_minutes: int = 10,
        min_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        on_posted: Callable[[int, float], None] | None = None,
        metrics: Metrics | None = None,
        routes: Routes | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.routes = routes or Routes(channel)
        self.thread_window = timedelta(minutes=thread_minutes)
        self.min_interval = min_interval
        self.monotonic = monotonic
        self.on_posted = on_posted
        self.metrics = metrics or Metrics()
        self._wake = threading.Event()
        self._last_post = float("-inf")
        self._backoff = 0.0

    def wake(self, _ids: object = None) -> None:
        """Ask the loop to drain now (called by the pipeline after it stored new alerts)."""
        self._wake.set()

    def recover(self) -> int:
        """After a restart: settle alerts whose post was in flight when the bot stopped. Returns how many
        were found already posted (matched by the message metadata the bot attaches)."""
        found = 0
        for alert in self.store.alerts(post_state=PostState.SENDING):
            channel = self.routes.for_alert(alert)
            ts = self._find_posted(alert, channel)
            if ts:
                parent = self.store.incident_at(channel, ts[1]) if ts[1] else None
                if ts[1] and parent is None:  # a thread of an alert posted before incidents were recorded
                    self.store.mark_posted(alert.id, channel, ts[0], ts[1])
                else:
                    self._record_posted(alert, channel, ts[0], parent)
                found += 1
        return found

    def _find_posted(self, alert: AlertRow, channel: str) -> tuple[str, str | None] | None:
        oldest = (alert.sending_since or alert.created_at) - timedelta(minutes=5)
        try:
            reply = self.client.conversations_history(
                channel=channel, oldest=f"{oldest.timestamp():.6f}", include_all_metadata=True, limit=200
            )
        except SlackApiError as err:
            log.warning(
                "cannot check whether alert %s was already posted (%s); posting it again may duplicate",
                alert.id,
                err.response.get("error"),
            )
            return None
        for message in reply.get("messages", []):
            meta = message.get("metadata") or {}
            if meta.get("event_type") == METADATA_TYPE and meta.get("event_payload", {}).get("alert_id") == alert.id:
                return message["ts"], message.get("thread_ts")
        return None

    def drain(self, stop: threading.Event | None = None) -> int:
        """Post every pending alert (oldest first); returns how many Slack accepted. Stops at the first
        failure, or between two posts once `stop` is set, leaving the rest for the next round."""
        posted = 0
        while True:
            batch = self.store.alerts_to_post(limit=20)
            if not batch:
                return posted
            for alert in batch:
                if stop is not None and stop.is_set():
                    return posted
                if not self._post(alert):
                    return posted
                posted += 1

    def _post(self, alert: AlertRow, channel: str | None = None) -> bool:
        wait = self._last_post + self.min_interval - self.monotonic()
        if wait > 0:
            time.sleep(wait)
        message = current_message(self.store, alert)  # a button made moot since it was raised is not offered
        channel = channel or self.routes.for_alert(alert)
        incident = self._open_incident(alert, channel)
        thread_ts = incident.ts if incident else None
        # A critical alert must not hide in a thread: it is also sent to the channel (and the parent turns critical).
        reply_broadcast = incident is not None and alert.severity == Severity.CRITICAL
        self.store.mark_sending(alert.id)
        try:
            reply = self.client.chat_postMessage(
                channel=channel,
                text=message["text"],
                blocks=message["blocks"],
                thread_ts=thread_ts,
                reply_broadcast=reply_broadcast or None,
                metadata={"event_type": METADATA_TYPE, "event_payload": {"alert_id": alert.id}},
                unfurl_links=False,
            )
        except SlackApiError as err:
            error = str(err.response.get("error"))
            self.metrics.alert_post_failures.inc()
            if error in CHANNEL_ERRORS and channel != self.routes.default:
                # A routed channel the bot cannot post in must not hold the alert back from everyone.
                log.error(
                    "Slack refused alert %s in its routed channel %s: %s (invite the bot there); posting it to %s",
                    alert.id,
                    channel,
                    error,
                    self.routes.default,
                )
                return self._post(alert, self.routes.default)
            self.store.mark_post_failed(alert.id, error)
            self._backoff = min(max(self._backoff * 2, 1.0), 300.0)
            hint = " (invite the bot to the channel / check its token and scopes)" if error in NEEDS_HUMAN else ""
            log.error("Slack refused alert %s: %s%s; retrying in %.0fs", alert.id, error, hint, self._backoff)
            return False
        except Exception as err:  # network errors: keep the alert, retry later
            self.store.mark_post_failed(alert.id, type(err).__name__)
            self.metrics.alert_post_failures.inc()
            self._backoff = min(max(self._backoff * 2, 1.0), 300.0)
            log.error(
                "posting alert %s failed (%s); retrying in %.0fs",
                alert.id,
                type(err).__name__,
                self._backoff,
            )
            return False
        self._backoff = 0.0
        self._last_post = self.monotonic()
        self._record_posted(alert, reply["channel"], reply["ts"], incident)
        self.metrics.alerts_posted.labels(alert.severity).inc()
        if self.on_posted:
            self.on_posted(alert.id, self._last_post)
        return True

    def _open_incident(self, alert: AlertRow, channel: str) -> IncidentRow | None:
        """The incident `alert` folds into: the latest one in `channel` with an alert in the thread window that
        `alert` is linked to, by its actor or a principal it is about (core/incident_links.py); an alert routed
        elsewhere starts its own there."""
        if not self.thread_window:
            return None
        since = self.store.clock() - self.thread_window
        incident = self.store.incident_for(alert, since, channel)
        if incident is None:  # a thread started before incidents were recorded becomes one
            root = self.store.thread_root(alert.thread_key, since, exclude_id=alert.id, channel=channel)
            if root and root.id < alert.id:
                incident = self.store.adopt_root(root)
        return incident if incident and incident.root_alert_id != alert.id else None

    def _record_posted(self, alert: AlertRow, channel: str, ts: str, incident: IncidentRow | None) -> None:
        """Record Slack's acceptance: a new incident's parent, or an event in `incident`'s thread, whose parent is
        then redrawn in place (highest severity, summary, count)."""
        if incident is None:
            self.store.post_as_incident(alert.id, channel, ts)
            return
        update_parent(self.store, self.client, self.store.post_in_incident(alert.id, incident.id, channel, ts))

    def reply(self, alert_id: int, message: dict, broadcast: bool = False) -> bool:
        """Post `message` in the thread of a posted alert; False (logged) when the alert is not posted yet or Slack
        did not take it, so the caller can try again later."""
        alert = self.store.alert(alert_id)
        if alert is None or not alert.ts:
            return False
        try:
            self.client.chat_postMessage(
                channel=alert.channel,
                text=message["text"],
                blocks=message["blocks"],
                thread_ts=alert.thread_ts or alert.ts,
                reply_broadcast=broadcast or None,
                unfurl_links=False,
            )
        except SlackApiError as err:
            log.warning("Slack refused a reply to alert %s: %s", alert_id, err.response.get("error"))
            return False
        except Exception as err:  # network errors: the caller tries again
            log.warning("replying to alert %s failed (%s)", alert_id, type(err).__name__)
            return False
        return True

    def run(self, stop: threading.Event, idle_seconds: float = 5.0) -> None:
        """Drain whenever woken (or every `idle_seconds`) until `stop` is set."""
        while not stop.is_set():
            try:
                self.recover()
                break
            except Exception:  # Slack or the store unreachable at start-up: keep trying, never die
                log.exception("outbox recovery failed; retrying")
                stop.wait(idle_seconds)
        while not stop.is_set():
            try:
                self.drain(stop)
            except Exception:
                if stop.is_set():  # shutting down: the store or Slack may already be gone
                    return
                log.exception("outbox drain failed; alerts stay queued and are retried")
                self._backoff = min(max(self._backoff * 2, 1.0), 300.0)
            self._wake.wait(self._backoff or idle_seconds)
            self._wake.clear()
