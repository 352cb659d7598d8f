"""The digest (scheduled or asked for): what is open, new and resolved, what was muted and what rule mutes hid,
mutes about to expire, and the trend; the whole of it, or one channel's share under IAMBOT_ROUTES."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.digest import Digest, Trend
from core.routing import Routes
from core.rows import AlertRow, FindingRow, MuteRow
from core.severity import severity_counts
from core.states import AlertStatus, FindingState, PostState
from storage import Store


def build_digest(
    store: Store, since: datetime, until: datetime, routes: Routes | None = None, channel: str | None = None
) -> Digest:
    """The digest's content for the period [since, until), compared with the period of equal length before.

    With `routes` and `channel`: only what was routed to `channel` (alerts where they were posted or would be,
    findings by account and severity, finding mutes by account), its counts included."""
    share = _Share(routes, channel) if routes is not None and channel is not None else None
    return _digest(store, since, until, share)


@dataclass(frozen=True)
class _Share:
    """What of the bot's alerts, findings and mutes one channel is sent."""

    routes: Routes
    channel: str

    def alert(self, alert: AlertRow) -> bool:
        return self.routes.for_alert(alert) == self.channel

    def finding(self, finding: FindingRow) -> bool:
        return self.routes.for_finding(finding) == self.channel

    def mute(self, mute: MuteRow) -> bool:
        return self.routes.for_mute(mute) == self.channel


def _digest(store: Store, since: datetime, until: datetime, share: _Share | None) -> Digest:
    def alert(a: AlertRow) -> bool:
        return share is None or share.alert(a)

    def finding(f: FindingRow) -> bool:
        return share is None or share.finding(f)

    def mute(m: MuteRow) -> bool:
        return share is None or share.mute(m)

    before = since - (until - since)
    now_changes = store.findings_between(since, until)
    old_changes = store.findings_between(before, since)
    new = [f for f in now_changes.new if finding(f)]
    resolved = [f for f in now_changes.resolved if finding(f)]
    if share is not None:  # counted from the rows, as the store's counts cover every channel
        raised = [a for a in store.alerts_raised(since, until) if alert(a)]
        alerts, alerts_before = len(raised), sum(1 for a in store.alerts_raised(before, since) if alert(a))
        muted_alerts = [a for a in raised if a.post_state == PostState.MUTED]
        muted_events, muting_mutes = sum(a.occurrences for a in muted_alerts), len({a.mute_id for a in muted_alerts})
        # a channel's share of the open findings: its accounts' and severities' rows (the audit's figure is whole)
        open_counts = severity_counts(f.severity for f in store.findings(FindingState.OPEN) if finding(f))
    else:
        alerts, alerts_before = store.alerts_between(since, until), store.alerts_between(before, since)
        muted_events, muting_mutes = store.muted_between(since, until)
        last = store.last_audit()
        open_counts = last.counts if last else {}  # the figure /iam status and the report show (core/severity.py)
    return Digest(
        since=since,
        until=until,
        unacknowledged=[
            a for a in store.alerts(status=AlertStatus.OPEN) if a.post_state != PostState.MUTED and alert(a)
        ],
        new_findings=new,
        resolved_findings=resolved,
        expiring_mutes=[m for m in store.mutes_expiring(timedelta(days=7)) if mute(m)],
        trend=Trend(
            alerts=alerts,
            alerts_before=alerts_before,
            new_findings=len(new),
            new_findings_before=sum(1 for f in old_changes.new if finding(f)),
            resolved_findings=len(resolved),
            resolved_findings_before=sum(1 for f in old_changes.resolved if finding(f)),
            open_findings=sum(open_counts.values()),
        ),
        muted_events=muted_events,
        muting_mutes=muting_mutes,
        muted=[m for m in store.mutes_created_between(since, until) if mute(m)],
        open_counts=open_counts,
    )
