"""States and button ids are defined once (core/states.py, core/actions.py): the store and the remediation side
hand their members across, the messages agree with the store on what is final, and SQLite keeps the old text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aws.remediation import Remediator
from aws.sessions import AwsSessions
from core.actions import ALERT_ACTIONS, DESTRUCTIVE, ActionId
from core.alert import Alert
from core.rows import AlertRow
from core.severity import Severity
from core.states import FINAL_STATES, ActionState, ClaimVerdict
from slackui import blocks
from storage import Store


def _stored_alert(store: Store) -> int:
    """One stored alert whose remediation offers the disable-key button."""
    alert = Alert(
        rule="root_activity",
        severity=Severity.HIGH,
        title="t",
        event_id="e1",
        event_name="CreateAccessKey",
        event_source="iam.amazonaws.com",
        event_time="2026-11-23T08:00:00Z",
        account="111122223333",
        region="us-east-1",
        actor_arn="arn:aws:iam::111122223333:root",
        actor_type="Root",
        dedup_key="k",
        remediation={"key_user": "alice"},
    )
    event = {"event_id": "e1", "event_name": "CreateAccessKey", "event_time": alert.event_time, "account": "1"}
    [alert_id] = store.store_batch([{**event, "source": "t"}], [alert])
    return alert_id


def test_claims_answer_with_verdicts_and_sqlite_keeps_the_state_text(tmp_path):
    store = Store(tmp_path / "a.db")
    alert_id = _stored_alert(store)

    verdict, row = store.claim_action(alert_id, ActionId.DISABLE_KEY, "U1", approvals=2)
    assert verdict is ClaimVerdict.AWAITING
    assert store.claim_action(alert_id, ActionId.DISABLE_KEY, "U1", approvals=2)[0] is ClaimVerdict.SAME_APPROVER
    verdict, row = store.claim_action(alert_id, ActionId.DISABLE_KEY, "U2", approvals=2)
    assert verdict is ClaimVerdict.RUN
    assert (row.state, row.approved_by) == ("running", "U2")
    done = store.finish_action(row.id, ActionState.DONE, "ok")
    assert store.claim_action(alert_id, ActionId.DISABLE_KEY, "U3", approvals=2)[0] is ClaimVerdict.ALREADY

    # What SQLite holds is the plain text the rows held before the enums: no data migration. The typed row
    # hands the state back as its enum.
    raw = store.db["actions"].get(done.id)
    assert type(raw["state"]) is str and raw["state"] == "done"
    assert (raw["action"], type(raw["action"])) == ("iam_disable_key", str)
    [stored] = store.actions(alert_id)
    assert (stored.action, stored.state) == ("iam_disable_key", "done")
    assert stored.state is ActionState.DONE and done.state is ActionState.DONE


@pytest.mark.parametrize("state", list(ActionState))
def test_the_store_and_the_message_agree_on_which_states_are_final(tmp_path, state):
    store = Store(tmp_path / "a.db")
    alert_id = _stored_alert(store)
    _, row = store.claim_action(alert_id, ActionId.DISABLE_KEY, "U1")
    store.finish_action(row.id, state, "recorded")

    rerun = store.claim_action(alert_id, ActionId.DISABLE_KEY, "U2")[0] is ClaimVerdict.RUN
    alert = store.alert(alert_id)
    assert alert is not None
    message = blocks.alert_message(alert, "why", "what", store.actions(alert_id))
    offered = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]

    assert (ActionId.DISABLE_KEY in offered) is (state not in FINAL_STATES)
    assert rerun is (state not in FINAL_STATES and state is not ActionState.RUNNING)


def test_every_action_state_has_its_icon_and_every_alert_button_its_label():
    assert set(blocks.STATE_ICONS) == set(ActionState)
    assert set(blocks.ACTION_LABELS) == set(ALERT_ACTIONS)


def test_every_remediation_id_is_dispatched_and_answers_with_an_action_state(aws):
    iam = aws.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    sessions = AwsSessions(aws)
    alert = AlertRow(
        id=1,
        rule="access_key_created",
        severity=Severity.HIGH,
        title="t",
        event_id="e1",
        event_name="CreateAccessKey",
        event_source="iam.amazonaws.com",
        event_time="2026-11-23T08:00:00Z",
        account=sessions.own_account(),
        region="us-east-1",
        actor_arn="arn:aws:iam::123456789012:user/alice",
        actor_type="IAMUser",
        created_at=datetime(2026, 11, 23, 8, tzinfo=UTC),
        remediation={"key_user": "alice"},  # names no policy grant: the detach guard refuses
        actor_key_id=key,
        actor_user="alice",
    )

    states = [Remediator(sessions).run(action, alert).state for action in DESTRUCTIVE]

    assert DESTRUCTIVE == (
        ActionId.DETACH_POLICY,
        ActionId.DISABLE_KEY,
        ActionId.DISABLE_ACTOR_KEY,
        ActionId.REMOVE_ASSIGNMENT,
    )
    # The key disabled by the second button leaves nothing for the third to do; the alert names no assignment.
    assert states == [ActionState.REFUSED, ActionState.DONE, ActionState.NOOP, ActionState.REFUSED]
    assert all(type(state) is ActionState for state in states)
    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"][0]["Status"] == "Inactive"
