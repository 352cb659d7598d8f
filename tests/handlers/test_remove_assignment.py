"""The Remove assignment button (iam_remove_assignment) over signed HTTP through the real Bolt app, against moto's
Identity Center: the alert's exact assignment is deleted, a second press does nothing more, a non-admin and the
last-admin guard are refused, and two admins are needed when IAMBOT_APPROVALS=2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from core.severity import Severity
from detections import example_records as samples
from tests.conftest import OUTSIDER
from tests.handlers.test_buttons import (
    ADMIN_POLICY,
    iam_user,
    ingest,
    posted_alert,
    thread_replies,
    wait_action,
    wait_ephemeral,
)
from tests.identity_center import ADMINISTRATOR_ACCESS, IdentityCenterBuilder

ACCOUNT = "123456789012"


@pytest.fixture
def center(aws: boto3.Session) -> IdentityCenterBuilder:
    return IdentityCenterBuilder(aws)


def holders(center: IdentityCenterBuilder, permission_set: str) -> list[tuple[str, str]]:
    reply = center.sso.list_account_assignments(
        InstanceArn=center.instance, AccountId=ACCOUNT, PermissionSetArn=permission_set
    )
    return sorted((a["PrincipalType"], a["PrincipalId"]) for a in reply["AccountAssignments"])


def assignment_alert(bot, center: IdentityCenterBuilder, permission_set: str, kind: str, principal: str):
    return posted_alert(
        bot,
        rule="identity_center_admin_grant",
        severity=Severity.CRITICAL,
        title=f"Admin permission set Admin assigned to {kind.lower()} {principal} in {ACCOUNT}",
        event_name="CreateAccountAssignment",
        event_source="sso.amazonaws.com",
        target=permission_set,
        actor_key_id="ASIAEXAMPLEACTOR0001",  # a session key: no actor-key button
        facts={"Permission set": "Admin", "Reach": "assigned to 2 principals in 1 account"},
        remediation={
            "sso_instance_arn": center.instance,
            "sso_account": ACCOUNT,
            "sso_permission_set_arn": permission_set,
            "sso_principal_type": kind,
            "sso_principal_id": principal,
        },
    )


def buttons_of(message_blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in message_blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.fixture
def admin_set(center: IdentityCenterBuilder) -> tuple[str, str, str]:
    """An admin permission set held in the account by a group and a user; returns (set, group, user)."""
    admin = center.permission_set("Admin", managed=[ADMINISTRATOR_ACCESS])
    group = center.group("Admins", [center.user("alice")])
    user = center.user("mallory")
    center.assign(admin, group, ACCOUNT, "GROUP")
    center.assign(admin, user, ACCOUNT)
    return admin, group, user


def test_remove_assignment_deletes_exactly_that_assignment_and_a_second_press_does_nothing(
    make_bot, aws, center, admin_set
):
    admin, group, user = admin_set
    bot = make_bot(session=aws)
    alert = assignment_alert(bot, center, admin, "USER", user)
    posted = bot.fake.calls_of("chat.postMessage")[-1].args
    assert "iam_remove_assignment" in buttons_of(posted["blocks"])
    assert "iam_detach_policy" not in buttons_of(posted["blocks"])

    assert bot.click(alert, "iam_remove_assignment", "U0ADMIN1").status == 200
    [action] = wait_action(bot, alert)

    assert action.state == "done" and action.requested_by == "U0ADMIN1"
    assert holders(center, admin) == [("GROUP", group)]  # the group's assignment is untouched
    assert bot.fake.wait_for(lambda: thread_replies(bot, alert))
    assert (
        f"removed the assignment of {admin.rsplit('/', 1)[-1]} to user {user}" in thread_replies(bot, alert)[0]["text"]
    )
    updated = bot.fake.calls_of("chat.update")[-1].args
    assert "iam_remove_assignment" not in buttons_of(updated["blocks"])

    bot.click(alert, "iam_remove_assignment", "U0ADMIN2")
    note = wait_ephemeral(bot, 1)
    assert note["user"] == "U0ADMIN2" and "<@U0ADMIN1>" in note["text"] and "Nothing more to do" in note["text"]
    assert [a.state for a in bot.store.actions(alert.id)] == ["done"]


def test_an_assignment_already_gone_is_nothing_to_do(make_bot, aws, center, admin_set):
    admin, _group, user = admin_set
    center.sso.delete_account_assignment(
        InstanceArn=center.instance,
        TargetId=ACCOUNT,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=admin,
        PrincipalType="USER",
        PrincipalId=user,
    )
    bot = make_bot(session=aws)
    alert = assignment_alert(bot, center, admin, "USER", user)
    bot.click(alert, "iam_remove_assignment", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "noop" and "no longer holds" in action.detail


def test_non_admin_is_refused_and_the_assignment_stays(make_bot, aws, center, admin_set):
    admin, group, user = admin_set
    bot = make_bot(session=aws)
    alert = assignment_alert(bot, center, admin, "USER", user)
    bot.click(alert, "iam_remove_assignment", OUTSIDER)
    note = wait_ephemeral(bot, 1)
    assert note["user"] == OUTSIDER and "Only IAM Warden admins" in note["text"]
    assert holders(center, admin) == sorted([("GROUP", group), ("USER", user)])
    assert {a.state for a in bot.store.actions(alert.id)} == {"refused"}


def test_the_last_holder_is_kept_when_the_account_has_no_iam_admin(make_bot, aws, center):
    admin = center.permission_set("Admin", managed=[ADMINISTRATOR_ACCESS])
    user = center.user("alice")
    center.assign(admin, user, ACCOUNT)
    bot = make_bot(session=aws)
    alert = assignment_alert(bot, center, admin, "USER", user)
    bot.click(alert, "iam_remove_assignment", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "refused" and "last holder" in action.detail
    assert holders(center, admin) == [("USER", user)]


def test_the_last_holder_may_go_when_an_iam_admin_remains(make_bot, aws, center):
    iam_user(aws.client("iam"), "breakglass", admin=True)
    assert aws.client("iam").list_attached_user_policies(UserName="breakglass")["AttachedPolicies"][0]["PolicyArn"] == (
        ADMIN_POLICY
    )
    admin = center.permission_set("Admin", managed=[ADMINISTRATOR_ACCESS])
    user = center.user("alice")
    center.assign(admin, user, ACCOUNT)
    bot = make_bot(session=aws)
    alert = assignment_alert(bot, center, admin, "USER", user)
    bot.click(alert, "iam_remove_assignment", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "done" and holders(center, admin) == []


def test_two_admins_are_needed_when_approvals_is_two(make_bot, aws, center, admin_set):
    admin, group, user = admin_set
    bot = make_bot(session=aws, approvals=2)
    alert = assignment_alert(bot, center, admin, "GROUP", group)
    bot.click(alert, "iam_remove_assignment", "U0ADMIN1")
    assert bot.fake.wait_for(lambda: thread_replies(bot, alert))
    assert "needs 1 more admin" in thread_replies(bot, alert)[0]["text"]
    assert ("GROUP", group) in holders(center, admin)
    bot.click(alert, "iam_remove_assignment", "U0ADMIN1")
    assert "different admin" in wait_ephemeral(bot, 1)["text"]
    bot.click(alert, "iam_remove_assignment", "U0ADMIN2")
    assert bot.fake.wait_for(lambda: bot.store.actions(alert.id)[-1].state == "done")
    action = bot.store.actions(alert.id)[-1]
    assert (action.requested_by, action.approved_by) == ("U0ADMIN1", "U0ADMIN2")
    assert holders(center, admin) == [("USER", user)]


def test_an_assignment_the_button_removed_created_again_is_one_critical_alert_offering_the_button_again(
    make_bot, aws, center, admin_set
):
    admin, _group, user = admin_set
    bot = make_bot(session=aws)
    alert = assignment_alert(bot, center, admin, "USER", user)
    bot.click(alert, "iam_remove_assignment", "U0ADMIN1")
    assert wait_action(bot, alert)[0].state == "done"

    again = {
        "instanceArn": center.instance,
        "targetId": ACCOUNT,
        "targetType": "AWS_ACCOUNT",
        "permissionSetArn": admin,
        "principalType": "USER",
        "principalId": user,
    }
    later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = samples.sso_call("CreateAccountAssignment", again, event_id="assign-again", time=later)
    reverted = ingest(bot, record)  # exactly one alert: identity_center_admin_grant is superseded
    assert (reverted.rule, reverted.severity) == ("remediation_reverted", Severity.CRITICAL)
    set_id = admin.rsplit("/", 1)[-1]
    assert reverted.title == (
        f"Identity Center assignment the bot removed created again: {set_id} to user {user} in {ACCOUNT}"
    )
    assert f"alert #{alert.id}'s button" in reverted.facts["Undone by the bot"]
    assert "iam_remove_assignment" in buttons_of(bot.fake.calls_of("chat.postMessage")[-1].args["blocks"])

    other = {**again, "principalId": _group, "principalType": "GROUP"}  # never removed by the bot: no revert
    assert not any(
        a.rule == "remediation_reverted"
        for a in map(
            bot.store.alert,
            bot.rt.pipeline.process(
                [samples.sso_call("CreateAccountAssignment", other, event_id="assign-other", time=later)], "test"
            ).alert_ids,
        )
    )
