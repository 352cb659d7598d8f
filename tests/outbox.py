"""Alerts left in a store's outbox, as the pipeline would have stored them (for the outbox and serving tests)."""

from __future__ import annotations

from core.alert import Alert
from core.severity import Severity
from storage import Store


def alert(n: int, actor: str = "arn:aws:iam::111122223333:user/mallory", severity=Severity.HIGH) -> Alert:
    """A user_created alert numbered `n` (event e<n>, target user u<n>) by `actor`."""
    return Alert(
        rule="user_created",
        severity=severity,
        title=f"User u{n} created",
        event_id=f"e{n}",
        event_name="CreateUser",
        event_source="iam.amazonaws.com",
        event_time="2026-11-23T08:00:00Z",
        account="111122223333",
        region="us-east-1",
        actor_arn=actor,
        actor_type="IAMUser",
        target=f"arn:aws:iam::111122223333:user/u{n}",
        dedup_key=f"user_created:e{n}",
        thread_key=f"111122223333:{actor}",
    )


def stored(store: Store, *alerts: Alert) -> list[int]:
    """Store `alerts` with their events in one batch, as the pipeline does; returns their ids."""
    events = [
        {
            "event_id": a.event_id,
            "event_name": a.event_name,
            "event_time": a.event_time,
            "account": a.account,
            "source": "test",
        }
        for a in alerts
    ]
    return store.store_batch(events, list(alerts))
