"""The digest (scheduled or asked for): what is open, new and resolved, what was muted and what rule mutes hid,
mutes about to expire, and the trend."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.digest import Digest, Trend
from core.states import AlertStatus, PostState
from storage import Store


def build_digest(store: Store, since: datetime, until: datetime) -> Digest:
    """The digest's content for the period [since, until), compared with the period of equal length before."""
    before = since - (until - since)
    now_changes = store.findings_between(since, until)
    old_changes = store.findings_between(before, since)
    muted_events, muting_mutes = store.muted_between(since, until)
    last = store.last_audit()
    open_counts = last.counts if last else {}  # the figure /iam status and the report show (core/severity.py)
    return Digest(
        since=since,
        until=until,
        unacknowledged=[a for a in store.alerts(status=AlertStatus.OPEN) if a.post_state != PostState.MUTED],
        new_findings=now_changes.new,
        resolved_findings=now_changes.resolved,
        expiring_mutes=store.mutes_expiring(timedelta(days=7)),
        trend=Trend(
            alerts=store.alerts_between(since, until),
            alerts_before=store.alerts_between(before, since),
            new_findings=len(now_changes.new),
            new_findings_before=len(old_changes.new),
            resolved_findings=len(now_changes.resolved),
            resolved_findings_before=len(old_changes.resolved),
            open_findings=sum(open_counts.values()),
        ),
        muted_events=muted_events,
        muting_mutes=muting_mutes,
        muted=store.mutes_created_between(since, until),
        open_counts=open_counts,
    )
