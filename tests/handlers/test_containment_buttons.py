"""The containment buttons over signed HTTP against moto: Quarantine user and Revoke role sessions, each pressed
by an admin, pressed twice, refused, approved by two admins, and stopped by the guards."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from slack_sdk.models.blocks import Block

from core.containment import QUARANTINE_INLINE, QUARANTINE_POLICY_ARN, REVOKE_INLINE
from core.severity import Severity
from detections import example_records as samples
from tests.conftest import OUTSIDER
from tests.handlers.test_buttons import (
    ACCOUNT,
    ADMIN_POLICY,
    admin_bot,
    attached,
    ingest,
    key_states,
    posted_alert,
    thread_replies,
    wait_action,
    wait_ephemeral,
)
from tests.handlers.test_buttons import iam_user as make_user

QUARANTINE = "iam_quarantine_user"
REVOKE = "iam_revoke_sessions"


def as_actor(name: str, account: str = ACCOUNT) -> dict:
    """Alert fields for an IAM user acting."""
    return {
        "actor_arn": f"arn:aws:iam::{account}:user/{name}",
        "actor_type": "IAMUser",
        "actor_user": name,
        "actor_key_id": None,
        "account": account,
    }


def as_role(role: str, account: str = ACCOUNT, session: str = "mallory@example.com") -> dict:
    """Alert fields for an assumed-role session acting (a target that is no user, so only Revoke shows)."""
    return {
        "actor_arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "actor_type": "AssumedRole",
        "actor_user": None,
        "actor_key_id": "ASIAEXAMPLETEMP00001",
        "account": account,
        "target": f"arn:aws:iam::{account}:role/deployer",
        "remediation": {},
    }


def suspect(iam, name: str = "mallory", *, admin: bool = False, keys: int = 2, password: bool = True) -> list[str]:
    made = make_user(iam, name, admin=admin, keys=keys)
    if password:
        iam.create_login_profile(UserName=name, Password="Correct-Horse-9-Battery")
    return made


def has_password(iam, user: str) -> bool:
    try:
        iam.get_login_profile(UserName=user)
    except ClientError as err:
        assert err.response["Error"]["Code"] == "NoSuchEntity"
        return False
    return True


def revoke_policy(iam, role: str) -> dict | None:
    try:
        return iam.get_role_policy(RoleName=role, PolicyName=REVOKE_INLINE)["PolicyDocument"]
    except ClientError as err:
        assert err.response["Error"]["Code"] == "NoSuchEntity"
        return None


def make_role(iam, name: str, admin: bool = False) -> None:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}}]}
    trust["Statement"][0]["Action"] = "sts:AssumeRole"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    if admin:
        iam.attach_role_policy(RoleName=name, PolicyArn=ADMIN_POLICY)


def buttons(message: dict) -> dict[str, dict]:
    """action id -> button element of a posted message."""
    return {e["action_id"]: e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]}


def valid_slack_block(block: dict) -> None:
    """The block parses as slack_sdk's model, each button and confirm validates, and nothing is lost on the way."""
    parsed = Block.parse(block)
    assert parsed is not None and parsed.to_dict() == block
    parsed.validate_json()
    for element in parsed.elements:
        element.validate_json()
        if element.confirm is not None:
            element.confirm.validate_json()


@pytest.fixture
def iam(aws: boto3.Session):
    client = aws.client("iam")
    make_user(client, "alice", admin=True)  # a second admin: quarantining an admin is allowed
    return client


# -- Quarantine user -----------------------------------------------------------------------------------------


def test_quarantine_user_attaches_aws_quarantine_disables_keys_and_deletes_the_password(make_bot, aws, iam):
    keys = suspect(iam, admin=True)
    bot = make_bot(session=aws)
    alert = posted_alert(bot, **as_actor("mallory"))

    message = bot.fake.calls_of("chat.postMessage")[-1].args
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    valid_slack_block(actions)
    button = buttons(message)[QUARANTINE]
    assert button["text"]["text"] == "Quarantine user mallory" and button["style"] == "danger"
    assert button["value"] == str(alert.id)
    ask = button["confirm"]["text"]["text"]
    assert "console password of user mallory: it cannot be restored" in ask
    assert "AWSCompromisedKeyQuarantineV3" in ask and "every access key Inactive" in ask
    assert REVOKE not in buttons(message)  # the actor is a user, not a role session

    assert bot.click(alert, QUARANTINE, "U0ADMIN1").status == 200
    [action] = wait_action(bot, alert)
    assert action.state == "done", action
    assert QUARANTINE_POLICY_ARN in attached(iam, "mallory") and ADMIN_POLICY in attached(iam, "mallory")
    assert key_states(iam, "mallory") == dict.fromkeys(keys, "Inactive")
    assert not has_password(iam, "mallory")
    assert attached(iam, "alice") == [ADMIN_POLICY]
    assert action.detail.startswith("quarantined user mallory in account 123456789012: attached")
    assert "cannot be restored" in action.detail and all(k in action.detail for k in keys)
    assert action.aws_request_id and action.aws_request_id.count(",") == 3  # attach, two keys, password

    assert bot.fake.wait_for(lambda: thread_replies(bot, alert))
    assert "user quarantine on alert" in thread_replies(bot, alert)[0]["text"]
    assert bot.fake.wait_for(lambda: bot.fake.calls_of("chat.update"))
    updated = bot.fake.calls_of("chat.update")[-1].args
    assert QUARANTINE not in buttons(updated)
    assert any("user quarantine by <@U0ADMIN1>" in str(b) for b in updated["blocks"])


def test_quarantine_pressed_twice_acts_once_and_a_later_alert_finds_nothing_to_do(make_bot, aws, iam):
    keys = suspect(iam)
    bot = make_bot(session=aws)
    alert = posted_alert(bot, **as_actor("mallory"))
    bot.click(alert, QUARANTINE, "U0ADMIN1")
    [done] = wait_action(bot, alert)
    assert done.state == "done"
    iam.update_access_key(UserName="mallory", AccessKeyId=keys[0], Status="Active")  # someone turns one back on

    bot.click(alert, QUARANTINE, "U0ADMIN2")  # the same button again: the store says it is done
    note = wait_ephemeral(bot, 1)
    assert note["user"] == "U0ADMIN2" and "<@U0ADMIN1>" in note["text"] and "Nothing more to do" in note["text"]
    assert [a.state for a in bot.store.actions(alert.id)] == ["done"]
    assert key_states(iam, "mallory")[keys[0]] == "Active"  # the second press did not act again

    iam.update_access_key(UserName="mallory", AccessKeyId=keys[0], Status="Inactive")
    later = posted_alert(bot, **as_actor("mallory"))  # another alert about the same user
    bot.click(later, QUARANTINE, "U0ADMIN1")
    [noop] = wait_action(bot, later)
    assert noop.state == "noop" and "already quarantined" in noop.detail
    assert attached(iam, "mallory") == [QUARANTINE_POLICY_ARN]


def test_quarantine_refused_for_a_non_admin_and_nothing_changes(make_bot, aws, iam):
    keys = suspect(iam)
    bot = make_bot(session=aws)
    alert = posted_alert(bot, **as_actor("mallory"))
    assert bot.click(alert, QUARANTINE, OUTSIDER).status == 200
    note = wait_ephemeral(bot, 1)
    assert note["user"] == OUTSIDER and "Only IAM Warden admins can run user quarantine" in note["text"]
    assert [a.state for a in bot.store.actions(alert.id)] == ["refused"]
    assert attached(iam, "mallory") == [] and has_password(iam, "mallory")
    assert key_states(iam, "mallory") == dict.fromkeys(keys, "Active")


def test_quarantine_needs_two_admins_when_approvals_is_two(make_bot, aws, iam):
    suspect(iam)
    bot = make_bot(session=aws, approvals=2)
    alert = posted_alert(bot, **as_actor("mallory"))
    bot.click(alert, QUARANTINE, "U0ADMIN1")
    assert bot.fake.wait_for(lambda: thread_replies(bot, alert))
    assert "asked for user quarantine" in thread_replies(bot, alert)[0]["text"]
    bot.click(alert, QUARANTINE, "U0ADMIN1")
    assert "different admin" in wait_ephemeral(bot, 1)["text"]
    assert attached(iam, "mallory") == [] and has_password(iam, "mallory")
    bot.click(alert, QUARANTINE, "U0ADMIN2")
    assert bot.fake.wait_for(lambda: bot.store.actions(alert.id)[-1].state == "done")
    action = bot.store.actions(alert.id)[-1]
    assert (action.requested_by, action.approved_by) == ("U0ADMIN1", "U0ADMIN2")
    assert attached(iam, "mallory") == [QUARANTINE_POLICY_ARN] and not has_password(iam, "mallory")


def test_quarantine_never_touches_the_bots_own_user(make_bot, aws, iam):
    own = aws.client("sts").get_caller_identity()["Arn"].rsplit("/", 1)[-1]
    keys = suspect(iam, own)
    bot = make_bot(session=aws)
    alert = posted_alert(bot, **as_actor(own))
    bot.click(alert, QUARANTINE, "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "refused" and "bot's own identity" in action.detail
    assert attached(iam, own) == [] and has_password(iam, own)
    assert key_states(iam, own) == dict.fromkeys(keys, "Active")


def test_quarantine_refuses_the_last_admin_and_the_bot_does_not_count_as_one(make_bot, aws):
    session, _, iam, _ = admin_bot(aws, "user")  # the bot's own user is admin-equivalent
    keys = suspect(iam, admin=True)  # the only other admin
    bot = make_bot(session=session)
    alert = posted_alert(bot, **as_actor("mallory"))
    bot.click(alert, QUARANTINE, "U0ADMIN1")
    [refused] = wait_action(bot, alert)
    assert refused.state == "refused" and "last admin-equivalent principal" in refused.detail
    assert "the bot's own identity does not count" in refused.detail
    assert attached(iam, "mallory") == [ADMIN_POLICY] and has_password(iam, "mallory")
    assert key_states(iam, "mallory") == dict.fromkeys(keys, "Active")

    make_user(iam, "carol", admin=True)  # a second human admin: now mallory may be quarantined
    bot.click(alert, QUARANTINE, "U0ADMIN1")
    _, done = wait_action(bot, alert, count=2)
    assert done.state == "done" and QUARANTINE_POLICY_ARN in attached(iam, "mallory")


def test_quarantine_offered_for_the_target_user_when_the_actor_is_a_role(make_bot, aws, iam):
    suspect(iam, "bob", keys=1, password=False)
    make_role(iam, "OpsAdmin")
    bot = make_bot(session=aws)
    alert = posted_alert(bot, **{**as_role("OpsAdmin"), "target": f"arn:aws:iam::{ACCOUNT}:user/ci/bob"})
    offered = buttons(bot.fake.calls_of("chat.postMessage")[-1].args)
    assert offered[QUARANTINE]["text"]["text"] == "Quarantine user bob"
    assert offered[REVOKE]["text"]["text"] == "Revoke OpsAdmin sessions"
    bot.click(alert, QUARANTINE, "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "done" and "password" not in action.detail  # bob had none: nothing said about it
    assert attached(iam, "bob") == [QUARANTINE_POLICY_ARN] and set(key_states(iam, "bob").values()) == {"Inactive"}


@pytest.fixture
def without_managed_policies(aws_env, monkeypatch):
    """moto without AWS's managed policies: as a partition where AWSCompromisedKeyQuarantineV3 does not exist."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def test_quarantine_falls_back_to_a_deny_all_inline_policy(make_bot, without_managed_policies):
    iam = without_managed_policies.client("iam")
    make_user(iam, "alice")
    keys = suspect(iam)
    bot = make_bot(session=without_managed_policies)
    alert = posted_alert(bot, **as_actor("mallory"))
    bot.click(alert, QUARANTINE, "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "done" and f"deny-all inline policy {QUARANTINE_INLINE}" in action.detail
    document = iam.get_user_policy(UserName="mallory", PolicyName=QUARANTINE_INLINE)["PolicyDocument"]
    assert document["Statement"] == [{"Effect": "Deny", "Action": "*", "Resource": "*"}]
    assert attached(iam, "mallory") == [] and key_states(iam, "mallory") == dict.fromkeys(keys, "Inactive")

    later = posted_alert(bot, **as_actor("mallory"))  # the inline quarantine counts as quarantined
    bot.click(later, QUARANTINE, "U0ADMIN1")
    [noop] = wait_action(bot, later)
    assert noop.state == "noop"


# -- Revoke role sessions ------------------------------------------------------------------------------------


def test_revoke_sessions_puts_the_consoles_deny_on_older_sessions(make_bot, aws, iam):
    make_role(iam, "OpsAdmin", admin=True)
    bot = make_bot(session=aws)
    alert = posted_alert(bot, **as_role("OpsAdmin"))

    message = bot.fake.calls_of("chat.postMessage")[-1].args
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    valid_slack_block(actions)
    offered = buttons(message)
    assert QUARANTINE not in offered  # neither actor nor target is an IAM user
    ask = offered[REVOKE]["confirm"]["text"]["text"]
    assert "role *OpsAdmin*" in ask and REVOKE_INLINE in ask and "Deleting the policy undoes it" in ask

    before = datetime.now(UTC).replace(microsecond=0)
    bot.click(alert, REVOKE, "U0ADMIN1")
    [action] = wait_action(bot, alert)
    after = datetime.now(UTC)
    assert action.state == "done", action
    assert action.aws_request_id
    [statement] = revoke_policy(iam, "OpsAdmin")["Statement"]
    cutoff = datetime.strptime(statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert before <= cutoff.replace(tzinfo=UTC) <= after
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", "*", "*")
    assert attached_role(iam, "OpsAdmin") == [ADMIN_POLICY]  # the role keeps its power for new sessions
    assert f"issued before {cutoff:%Y-%m-%dT%H:%M:%SZ}" in action.detail and "delete it to undo" in action.detail
    assert bot.fake.wait_for(lambda: thread_replies(bot, alert))
    assert "role session revocation on alert" in thread_replies(bot, alert)[0]["text"]

    bot.click(alert, REVOKE, "U0ADMIN2")  # pressed again: done once, said so
    assert "Nothing more to do" in wait_ephemeral(bot, 1)["text"]
    assert [a.state for a in bot.store.actions(alert.id)] == ["done"]
    assert revoke_policy(iam, "OpsAdmin")["Statement"] == [statement]


def attached_role(iam, role: str) -> list[str]:
    return [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]


def test_revoke_refused_for_a_non_admin_and_needs_two_admins_when_approvals_is_two(make_bot, aws, iam):
    make_role(iam, "OpsAdmin")
    bot = make_bot(session=aws, approvals=2)
    alert = posted_alert(bot, **as_role("OpsAdmin"))
    bot.click(alert, REVOKE, OUTSIDER)
    assert "Only IAM Warden admins can run role session revocation" in wait_ephemeral(bot, 1)["text"]
    bot.click(alert, REVOKE, "U0ADMIN1")
    assert bot.fake.wait_for(lambda: thread_replies(bot, alert))
    assert "needs 1 more admin" in thread_replies(bot, alert)[0]["text"]
    assert revoke_policy(iam, "OpsAdmin") is None
    bot.click(alert, REVOKE, "U0ADMIN2")
    assert bot.fake.wait_for(lambda: bot.store.actions(alert.id)[-1].state == "done")
    assert [a.state for a in bot.store.actions(alert.id)] == ["refused", "done"]
    assert bot.store.actions(alert.id)[-1].approved_by == "U0ADMIN2"
    assert revoke_policy(iam, "OpsAdmin") is not None


@pytest.mark.parametrize("how", ["role session", "member role"])
def test_revoke_never_ends_the_bots_own_sessions(make_bot, aws, how):
    session, account, iam, own = admin_bot(aws, how)
    bot = make_bot(session=session)
    role = own.split(" ", 1)[1]
    alert = posted_alert(bot, **as_role(role, account, session="iam-warden"))
    bot.click(alert, REVOKE, "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "refused" and f"role {role} is the bot's own identity" in action.detail
    assert revoke_policy(iam, role) is None


def test_revoke_may_cut_the_sessions_of_the_only_admin_role_and_says_when_the_role_is_gone(make_bot, aws):
    """Revoking ends only sessions issued before now: the account's only admin role stays usable by assuming it
    again, so no last-admin guard stops the responder here."""
    iam = aws.client("iam")
    make_role(iam, "OnlyAdmin", admin=True)
    bot = make_bot(session=aws)
    alert = posted_alert(bot, **as_role("OnlyAdmin"))
    bot.click(alert, REVOKE, "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "done" and revoke_policy(iam, "OnlyAdmin") is not None

    gone = posted_alert(bot, **as_role("DeletedRole"))
    bot.click(gone, REVOKE, "U0ADMIN1")
    [noop] = wait_action(bot, gone)
    assert noop.state == "noop" and "no longer exists" in noop.detail


def test_revoking_the_last_admin_roles_sessions_says_it_stays_admin_and_how_to_get_back_in(make_bot, aws):
    """The last admin's guard for Revoke: it acts (the role keeps its permissions, so the account keeps its admin)
    and its outcome tells the responder their own session through that role ended too; with another admin, no
    such note."""
    iam = aws.client("iam")
    make_role(iam, "OnlyAdmin", admin=True)
    make_role(iam, "Deployer")
    bot = make_bot(session=aws)
    alert = posted_alert(bot, **as_role("OnlyAdmin"))
    bot.click(alert, REVOKE, "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "done" and "Role OnlyAdmin is the account's last admin-equivalent principal" in action.detail
    assert "assume it again" in action.detail
    assert iam.list_attached_role_policies(RoleName="OnlyAdmin")["AttachedPolicies"][0]["PolicyArn"] == ADMIN_POLICY

    make_role(iam, "SecondAdmin", admin=True)
    other = posted_alert(bot, **as_role("SecondAdmin"))
    bot.click(other, REVOKE, "U0ADMIN1")
    [second] = wait_action(bot, other)
    assert second.state == "done" and "last admin" not in second.detail
    deployer = posted_alert(bot, **as_role("Deployer"))
    bot.click(deployer, REVOKE, "U0ADMIN1")
    [third] = wait_action(bot, deployer)
    assert third.state == "done" and "last admin" not in third.detail


# -- what the bot did is remembered, and its own calls raise nothing -----------------------------------------


@pytest.fixture
def sample_account(aws_env, monkeypatch):
    """moto acting as the account the sample CloudTrail records come from."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", samples.ACCOUNT)
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


BOT_AGENT = "Boto3/1.34.100 md/Botocore#1.34.100 ua/2.0 os/linux#6.1.0 lang/python#3.12.3 app/iam-warden"


def test_a_key_the_quarantine_disabled_made_active_again_is_critical_and_the_bots_calls_raise_nothing(
    make_bot, sample_account
):
    iam = sample_account.client("iam")
    make_user(iam, "alice", admin=True)
    [key] = suspect(iam, keys=1)
    mallory = {**samples.iam_user("mallory"), "accessKeyId": key}
    bot = make_bot(session=sample_account)
    grant = {"userName": "bob", "policyArn": ADMIN_POLICY}
    alert = ingest(bot, samples.iam_call("AttachUserPolicy", grant, event_id="mallory-grants-bob", actor=mallory))
    assert (alert.rule, alert.actor_user) == ("privileged_grant", "mallory")
    assert buttons(bot.fake.calls_of("chat.postMessage")[-1].args)[QUARANTINE]["text"]["text"] == (
        "Quarantine user mallory"
    )
    bot.click(alert, QUARANTINE, "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "done"

    # The bot's own calls, as CloudTrail delivers them afterwards: no alert against itself.
    own = samples.iam_user("iam-warden-bot")
    calls = [
        ("AttachUserPolicy", {"userName": "mallory", "policyArn": QUARANTINE_POLICY_ARN}),
        ("UpdateAccessKey", {"userName": "mallory", "accessKeyId": key, "status": "Inactive"}),
        ("DeleteLoginProfile", {"userName": "mallory"}),
    ]
    own_records = [
        samples.iam_call(name, request, event_id=f"bot-{n}", actor=own, user_agent=BOT_AGENT)
        for n, (name, request) in enumerate(calls)
    ]
    assert bot.rt.pipeline.process(own_records, "test").alert_ids == []

    later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    iam.update_access_key(UserName="mallory", AccessKeyId=key, Status="Active")
    revert = samples.iam_call(
        "UpdateAccessKey",
        {"userName": "mallory", "accessKeyId": key, "status": "Active"},
        event_id="mallory-key-back",
        actor=samples.iam_user("alice"),
        time=later,
    )
    reverted = ingest(bot, revert)
    assert (reverted.rule, reverted.severity) == ("remediation_reverted", Severity.CRITICAL)
    assert f"alert #{alert.id}'s button" in reverted.facts["Undone by the bot"]


def test_containment_taken_off_again_is_one_critical_alert_that_says_what_the_bot_did(make_bot, sample_account):
    iam = sample_account.client("iam")
    make_user(iam, "alice", admin=True)
    suspect(iam, keys=0)
    make_role(iam, "OpsAdmin")
    bot = make_bot(session=sample_account)
    mallory = samples.iam_user("mallory")
    grant = {"userName": "bob", "policyArn": ADMIN_POLICY}
    by_user = ingest(bot, samples.iam_call("AttachUserPolicy", grant, event_id="grant-1", actor=mallory))
    bot.click(by_user, QUARANTINE, "U0ADMIN1")
    assert wait_action(bot, by_user)[0].state == "done"
    session = samples.role_session("OpsAdmin", "mallory")
    by_role = ingest(bot, samples.iam_call("AttachUserPolicy", grant, event_id="grant-2", actor=session))
    bot.click(by_role, REVOKE, "U0ADMIN1")
    assert wait_action(bot, by_role)[0].state == "done"

    later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    undo = {
        "DetachUserPolicy": {"userName": "mallory", "policyArn": QUARANTINE_POLICY_ARN},
        "CreateLoginProfile": {"userName": "mallory", "passwordResetRequired": False},
        "DeleteRolePolicy": {"roleName": "OpsAdmin", "policyName": REVOKE_INLINE},
    }
    titles = {}
    for name, request in undo.items():
        record = samples.iam_call(name, request, event_id=f"undo-{name}", actor=samples.iam_user("alice"), time=later)
        alert = ingest(bot, record)  # ingest asserts exactly one alert: the general rules are superseded
        assert (alert.rule, alert.severity) == ("remediation_reverted", Severity.CRITICAL)
        titles[name] = alert.title
    assert titles == {
        "DetachUserPolicy": "Containment policy AWSCompromisedKeyQuarantineV3 the bot put on user mallory removed",
        "CreateLoginProfile": "Console password of user mallory set again after the bot's quarantine deleted it",
        "DeleteRolePolicy": "Containment policy AWSRevokeOlderSessions the bot put on role OpsAdmin removed",
    }
