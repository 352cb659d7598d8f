"""remediation_reverted through the real button path: an admin's click takes a grant away in moto, and the
CloudTrail record of someone giving it back, run through the real pipeline, raises the critical alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from core.rows import AlertRow
from core.severity import Severity
from detections import example_records as samples
from tests.handlers.test_buttons import ADMIN_POLICY, iam_user, ingest, key_states, wait_action


@pytest.fixture
def sample_account(aws_env, monkeypatch):
    """moto acting as the account the sample CloudTrail records come from."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", samples.ACCOUNT)
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def later() -> str:
    """An event time after the click (the bot's fact is stamped with the wall clock)."""
    return (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def granted(bot, iam, actor: dict) -> AlertRow:
    """The privileged_grant alert for AdministratorAccess attached to mallory, posted with its buttons."""
    record = samples.iam_call(
        "AttachUserPolicy", {"userName": "mallory", "policyArn": ADMIN_POLICY}, event_id="grant-mallory", actor=actor
    )
    alert = ingest(bot, record)
    assert alert.rule == "privileged_grant"
    return alert


def test_a_key_the_button_disabled_made_active_again_is_critical(make_bot, sample_account):
    iam = sample_account.client("iam")
    [alice_key] = iam_user(iam, "alice", admin=True, keys=1)
    [mallory_key] = iam_user(iam, "mallory", admin=True, keys=1)
    alice = {**samples.iam_user("alice"), "accessKeyId": alice_key}
    bot = make_bot(session=sample_account)
    alert = granted(bot, iam, alice)

    bot.click(alert, "iam_disable_key", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "done" and key_states(iam, "mallory") == {mallory_key: "Inactive"}

    iam.update_access_key(UserName="mallory", AccessKeyId=mallory_key, Status="Active")  # what the record says
    revert = samples.iam_call(
        "UpdateAccessKey",
        {"userName": "mallory", "accessKeyId": mallory_key, "status": "Active"},
        event_id="reenable-mallory",
        actor=alice,
        time=later(),
    )
    reverted = ingest(bot, revert)
    assert (reverted.rule, reverted.severity) == ("remediation_reverted", Severity.CRITICAL)
    assert reverted.title == f"Access key {mallory_key} of user mallory made Active again"
    assert f"alert #{alert.id}'s button" in reverted.facts["Undone by the bot"]
    assert reverted.remediation == {"key_user": "mallory", "access_key_id": mallory_key}

    other = samples.iam_call(  # alice's own key was never touched by the bot
        "UpdateAccessKey",
        {"userName": "alice", "accessKeyId": alice_key, "status": "Active"},
        event_id="reenable-alice",
        actor=alice,
        time=later(),
    )
    assert bot.rt.pipeline.process([other], "test").alert_ids == []


def test_a_policy_the_button_detached_attached_again_replaces_the_grant_alert(make_bot, sample_account):
    iam = sample_account.client("iam")
    [alice_key] = iam_user(iam, "alice", admin=True, keys=1)
    iam_user(iam, "mallory", admin=True)
    alice = {**samples.iam_user("alice"), "accessKeyId": alice_key}
    bot = make_bot(session=sample_account)
    alert = granted(bot, iam, alice)

    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "done"

    iam.attach_user_policy(UserName="mallory", PolicyArn=ADMIN_POLICY)
    again = samples.iam_call(
        "AttachUserPolicy",
        {"userName": "mallory", "policyArn": ADMIN_POLICY},
        event_id="grant-mallory-again",
        actor=alice,
        time=later(),
    )
    result = bot.rt.pipeline.process([again], "test")
    assert [a.rule for a in result.alerts] == ["remediation_reverted"]  # not privileged_grant as well
    assert bot.rt.poster.drain() == 1
    reverted = bot.store.alert(result.alert_ids[0])
    assert reverted.remediation["policy_arn"] == ADMIN_POLICY

    bot.click(reverted, "iam_detach_policy", "U0ADMIN2")  # and the new alert's button takes it away again
    [redone] = wait_action(bot, reverted)
    assert redone.state == "done"
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="mallory")["AttachedPolicies"]] == []
