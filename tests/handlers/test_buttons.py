"""Every alert button over signed HTTP: admin, non-admin, twice, after the state changed, guards, approvals."""

from __future__ import annotations

from dataclasses import replace

import boto3
import pytest
from moto import mock_aws

from aws.remediation import Remediator
from core.alert import Alert
from core.rows import ActionRow, AlertRow
from core.severity import Severity
from detections import example_records
from tests.conftest import CHANNEL, OUTSIDER, RESPONDER

ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
ACCOUNT = "123456789012"  # moto's default account


def posted_alert(bot, **fields) -> dict:
    """Store an alert as the pipeline would, post it through the real outbox, return the stored row."""
    values = dict(
        rule="privileged_grant",
        severity=Severity.CRITICAL,
        title="Admin policy attached to user bob",
        event_id=f"evt-{len(bot.store.alerts())}",
        event_name="AttachUserPolicy",
        event_source="iam.amazonaws.com",
        event_time="2026-11-23T08:00:00Z",
        account=ACCOUNT,
        region="us-east-1",
        actor_arn=f"arn:aws:iam::{ACCOUNT}:user/mallory",
        actor_type="IAMUser",
        actor_user="mallory",
        actor_key_id="AKIAEXAMPLEACTOR0001",
        target=f"arn:aws:iam::{ACCOUNT}:user/bob",
        remediation={
            "principal_type": "user",
            "principal_name": "bob",
            "policy_arn": ADMIN_POLICY,
            "key_user": "bob",
        },
    )
    values.update(fields)
    alert = Alert(**values)
    alert.dedup_key = f"{alert.rule}:{alert.event_id}"
    alert.thread_key = f"{alert.event_id}"  # one thread per test alert
    event = {
        "event_id": alert.event_id,
        "event_name": alert.event_name,
        "event_time": alert.event_time,
        "account": ACCOUNT,
        "source": "test",
    }
    [alert_id] = bot.store.store_batch([event], [alert])
    assert bot.rt.poster.drain() == 1
    return bot.store.alert(alert_id)


def iam_user(iam, name: str, admin: bool = False, keys: int = 0) -> list[str]:
    iam.create_user(UserName=name)
    if admin:
        iam.attach_user_policy(UserName=name, PolicyArn=ADMIN_POLICY)
    return [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _ in range(keys)]


def attached(iam, user: str) -> list[str]:
    return [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]]


def statuses(iam, user: str) -> set[str]:
    return {k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


def thread_replies(bot, alert: AlertRow) -> list[dict]:
    return [m for m in bot.fake.channel_messages(CHANNEL) if m["thread_ts"] == alert.ts]


def wait_action(bot, alert: AlertRow, count: int = 1) -> list[ActionRow]:
    """Wait until the lazy listener finished `count` non-refused actions on the alert."""

    def finished() -> bool:
        rows = [a for a in bot.store.actions(alert.id) if a.state not in ("running",)]
        return len(rows) >= count

    assert bot.fake.wait_for(finished), bot.store.actions(alert.id)
    return bot.store.actions(alert.id)


def wait_ephemeral(bot, count: int) -> dict:
    assert bot.fake.wait_for(lambda: len(bot.fake.ephemeral) >= count), bot.fake.ephemeral
    return bot.fake.ephemeral[count - 1]


@pytest.fixture
def iam(aws: boto3.Session):
    client = aws.client("iam")
    iam_user(client, "alice", admin=True)  # a second admin, so detaching bob's grant is allowed
    return client


def test_admin_detach_removes_policy_records_and_updates_message(make_bot, aws, iam):
    iam_user(iam, "bob", admin=True)
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    assert bot.click(alert, "iam_detach_policy", "U0ADMIN1").status == 200
    [action] = wait_action(bot, alert)
    assert action.state == "done" and action.requested_by == "U0ADMIN1"
    assert action.aws_request_id
    assert attached(iam, "bob") == []
    assert bot.fake.wait_for(lambda: thread_replies(bot, alert))
    assert "detached AdministratorAccess from user bob" in thread_replies(bot, alert)[0]["text"]
    updated = bot.fake.calls_of("chat.update")[-1].args
    assert updated["ts"] == alert.ts
    buttons = [e["action_id"] for b in updated["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "iam_detach_policy" not in buttons and "iam_ack" in buttons
    assert any("detached AdministratorAccess" in str(b) for b in updated["blocks"])


def test_second_click_is_harmless_and_says_who(make_bot, aws, iam):
    iam_user(iam, "bob", admin=True)
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    wait_action(bot, alert)
    iam.attach_user_policy(UserName="bob", PolicyArn=ADMIN_POLICY)  # re-attached by someone: not our business
    bot.click(alert, "iam_detach_policy", "U0ADMIN2")
    note = wait_ephemeral(bot, 1)
    assert note["user"] == "U0ADMIN2" and "<@U0ADMIN1>" in note["text"] and "Nothing more to do" in note["text"]
    assert attached(iam, "bob") == [ADMIN_POLICY]  # the second click did not act again
    assert [a.state for a in bot.store.actions(alert.id)] == ["done"]


def test_non_admin_is_refused_and_nothing_changes(make_bot, aws, iam):
    iam_user(iam, "bob", admin=True, keys=1)
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    for action_id in ("iam_detach_policy", "iam_disable_key", "iam_disable_actor_key"):
        assert bot.click(alert, action_id, OUTSIDER).status == 200
    wait_ephemeral(bot, 3)
    assert all(e["user"] == OUTSIDER and "Only IAM Warden admins" in e["text"] for e in bot.fake.ephemeral)
    assert attached(iam, "bob") == [ADMIN_POLICY] and statuses(iam, "bob") == {"Active"}
    assert {a.state for a in bot.store.actions(alert.id)} == {"refused"}
    assert not bot.fake.calls_of("chat.update")


def test_detach_after_state_changed_says_so(make_bot, aws, iam):
    iam_user(iam, "bob")  # the policy is already gone
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "noop" and "no longer" in action.detail


def test_refuses_to_remove_last_admin_grant(make_bot, aws):
    iam = aws.client("iam")
    iam_user(iam, "bob", admin=True)  # the only admin of the account
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "refused" and "no admin-equivalent principal" in action.detail
    assert attached(iam, "bob") == [ADMIN_POLICY]


def test_never_acts_on_its_own_identity(make_bot, aws, iam):
    own = aws.client("sts").get_caller_identity()["Arn"].rsplit("/", 1)[-1]
    iam_user(iam, own, keys=1)
    bot = make_bot(session=aws)
    alert = posted_alert(bot, remediation={"key_user": own})
    bot.click(alert, "iam_disable_key", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "refused" and "own identity" in action.detail
    assert statuses(iam, own) == {"Active"}


def test_disable_keys_of_target_user_then_already_inactive(make_bot, aws, iam):
    iam_user(iam, "bob", keys=2)
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    bot.click(alert, "iam_disable_key", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "done" and statuses(iam, "bob") == {"Inactive"}
    second = posted_alert(bot)  # another alert about the same user: nothing left to disable
    bot.click(second, "iam_disable_key", "U0ADMIN2")
    [again] = wait_action(bot, second)
    assert again.state == "noop" and "already inactive" in again.detail


def test_disable_actor_key_only_touches_that_key(make_bot, aws, iam):
    actor_key, other_key = iam_user(iam, "mallory", keys=2)
    bot = make_bot(session=aws)
    alert = posted_alert(bot, actor_key_id=actor_key)
    bot.click(alert, "iam_disable_actor_key", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "done"
    keys = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName="mallory")["AccessKeyMetadata"]}
    assert keys == {actor_key: "Inactive", other_key: "Active"}


def test_temporary_actor_key_gets_no_actor_button(make_bot, aws, iam):
    bot = make_bot(session=aws)
    alert = posted_alert(bot, actor_key_id="ASIAEXAMPLETEMP00001")
    blocks = bot.fake.calls_of("chat.postMessage")[-1].args["blocks"]
    buttons = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert "iam_disable_actor_key" not in buttons and "iam_disable_key" in buttons
    bot.click(alert, "iam_disable_actor_key", "U0ADMIN1")  # a forged click for a button that was never shown
    [action] = wait_action(bot, alert)
    assert action.state == "refused"


def test_two_admins_needed_when_approvals_is_two(make_bot, aws, iam):
    iam_user(iam, "bob", admin=True)
    bot = make_bot(session=aws, approvals=2)
    alert = posted_alert(bot)
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    assert bot.fake.wait_for(lambda: thread_replies(bot, alert))
    assert "needs 1 more admin" in thread_replies(bot, alert)[0]["text"]
    assert attached(iam, "bob") == [ADMIN_POLICY]
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")  # the requester cannot approve their own request
    assert "different admin" in wait_ephemeral(bot, 1)["text"]
    assert attached(iam, "bob") == [ADMIN_POLICY]
    bot.click(alert, "iam_detach_policy", "U0ADMIN2")
    assert bot.fake.wait_for(lambda: bot.store.actions(alert.id)[-1].state == "done")
    action = bot.store.actions(alert.id)[-1]
    assert (action.requested_by, action.approved_by) == ("U0ADMIN1", "U0ADMIN2")
    assert attached(iam, "bob") == []


def test_acknowledge_by_responder_twice_and_refused_for_outsider(make_bot, aws):
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    bot.click(alert, "iam_ack", OUTSIDER)
    assert "Only IAM Warden admins and responders" in wait_ephemeral(bot, 1)["text"]
    bot.click(alert, "iam_ack", RESPONDER)
    assert bot.fake.wait_for(lambda: bot.store.alert(alert.id).status == "acknowledged")
    assert bot.store.alert(alert.id).acked_by == RESPONDER
    assert bot.fake.wait_for(lambda: bot.fake.calls_of("chat.update"))
    blocks = bot.fake.calls_of("chat.update")[-1].args["blocks"]
    assert any(f"Acknowledged by <@{RESPONDER}>" in str(b) for b in blocks)
    bot.click(alert, "iam_ack", "U0ADMIN1")
    assert f"Already acknowledged by <@{RESPONDER}>" in wait_ephemeral(bot, 2)["text"]
    assert bot.store.alert(alert.id).acked_by == RESPONDER


def test_click_for_unknown_alert_does_nothing(make_bot, aws, iam):
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    forged = replace(alert, id=9999)
    bot.click(forged, "iam_detach_policy", "U0ADMIN1")
    assert "not known here" in wait_ephemeral(bot, 1)["text"]
    assert bot.store.actions(alert.id) == []


def test_a_crash_inside_remediation_is_recorded_as_failed_and_can_be_retried(make_bot, aws, iam, monkeypatch, caplog):
    iam_user(iam, "bob", admin=True)
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    real_run = Remediator.run

    def broken(self, action: str, row: dict):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Remediator, "run", broken)
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "failed" and "internal error" in action.detail
    assert bot.fake.wait_for(lambda: thread_replies(bot, alert))
    assert "iam_detach_policy on alert" in caplog.text and "RuntimeError: a bug" in caplog.text
    assert attached(iam, "bob") == [ADMIN_POLICY]

    monkeypatch.setattr(Remediator, "run", real_run)
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")  # not stuck "running": the retry runs
    assert bot.fake.wait_for(lambda: [a.state for a in bot.store.actions(alert.id)] == ["failed", "done"])
    assert attached(iam, "bob") == []


# -- the last-admin guard never counts the bot's own identity ---------------------------------------------------

MEMBER = "222233334444"
TRUST_ANYONE = (
    '{"Version": "2012-10-17", "Statement": '
    '[{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}'
)


def _session(creds: dict) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        region_name="us-east-1",
    )


def _assume(aws: boto3.Session, account: str, role: str) -> boto3.Session:
    arn = f"arn:aws:iam::{account}:role/{role}"
    return _session(aws.client("sts").assume_role(RoleArn=arn, RoleSessionName="iam-warden")["Credentials"])


def admin_bot(aws: boto3.Session, how: str) -> tuple[boto3.Session, str, object, str]:
    """Make the bot's own identity admin-equivalent, `how` it runs; return (its session, the account where the
    alert is, that account's IAM client, the bot's principal as the refusal names it)."""
    iam = aws.client("iam")
    if how == "member role":  # the bot's own account is moto's default; the alert is in a member account
        member = _assume(aws, MEMBER, "setup").client("iam")
        member.create_role(RoleName="IAMWardenMember", AssumeRolePolicyDocument=TRUST_ANYONE)
        member.attach_role_policy(RoleName="IAMWardenMember", PolicyArn=ADMIN_POLICY)
        return aws, MEMBER, member, "role IAMWardenMember"
    if how == "role session":  # an assumed-role session ARN names the role without its path
        iam.create_role(RoleName="iam-warden", Path="/service/", AssumeRolePolicyDocument=TRUST_ANYONE)
        iam.attach_role_policy(RoleName="iam-warden", PolicyArn=ADMIN_POLICY)
        return _assume(aws, ACCOUNT, "service/iam-warden"), ACCOUNT, iam, "role iam-warden"
    iam.create_user(UserName="iam-warden", Path="/bots/")
    if how == "user via group":
        iam.create_group(GroupName="warden-admins")
        iam.attach_group_policy(GroupName="warden-admins", PolicyArn=ADMIN_POLICY)
        iam.add_user_to_group(GroupName="warden-admins", UserName="iam-warden")
    else:
        iam.attach_user_policy(UserName="iam-warden", PolicyArn=ADMIN_POLICY)
    key = iam.create_access_key(UserName="iam-warden")["AccessKey"]
    return _session(key), ACCOUNT, iam, "user iam-warden"


BOT_IDENTITIES = ("user", "user via group", "role session", "member role")
ALICE_GRANT = {"principal_type": "user", "principal_name": "alice", "policy_arn": ADMIN_POLICY}


@pytest.mark.parametrize("how", BOT_IDENTITIES)
def test_the_bot_itself_does_not_count_as_the_remaining_admin(make_bot, aws, how):
    session, account, iam, own = admin_bot(aws, how)
    iam_user(iam, "alice", admin=True)  # the only human admin; the bot's identity is the only other one
    bot = make_bot(session=session)
    alert = posted_alert(bot, account=account, remediation=ALICE_GRANT)
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    [refused] = wait_action(bot, alert)
    assert refused.state == "refused", refused
    assert "no admin-equivalent principal" in refused.detail
    assert f"the bot's own {own}" in refused.detail
    assert attached(iam, "alice") == [ADMIN_POLICY]

    iam_user(iam, "carol", admin=True)  # a second human admin: now the grant may go
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    _, done = wait_action(bot, alert, count=2)
    assert done.state == "done", done
    assert attached(iam, "alice") == [] and attached(iam, "carol") == [ADMIN_POLICY]


# -- a grant to an existing user offers disabling that user's keys (not the actor's) --------------------------


@pytest.fixture
def sample_account(aws_env, monkeypatch):
    """moto acting as the account the sample CloudTrail records come from."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", example_records.ACCOUNT)
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def key_states(iam, user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


def alert_labels(message: dict) -> dict[str, str]:
    """action id -> button text of a posted message."""
    return {
        e["action_id"]: e["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    }


def ingest(bot, record: dict) -> dict:
    """Run one CloudTrail record through the real pipeline and outbox; return its stored, posted alert."""
    result = bot.rt.pipeline.process([record], "test")
    assert bot.rt.poster.drain() == 1
    [alert_id] = result.alert_ids
    return bot.store.alert(alert_id)


def test_grant_to_a_user_disables_the_grantees_keys_never_the_actors(make_bot, sample_account):
    iam = sample_account.client("iam")
    [alice_key] = iam_user(iam, "alice", admin=True, keys=1)
    [mallory_key] = iam_user(iam, "mallory", admin=True, keys=1)  # the grant the record below describes
    iam.create_group(GroupName="Admins")
    iam.attach_group_policy(GroupName="Admins", PolicyArn=ADMIN_POLICY)
    alice = {**example_records.iam_user("alice"), "accessKeyId": alice_key}
    bot = make_bot(session=sample_account)

    grant = {"userName": "mallory", "policyArn": ADMIN_POLICY}
    alert = ingest(bot, example_records.iam_call("AttachUserPolicy", grant, event_id="grant-mallory", actor=alice))
    assert (alert.rule, alert.actor_user) == ("privileged_grant", "alice")
    message = bot.fake.calls_of("chat.postMessage")[-1].args
    assert alert_labels(message) == {
        "iam_ack": "Acknowledge",
        "iam_detach_policy": "Detach AdministratorAccess",
        "iam_disable_key": "Disable mallory's keys",
        "iam_disable_actor_key": f"Disable actor key {alice_key[-6:]}",
        "iam_mute_similar": "Mute similar",
        "iam_quarantine_user": "Quarantine user alice",  # the actor is an IAM user
    }
    [disable] = [
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b.get("elements", [])
        if e["action_id"] == "iam_disable_key"
    ]
    assert "user *mallory*" in disable["confirm"]["text"]["text"]

    bot.click(alert, "iam_disable_key", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert (action.state, action.detail) == ("done", f"set {mallory_key} of user mallory to Inactive")
    assert key_states(iam, "mallory") == {mallory_key: "Inactive"}
    assert key_states(iam, "alice") == {alice_key: "Active"}
    assert bot.fake.wait_for(lambda: bot.fake.calls_of("chat.update"))
    assert "iam_disable_key" not in alert_labels(bot.fake.calls_of("chat.update")[-1].args)

    bot.click(alert, "iam_disable_key", "U0ADMIN2")  # pressed again: nothing more happens
    assert "Nothing more to do" in wait_ephemeral(bot, 1)["text"]
    assert [a.state for a in bot.store.actions(alert.id)] == ["done"]

    # A user added to an admin group gets the same button (and no detach: the group's policies stay).
    joined = {"groupName": "Admins", "userName": "mallory"}
    second = ingest(
        bot, example_records.iam_call("AddUserToGroup", joined, event_id="mallory-joins-admins", actor=alice)
    )
    labels = alert_labels(bot.fake.calls_of("chat.postMessage")[-1].args)
    assert labels.keys() == {
        "iam_ack",
        "iam_disable_key",
        "iam_disable_actor_key",
        "iam_mute_similar",
        "iam_quarantine_user",
    }
    assert labels["iam_disable_key"] == "Disable mallory's keys"
    bot.click(second, "iam_disable_key", "U0ADMIN1")
    [again] = wait_action(bot, second)
    assert again.state == "noop" and "already inactive" in again.detail
    assert key_states(iam, "mallory") == {mallory_key: "Inactive"}
    assert key_states(iam, "alice") == {alice_key: "Active"}
