"""Issue's seed case end to end: SQS -> worker -> rules (with IAM lookups) -> outbox -> Slack thread ->
buttons acting on the AWS account. Real parts throughout: moto, SQLite, signed HTTP, the Slack stand-in."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from app.wiring import event_source
from detections import example_records
from tests.conftest import CHANNEL

ACCOUNT = example_records.ACCOUNT
ADMIN_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def account(aws_env, monkeypatch):
    """moto acting as the sample account, with an admin (alice), an attacker's user and a break-glass policy."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        iam = session.client("iam")
        iam.create_user(UserName="alice")
        iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        iam.create_user(UserName="ci-deployer")
        policy = iam.create_policy(PolicyName="BreakGlass", PolicyDocument=json.dumps(ADMIN_DOC))["Policy"]["Arn"]
        queue = session.client("sqs").create_queue(QueueName="iam-warden")["QueueUrl"]
        yield session, policy, queue


def eventbridge(record: dict) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": record["eventID"],
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.iam",
            "account": ACCOUNT,
            "region": "us-east-1",
            "detail": record,
        }
    )


def attack(session, policy_arn: str) -> list[dict]:
    """The attack as the account sees it (done in moto) and as CloudTrail records it."""
    iam = session.client("iam")
    iam.create_user(UserName="backup-svc")
    iam.attach_user_policy(UserName="backup-svc", PolicyArn=policy_arn)
    key = iam.create_access_key(UserName="backup-svc")["AccessKey"]["AccessKeyId"]
    actor = example_records.iam_user("ci-deployer")
    return [
        example_records.iam_call(
            "CreateUser",
            {"userName": "backup-svc"},
            {"user": {"userName": "backup-svc", "arn": example_records.user_arn("backup-svc")}},
            event_id="e2e-create-user",
            actor=actor,
            time="2026-11-23T08:00:00Z",
        ),
        example_records.iam_call(
            "AttachUserPolicy",
            {"userName": "backup-svc", "policyArn": policy_arn},
            None,
            event_id="e2e-attach",
            actor=actor,
            time="2026-11-23T08:00:05Z",
        ),
        example_records.iam_call(
            "CreateAccessKey",
            {"userName": "backup-svc"},
            {"accessKey": {"userName": "backup-svc", "accessKeyId": key, "status": "Active"}},
            event_id="e2e-key",
            actor=actor,
            time="2026-11-23T08:00:09Z",
        ),
    ]


def test_privileged_user_created_is_alerted_threaded_and_contained(account, make_bot):
    session, policy_arn, queue = account
    bot = make_bot(session=session, sqs_queue_url=queue)
    worker = event_source(bot.rt)
    worker.wait_seconds = 0  # production long-polls 20 s; here an empty queue should end the loop at once
    sqs = session.client("sqs")
    for record in attack(session, policy_arn):
        sqs.send_message(QueueUrl=queue, MessageBody=eventbridge(record))
    while worker.poll_once():
        pass
    assert (
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "0"
    )
    bot.rt.poster.drain()

    rules = [a.rule for a in bot.store.alerts()]
    # The grant was judged admin by reading the customer policy from IAM, and the correlated rule replaced it.
    assert rules == ["user_created", "privileged_user_created", "access_key_created"]
    first, critical, key_alert = bot.fake.channel_messages(CHANNEL)
    assert first["thread_ts"] is None
    assert critical["thread_ts"] == first["ts"] and critical["reply_broadcast"]
    assert key_alert["thread_ts"] == first["ts"]
    assert "BreakGlass" in str(critical["blocks"])

    alert = bot.store.alerts(rule="privileged_user_created")[0]
    iam = session.client("iam")
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    assert bot.fake.wait_for(lambda: bot.store.actions(alert.id) and bot.store.actions(alert.id)[-1].state != "running")
    assert iam.list_attached_user_policies(UserName="backup-svc")["AttachedPolicies"] == []
    bot.click(alert, "iam_disable_key", "U0ADMIN1")
    assert bot.fake.wait_for(
        lambda: len(bot.store.actions(alert.id)) == 2 and bot.store.actions(alert.id)[-1].state != "running"
    )
    assert {k["Status"] for k in iam.list_access_keys(UserName="backup-svc")["AccessKeyMetadata"]} == {"Inactive"}

    def replies() -> list[str]:
        return [m["text"] for m in bot.fake.channel_messages(CHANNEL) if m["thread_ts"] == first["ts"]]

    # The thread reply follows the recorded outcome and the message's redraw: on a loaded machine, a moment later.
    assert bot.fake.wait_for(lambda: any("detached BreakGlass from user backup-svc" in r for r in replies())), replies()


def test_redelivered_message_posts_nothing_new(account, make_bot):
    session, _, queue = account
    bot = make_bot(session=session, sqs_queue_url=queue)
    worker = event_source(bot.rt)
    worker.wait_seconds = 0  # production long-polls 20 s; here an empty queue should end the loop at once
    login = example_records.console_login(example_records.root(), event_id="e2e-root-login", mfa=False)
    body = json.dumps({"detail-type": "AWS Console Sign In via CloudTrail", "detail": login})
    sqs = session.client("sqs")
    for _ in range(2):
        sqs.send_message(QueueUrl=queue, MessageBody=body)
        while worker.poll_once():
            pass
    bot.rt.poster.drain()
    assert [a.rule for a in bot.store.alerts()] == ["root_login"]
    assert len(bot.fake.channel_messages(CHANNEL)) == 1


def test_other_account_alert_acts_through_the_member_role(aws, make_bot):
    """An alert from another account of the organization is remediated in that account via the member role."""
    member = "222233334444"
    creds = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/IAMWardenMember", RoleSessionName="setup"
    )["Credentials"]
    member_iam = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    ).client("iam")
    member_iam.create_user(UserName="mallory-key")
    key = member_iam.create_access_key(UserName="mallory-key")["AccessKey"]["AccessKeyId"]
    aws.client("iam").create_user(UserName="mallory-key")  # same name in the bot's account: must stay untouched
    own_key = aws.client("iam").create_access_key(UserName="mallory-key")["AccessKey"]["AccessKeyId"]
    bot = make_bot(session=aws)
    from tests.handlers.test_buttons import posted_alert

    alert = posted_alert(bot, account=member, remediation={"key_user": "mallory-key", "access_key_id": key})
    bot.click(alert, "iam_disable_key", "U0ADMIN1")
    assert bot.fake.wait_for(lambda: bot.store.actions(alert.id) and bot.store.actions(alert.id)[-1].state != "running")
    assert bot.store.actions(alert.id)[-1].state == "done"
    assert member_iam.list_access_keys(UserName="mallory-key")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    own = aws.client("iam").list_access_keys(UserName="mallory-key")["AccessKeyMetadata"][0]
    assert (own["AccessKeyId"], own["Status"]) == (own_key, "Active")


def test_missing_member_role_gives_a_clear_message(aws, make_bot):
    def deny(**_):
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole")

    aws.events.register("before-call.sts.AssumeRole", deny)
    bot = make_bot(session=aws)
    from tests.handlers.test_buttons import posted_alert

    alert = posted_alert(bot, account="999988887777", remediation={"key_user": "bob"})
    bot.click(alert, "iam_disable_key", "U0ADMIN1")
    assert bot.fake.wait_for(lambda: bot.store.actions(alert.id) and bot.store.actions(alert.id)[-1].state != "running")
    action = bot.store.actions(alert.id)[-1]
    assert action.state == "failed"
    assert "cannot assume arn:aws:iam::999988887777:role/IAMWardenMember (AccessDenied)" in action.detail
    assert "deploy the member role" in action.detail
