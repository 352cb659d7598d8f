"""The digest's content: unacknowledged alerts, new and resolved findings, expiring mutes, trend."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from audit.digest import build_digest
from checks.base import Status
from checks.engine import Result
from core.alert import Alert
from core.severity import Severity
from slackui.blocks import digest_message
from storage import Store

START = datetime(2026, 11, 16, 9, tzinfo=UTC)


def test_digest_counts_and_renders(tmp_path):
    now = [START - timedelta(days=3)]
    store = Store(tmp_path / "d.db", clock=lambda: now[0])

    def alert(event_id: str) -> None:
        a = Alert(
            rule="root_login",
            severity=Severity.CRITICAL,
            title="Root user signed in without MFA",
            event_id=event_id,
            event_name="ConsoleLogin",
            event_source="signin.amazonaws.com",
            event_time="2026-11-20T08:00:00Z",
            account="1",
            region="us-east-1",
            actor_arn="arn:aws:iam::1:root",
            actor_type="Root",
            dedup_key=event_id,
        )
        store.store_batch(
            [
                {
                    "event_id": event_id,
                    "event_name": "ConsoleLogin",
                    "event_time": a.event_time,
                    "account": "1",
                    "source": "t",
                }
            ],
            [a],
        )

    def audit(failing: list[str]) -> None:
        audit_id = store.start_audit("test", None, ["1"])
        rows = [Result("c", Severity.HIGH, "1", r, Status.FAIL, "T", "d") for r in failing]
        store.record_findings(audit_id, rows, {("1", "c")}, [])

    alert("before-1")  # previous period
    audit(["r-old", "r-fixed"])
    now[0] = START + timedelta(days=2)
    alert("this-1")
    alert("this-2")
    store.acknowledge(store.alerts()[-1].id, "U0ADMIN1")
    audit(["r-old", "r-new"])  # r-fixed resolved, r-new appeared
    store.add_mute("c", "1", "r-old", "accepted risk", "U0ADMIN1", days=3)
    now[0] = START + timedelta(days=7)
    digest = build_digest(store, START, START + timedelta(days=7))
    assert [a.event_id for a in digest.unacknowledged] == ["before-1", "this-1"]
    assert [f.resource for f in digest.new_findings] == ["r-new"]
    assert [f.resource for f in digest.resolved_findings] == ["r-fixed"]
    assert digest.expiring_mutes == []  # already expired by now
    assert dataclasses.asdict(digest.trend) == {
        "alerts": 2,
        "alerts_before": 1,
        "new_findings": 1,
        "new_findings_before": 1,
        "resolved_findings": 1,
        "resolved_findings_before": 0,
        "open_findings": 2,
    }
    text = str(digest_message(digest)["blocks"])
    assert "Unacknowledged alerts (2)" in text and "r-new" in text and "r-fixed" in text
    assert "2 (+1 vs previous period)" in text
    store.close()


def test_expiring_mutes_listed(tmp_path):
    now = [START]
    store = Store(tmp_path / "d.db", clock=lambda: now[0])
    store.add_mute("c", "1", "r", "waiting for vendor", "U0ADMIN1", days=5)
    store.add_mute("c", "1", "r2", "long", "U0ADMIN1", days=60)
    digest = build_digest(store, START - timedelta(days=7), START)
    assert [m.resource for m in digest.expiring_mutes] == ["r"]
    assert "waiting for vendor" in str(digest_message(digest)["blocks"])
    store.close()


def test_requested_period_days_else_since_the_last_digest_else_a_week():
    from audit.service import requested_period

    now = START + timedelta(days=30)
    assert requested_period(now, 3, START) == (now - timedelta(days=3), now)
    assert requested_period(now, None, START) == (START, now)
    assert requested_period(now, None, None) == (now - timedelta(days=7), now)
    assert requested_period(now, None, now + timedelta(hours=1)) == (now - timedelta(days=7), now)  # clock skew
    assert requested_period(now, None, now - timedelta(days=800)) == (now - timedelta(days=365), now)


def test_unsafe_permalinks_are_not_linked(tmp_path):
    from core.digest import Digest, Trend
    from core.rows import AlertRow

    alert = AlertRow(id=7, severity=Severity.HIGH, title="T", actor_arn="a", created_at=START)
    digest = Digest(START, START, [alert], [], [], [], Trend(0, 0, 0, 0, 0, 0, 0))
    for bad in ("javascript:alert(1)", "https://x.slack.com/a|b", "https://x.slack.com/a>b", "http://x/"):
        assert "<" not in str(digest_message(digest, {7: bad})["blocks"][2])
    good = "https://x.slack.com/archives/C1/p1"
    assert f"<{good}|T>" in digest_message(digest, {7: good})["blocks"][2]["text"]["text"]
