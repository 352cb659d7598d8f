"""core.settled: which buttons of an alert a finished action (on it or another alert) made moot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.actions import ActionId
from core.rows import ActionRow, AlertRow
from core.settled import settled
from core.states import ActionState

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
ACCOUNT = "111122223333"


def alert(alert_id: int, **fields) -> AlertRow:
    return AlertRow(id=alert_id, account=ACCOUNT, created_at=T0, **fields)


def done(
    action: str, on: AlertRow, state: ActionState = ActionState.DONE, after: int = 1
) -> tuple[ActionRow, AlertRow]:
    row = ActionRow(1, on.id, action, state, "U1", T0, finished_at=T0 + timedelta(minutes=after))
    return row, on


def test_all_keys_disabled_settle_every_key_button_of_that_user_only():
    grant = alert(1, remediation={"key_user": "bob"})
    key_button = alert(2, remediation={"key_user": "bob", "access_key_id": "AKIAB0B"})
    actor = alert(3, actor_user="bob", actor_key_id="AKIAB0B")
    carol = alert(4, remediation={"key_user": "carol"})
    elsewhere = AlertRow(id=5, account="999988887777", created_at=T0, remediation={"key_user": "bob"})
    finished = [done(ActionId.DISABLE_KEY, grant)]
    assert set(settled(key_button, finished)) == {ActionId.DISABLE_KEY}
    assert settled(actor, finished)[ActionId.DISABLE_ACTOR_KEY].what == "bob's keys disabled"
    assert settled(carol, finished) == {} and settled(elsewhere, finished) == {}
    assert settled(grant, finished) == {}  # its own button is its own trail's line


def test_one_key_disabled_settles_only_that_key():
    actor = alert(1, actor_user="bob", actor_key_id="AKIAONE")
    same_key = alert(2, remediation={"key_user": "bob", "access_key_id": "AKIAONE"})
    all_keys = alert(3, remediation={"key_user": "bob"})
    finished = [done(ActionId.DISABLE_ACTOR_KEY, actor)]
    assert settled(same_key, finished)[ActionId.DISABLE_KEY].what == "key AKIAONE of bob disabled"
    assert settled(all_keys, finished) == {}  # bob may have another active key


def test_failed_refused_and_later_alerts_settle_nothing_and_a_noop_says_so():
    grant = alert(1, remediation={"key_user": "bob"})
    other = alert(2, remediation={"key_user": "bob"})
    for state in (ActionState.FAILED, ActionState.REFUSED, ActionState.RUNNING, ActionState.AWAITING_APPROVAL):
        assert settled(other, [done(ActionId.DISABLE_KEY, grant, state)]) == {}
    later = AlertRow(id=3, account=ACCOUNT, created_at=T0 + timedelta(minutes=5), remediation={"key_user": "bob"})
    assert settled(later, [done(ActionId.DISABLE_KEY, grant)]) == {}
    noop = settled(other, [done(ActionId.DISABLE_KEY, grant, ActionState.NOOP)])[ActionId.DISABLE_KEY]
    assert noop.noop and noop.by == "U1" and noop.alert_id == 1


def test_a_detach_settles_the_same_grant_and_quarantine_the_user_and_keys():
    admin = {"principal_type": "user", "principal_name": "bob", "policy_arn": "arn:aws:iam::aws:policy/Admin"}
    first, again = alert(1, remediation=admin), alert(2, remediation={**admin, "key_user": "bob"})
    other = alert(3, remediation={**admin, "policy_arn": "arn:aws:iam::aws:policy/ReadOnly"})
    assert set(settled(again, [done(ActionId.DETACH_POLICY, first)])) == {ActionId.DETACH_POLICY}
    assert settled(other, [done(ActionId.DETACH_POLICY, first)]) == {}
    bob = f"arn:aws:iam::{ACCOUNT}:user/bob"
    quarantined = alert(4, actor_type="IAMUser", actor_user="bob", actor_arn=bob)
    about_bob = alert(5, target=bob, remediation={"key_user": "bob"})
    moot = settled(about_bob, [done(ActionId.QUARANTINE_USER, quarantined)])
    assert set(moot) == {ActionId.QUARANTINE_USER, ActionId.DISABLE_KEY}
    assert moot[ActionId.QUARANTINE_USER].what == "user bob quarantined"
