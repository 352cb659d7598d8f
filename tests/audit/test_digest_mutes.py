"""The digest says what rule mutes kept out of Slack in its period ("3 muted by 2 mutes"), and lists no muted alert
among the unacknowledged ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from audit.digest import build_digest
from core.alert import Alert
from core.severity import Severity
from slackui.blocks import digest_message
from storage import Store

START = datetime(2026, 11, 16, 9, tzinfo=UTC)


def store_alert(store: Store, event_id: str, mute_id: int | None) -> None:
    alert = Alert(
        rule="user_created",
        severity=Severity.MEDIUM,
        title=f"IAM user {event_id} created",
        event_id=event_id,
        event_name="CreateUser",
        event_source="iam.amazonaws.com",
        event_time="2026-11-17T08:00:00Z",
        account="111122223333",
        region="us-east-1",
        actor_arn="arn:aws:sts::111122223333:assumed-role/IdentityCFNServiceRole/cfn",
        actor_type="AssumedRole",
        dedup_key=event_id,
        mute_id=mute_id,
    )
    event = {"event_id": event_id, "event_name": "CreateUser", "event_time": alert.event_time, "account": "1"}
    store.store_batch([event], [alert])


def trend_fields(message: dict) -> list[str]:
    [trend] = [b for b in message["blocks"] if b.get("text", {}).get("text") == "*Trend*"]
    return [f["text"] for f in trend["fields"]]


def test_the_digest_counts_muted_alerts_and_the_mutes_that_muted_them(tmp_path):
    now = [START - timedelta(days=2)]
    store = Store(tmp_path / "d.db", clock=lambda: now[0])
    store_alert(store, "before", 1)  # muted in the previous period: not this digest's
    now[0] = START + timedelta(days=1)
    for event_id, mute_id in (("m1", 1), ("m2", 1), ("m3", 2), ("shown", None)):
        store_alert(store, event_id, mute_id)

    digest = build_digest(store, START, START + timedelta(days=7))
    assert (digest.muted_events, digest.muting_mutes) == (3, 2)
    assert [a.event_id for a in digest.unacknowledged] == ["shown"]  # muted alerts were never shown to anyone
    assert digest.trend.alerts == 4  # muted alerts are alerts raised all the same
    message = digest_message(digest)
    assert "*Muted alerts*\n3 muted by 2 mutes (`/iam mutes` lists them)" in trend_fields(message)
    assert "*Unacknowledged alerts (1)*" in str(message["blocks"])

    quiet = digest_message(build_digest(store, START + timedelta(days=7), START + timedelta(days=14)))
    assert "*Muted alerts*\nnone muted" in trend_fields(quiet)
    one = digest_message(build_digest(store, START - timedelta(days=7), START))
    assert "*Muted alerts*\n1 muted by 1 mute (`/iam mutes` lists them)" in trend_fields(one)
