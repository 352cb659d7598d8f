"""The bot's Prometheus metrics: one registry per bot (tests build many in one process), counted by their owners.

Labels hold only bounded, non-secret values (an event source's kind, a severity, an action id and its result, an
audit's trigger): never an ARN, a user, a message id or alert text.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# The kinds of event source a batch's source names ("sqs:<message id>", "lookup:<region>", "replay:<path>"...).
SOURCE_KINDS = ("sqs", "lookup", "replay", "file", "sandbox")
# Audits take seconds for one account and can take an hour for a large organization.
AUDIT_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)


def source_kind(source: str) -> str:
    """The bounded label for a batch's source: its kind, or "other"."""
    kind = source.split(":", 1)[0]
    return kind if kind in SOURCE_KINDS else "other"


class Metrics:
    """The counters and gauges of one running bot, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_read = Counter(
            "iam_warden_events_read", "CloudTrail records read, by kind of event source", ["source"], registry=r
        )
        self.dead_letters = Counter(
            "iam_warden_dead_letters", "unreadable input kept as dead letters, by source kind", ["source"], registry=r
        )
        self.alerts_posted = Counter(
            "iam_warden_alerts_posted", "alerts posted to Slack, by severity", ["severity"], registry=r
        )
        self.alert_post_failures = Counter(
            "iam_warden_alert_post_failures", "posts of an alert that Slack refused or that failed", registry=r
        )
        self.outbox_depth = Gauge("iam_warden_outbox_depth", "alerts stored but not yet posted to Slack", registry=r)
        self.feed_lag = Gauge(
            "iam_warden_feed_lag_seconds",
            "how long after its eventTime the newest record of the latest batch was processed",
            registry=r,
        )
        self.remediations = Counter(
            "iam_warden_remediations", "remediation buttons run, by action and result", ["action", "result"], registry=r
        )
        self.audit_duration = Histogram(
            "iam_warden_audit_duration_seconds",
            "how long a posture audit took, by what started it",
            ["trigger"],
            buckets=AUDIT_BUCKETS,
            registry=r,
        )

    def watch_outbox(self, depth: Callable[[], int]) -> None:
        """Read the outbox depth from `depth()` at each scrape (no bookkeeping to drift from the store)."""
        self.outbox_depth.set_function(depth)

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus' text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
