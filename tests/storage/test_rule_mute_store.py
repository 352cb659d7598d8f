"""The rule_mutes table: one active mute per rule, scope, value and account; lifting, expiry, what they muted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from core.alert import Alert
from core.rule_mutes import MuteScope
from core.severity import Severity
from core.states import PostState
from storage import Store
from storage.schema import MIGRATIONS

START = datetime(2026, 11, 20, 9, tzinfo=UTC)
ROLE = "arn:aws:iam::*:role/IdentityCFNServiceRole"


def test_add_is_once_per_rule_scope_value_and_account(tmp_path):
    store = Store(tmp_path / "m.db", clock=lambda: START)
    made, mute = store.add_rule_mute("user_created", MuteScope.ACTOR, ROLE, "CFN deploys", "U1", 30)
    assert made and mute.id == 1 and mute.scope is MuteScope.ACTOR and mute.value == ROLE
    assert (mute.muted_by, mute.reason, mute.account, mute.alert_id) == ("U1", "CFN deploys", None, None)
    assert mute.expires_at == START + timedelta(days=30) and mute.created_at == START
    again, same = store.add_rule_mute("user_created", MuteScope.ACTOR, ROLE, "another reason", "U2", 7)
    assert not again and same == mute
    other, in_account = store.add_rule_mute(
        "user_created", MuteScope.ACTOR, ROLE, "r", "U2", 7, account="1", alert_id=9
    )
    assert other and in_account.id == 2 and (in_account.account, in_account.alert_id) == ("1", 9)
    assert [m.id for m in store.active_rule_mutes()] == [2, 1]  # soonest to expire first


def test_lift_and_expiry(tmp_path):
    now = [START]
    store = Store(tmp_path / "m.db", clock=lambda: now[0])
    _, short = store.add_rule_mute("user_created", MuteScope.TARGET, "arn:aws:iam::1:user/ci", "r", "U1", 1)
    _, long = store.add_rule_mute("root_login", MuteScope.ACCOUNT, "111122223333", "r", "U1", 10)
    lifted = store.remove_rule_mute(long.id, "U2")
    assert lifted is not None and lifted.removed_by == "U2" and lifted.removed_at == START
    assert store.remove_rule_mute(long.id, "U2") is None  # already lifted
    assert [m.id for m in store.active_rule_mutes()] == [short.id]
    now[0] = START + timedelta(days=1, seconds=1)
    assert store.active_rule_mutes() == []
    assert store.remove_rule_mute(short.id, "U1") is None  # expired
    assert store.rule_mute(short.id) == short  # still on record
    made, _ = store.add_rule_mute("user_created", MuteScope.TARGET, "arn:aws:iam::1:user/ci", "r", "U1", 1)
    assert made  # an expired mute does not stand in the way of a new one


def _alert(event_id: str, mute_id: int | None, occurrences_key: str | None = None) -> Alert:
    return Alert(
        rule="user_created",
        severity=Severity.MEDIUM,
        title="IAM user created",
        event_id=event_id,
        event_name="CreateUser",
        event_source="iam.amazonaws.com",
        event_time="2026-11-20T08:00:00Z",
        account="1",
        region="us-east-1",
        actor_arn="arn:aws:iam::1:user/a",
        actor_type="IAMUser",
        dedup_key=occurrences_key or event_id,
        mute_id=mute_id,
    )


def _event(event_id: str) -> dict:
    return {"event_id": event_id, "event_name": "CreateUser", "event_time": "2026-11-20T08:00:00Z", "account": "1"}


def test_muted_alerts_are_stored_counted_and_never_in_the_outbox(tmp_path):
    now = [START]
    store = Store(tmp_path / "m.db", clock=lambda: now[0])
    events = [_event(e) for e in ("e1", "e2", "e3", "e4", "e5")]
    alerts = [_alert("e1", 1, "k"), _alert("e2", 1, "k"), _alert("e3", 2), _alert("e4", None), _alert("e5", 1)]
    ids = store.store_batch(events, alerts, {"user_created": 60})
    assert len(ids) == 4  # e2 folded into e1: same mute, same dedup key
    muted = [a for a in store.alerts() if a.mute_id is not None]
    assert [(a.event_id, a.mute_id, a.post_state, a.occurrences) for a in muted] == [
        ("e1", 1, PostState.MUTED, 2),
        ("e3", 2, PostState.MUTED, 1),
        ("e5", 1, PostState.MUTED, 1),
    ]
    assert [a.event_id for a in store.alerts_to_post()] == ["e4"]
    assert store.seen_events(["e1", "e2", "e3"]) == {"e1", "e2", "e3"}  # the events are stored too
    assert store.counts().unposted == 1 and store.counts().open == 1
    assert store.muted_alerts() == 3
    assert store.muted_between(START, START + timedelta(hours=1)) == (4, 2)  # 4 events, by 2 mutes
    assert store.muted_between(START + timedelta(hours=1), START + timedelta(hours=2)) == (0, 0)


def test_a_database_from_before_rule_mutes_gains_them(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for version, step in enumerate(MIGRATIONS[:4], start=1):
        step(db)
        db["schema_migrations"].insert({"version": version, "applied_at": "2026-01-01T00:00:00Z"})
    db["alerts"].insert({"id": 7, "rule": "user_created", "severity": "medium", "post_state": "posted"})
    db.conn.close()
    store = Store(path)
    assert store.alert(7).mute_id is None and store.alert(7).post_state is PostState.POSTED
    assert store.add_rule_mute("user_created", MuteScope.ACTOR, "*", "r", "U1", 1)[0]
