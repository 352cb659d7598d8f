"""The store's typed rows: states come back as their enums, times as aware datetimes, JSON columns decoded,
and a database written before the rows were typed reads the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.rows import AlertRow, FindingRow
from core.severity import Severity
from core.states import ActionState, AlertStatus, FindingState, PostState
from storage import Store
from tests.storage.test_store import event, make

NOW = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


def test_alert_and_action_rows_carry_enums_and_datetimes(tmp_path):
    store = Store(tmp_path / "s.db", clock=lambda: NOW)
    alert = make("e1")
    alert.mfa, alert.facts = False, {"Who": "alice"}
    [alert_id] = store.store_batch([event("e1")], [alert])
    changed, row = store.acknowledge(alert_id, "U1")
    assert changed and isinstance(row, AlertRow)
    assert (row.status, row.post_state, row.severity) == (AlertStatus.ACKNOWLEDGED, PostState.PENDING, Severity.HIGH)
    assert type(row.status) is AlertStatus and type(row.severity) is Severity
    assert row.created_at == row.acked_at == NOW and row.posted_at is None
    assert row.mfa is False and row.facts == {"Who": "alice"} and row.remediation == {}
    _, action = store.claim_action(alert_id, "iam_disable_key", "U1")
    done = store.finish_action(action.id, ActionState.DONE, "ok")
    assert type(done.state) is ActionState and done.finished_at == NOW and done.created_at == NOW


def test_finding_mute_and_audit_rows_are_typed(tmp_path):
    store = Store(tmp_path / "s.db", clock=lambda: NOW)
    mute = store.add_mute("c", "1", "r", "why", "U1", days=7)
    assert mute.expires_at - mute.created_at == timedelta(days=7) and mute.removed_at is None
    assert store.mutes_expiring(timedelta(days=8)) == [mute] and store.mutes_expiring(timedelta(days=6)) == []
    audit_id = store.start_audit("test", None, ["1"])
    store.record_findings(audit_id, [], {("1", "c")}, ["1: could not check x (y)"])
    last = store.last_audit()
    assert last is not None and (last.id, last.accounts, last.counts) == (audit_id, ["1"], {})
    assert last.errors == ["1: could not check x (y)"]
    assert last.finished_at == NOW and last.new == 0


def test_a_row_written_by_the_untyped_store_reads_back_typed(tmp_path):
    store = Store(tmp_path / "s.db", clock=lambda: NOW)
    # Text exactly as the store has always written it (times with microseconds and Z, states as plain text).
    store.db["findings"].insert(
        {
            "check_id": "c",
            "account": "1",
            "resource": "r",
            "severity": "critical",
            "title": "T",
            "detail": "d",
            "status": "open",
            "first_seen": "2026-11-01T06:00:00.000000Z",
            "last_seen": "2026-11-22T06:00:00.000000Z",
            "first_audit": 1,
            "last_audit": 4,
        }
    )
    [row] = store.findings(FindingState.OPEN)
    assert row == FindingRow(
        id=1,
        check_id="c",
        account="1",
        resource="r",
        severity=Severity.CRITICAL,
        title="T",
        detail="d",
        status=FindingState.OPEN,
        first_seen=datetime(2026, 11, 1, 6, tzinfo=UTC),
        last_seen=datetime(2026, 11, 22, 6, tzinfo=UTC),
        first_audit=1,
        last_audit=4,
    )
