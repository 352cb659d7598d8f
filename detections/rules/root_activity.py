"""The root user made an API call (other than signing in)."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections import signin
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import (
    ACCOUNT,
    MEMBER_ACCOUNT,
    ROOT_TASK,
    access_key_id,
    event,
    iam_call,
    root,
    root_task_session,
    sign_in_step,
    user_arn,
)
from detections.references import ROOT_USER, panther, sigma
from detections.rules.assume_root import task_session

_TASK_KEY = access_key_id("root-task:60a25e4d-a9c7-4b56-9d25-1f0b9f6a0c11", temporary=True)
_TASK = {
    "by": f"arn:aws:sts::{ACCOUNT}:assumed-role/OrgRootTasks/alice@example.com",
    "task": ROOT_TASK + "S3UnlockBucketPolicy",
}

# Parts of the sign-in ceremony, reported by root_login and root_login_failed.
_SIGN_IN = frozenset({"ConsoleLogin", "CheckMfa"})


def match(record: dict, ctx: RuleContext) -> Match | None:
    """Any call made by the root user itself, whether or not AWS allowed it; a root task session (AssumeRoot) is
    named as such. A sign-in step is activity only when it succeeded or does not say (failures are
    root_login_failed's)."""
    if not ct.is_root(record) or record.get("eventName") in _SIGN_IN:
        return None
    if record.get("eventType") == "AwsServiceEvent" or ct.identity(record).get("invokedBy"):
        return None
    name = record.get("eventName")
    call = f"{str(record.get('eventSource') or '').split('.', 1)[0]}:{name}"
    if signin.is_sign_in(record):
        outcome = signin.succeeded(record)
        if outcome is False:
            return None
        title = f"Root user completed sign-in step {name}"
        result = "succeeded" if outcome else "not recorded"
    elif record.get("errorCode"):
        error = record.get("errorCode")
        title, result = f"Root user tried {name} ({error})", f"refused: {error}"
    else:
        title, result = f"Root user called {name}", "succeeded"
    facts = {"Call": call, "Result": result}
    session = task_session(record, ctx)
    if session is not None:
        title = title.replace("Root user", f"Root task session ({session.task_name})", 1)
        facts |= session.facts()
    return Match(title=title, target=ct.actor_arn(record), facts=facts)


RULE = Rule(
    id="root_activity",
    severity=Severity.HIGH,
    title="Root user activity",
    rationale=(
        "Root bypasses every IAM control, so any call it makes deserves a second look. Refused calls count "
        "too: root is rarely refused, and someone probing with root credentials is as worrying as someone "
        "succeeding. Repeats from the same address within an hour fold into one alert."
    ),
    response=(
        "Check with the root credential holders that this session is planned work. If it is not, treat the "
        "root credentials as compromised: reset the password, remove any root access keys, verify MFA."
    ),
    event_names=frozenset(),
    event_sources=frozenset(),
    match=match,
    any_root_event=True,
    dedup_minutes=60,
    reports={"CIS": ("1.7", "4.3"), "MITRE ATT&CK": ("T1078.004",)},
    references=(
        ROOT_USER,
        sigma("aws_root_account_usage"),
        panther("aws_root_activity"),
    ),
    examples=(
        Example(
            "root creates an IAM user from the console",
            iam_call(
                "CreateUser",
                {"userName": "temp-contractor"},
                {
                    "user": {
                        "path": "/",
                        "userName": "temp-contractor",
                        "userId": "AIDAEXAMPLETEMPCONTR",
                        "arn": user_arn("temp-contractor"),
                        "createDate": "May 14, 2024, 9:12:45 AM",
                    }
                },
                event_id="01044016-a0da-45fa-900c-a860705c754c",
                actor=root(),
                user_agent="AWS Internal",
            ),
            expect=True,
        ),
        Example(
            "root lists S3 buckets with an access key, refused by an SCP",
            event(
                "ListBuckets",
                "s3.amazonaws.com",
                event_id="4aa2016e-d03d-4d12-919a-4a8da9ab4dc2",
                actor=root(console=False),
                request={"Host": "s3.amazonaws.com"},
                error="AccessDenied",
                read_only=True,
            ),
            expect=True,
        ),
        Example(
            "root opens the IAM dashboard",
            event(
                "GetAccountSummary",
                "iam.amazonaws.com",
                event_id="d2c92f68-b07e-4069-9b81-ec80fc5d767a",
                actor=root(),
                request=None,
                response=None,
                read_only=True,
                user_agent="AWS Internal",
            ),
            expect=True,
        ),
        Example(
            "root task session from AssumeRoot deletes a bucket policy (AWS's example of a privileged task)",
            event(
                "DeleteBucketPolicy",
                "s3.amazonaws.com",
                event_id="5d0e3a7b-2c4f-4e6a-8b1d-3f5a7c9e1b2d",
                actor=root_task_session(_TASK_KEY),
                request={"bucketName": "payments-exports", "Host": "payments-exports.s3.amazonaws.com", "policy": ""},
                region="us-west-2",
                recipientAccountId=MEMBER_ACCOUNT,
            ),
            expect=True,
            context={"task_sessions": {_TASK_KEY: _TASK}},
        ),
        Example(
            "root resets its password through the recovery flow",
            sign_in_step(
                root(console=False), "PasswordUpdated", event_id="e3c1a5b7-9d2f-4b6e-8a0c-2e4f6a8b0c1d", success=True
            ),
            expect=True,
        ),
        Example(
            "failed ExternalIdPDirectoryLogin by root is a failed sign-in, not activity",
            sign_in_step(
                root(console=False),
                "ExternalIdPDirectoryLogin",
                event_id="b4d6f8a0-2c4e-4a6b-8d0f-1a3c5e7b9d2f",
                success=False,
                error_message="Not a valid response for the provided request id: aws_ccV60EXAMPLE",
            ),
            expect=False,
        ),
        Example(
            "failed PasswordUpdated by root",
            sign_in_step(
                root(console=False), "PasswordUpdated", event_id="c5e7a9b1-3d5f-4b7c-9e1a-2b4d6f8a0c3e", success=False
            ),
            expect=False,
        ),
        Example(
            "AWS service acting in the account (AwsServiceEvent)",
            event(
                "SharedSnapshotCopyInitiated",
                "ec2.amazonaws.com",
                event_id="02c57bbe-eb14-45ae-b2d5-ad753e88226e",
                actor={"accountId": ACCOUNT, "type": "Root", "invokedBy": "ec2.amazonaws.com"},
                request=None,
                response=None,
                ip="ec2.amazonaws.com",
                user_agent="ec2.amazonaws.com",
                event_type="AwsServiceEvent",
                serviceEventDetails={"snapshotId": "snap-0f1e2d3c4b5a69788"},
            ),
            expect=False,
        ),
        Example(
            "call made on root's behalf by an AWS service",
            event(
                "DescribeTrails",
                "cloudtrail.amazonaws.com",
                event_id="a08d8bef-451e-4b1e-963b-7b512d990d4b",
                actor=root() | {"invokedBy": "securityhub.amazonaws.com"},
                request={"includeShadowTrails": True},
                read_only=True,
                ip="securityhub.amazonaws.com",
                user_agent="securityhub.amazonaws.com",
            ),
            expect=False,
        ),
        Example(
            "root's MFA check during sign-in",
            event(
                "CheckMfa",
                "signin.amazonaws.com",
                event_id="279cc4a4-5058-4ead-b5a1-11a52d7dca68",
                actor=root(console=False) | {"accessKeyId": ""},
                request=None,
                response={"CheckMfa": "Success"},
                user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                event_type="AwsConsoleSignIn",
            ),
            expect=False,
        ),
        Example(
            "an administrator role creating a user is not root",
            iam_call(
                "CreateUser",
                {"userName": "svc-reporting"},
                {
                    "user": {
                        "path": "/",
                        "userName": "svc-reporting",
                        "userId": "AIDAEXAMPLESVCREPORT",
                        "arn": user_arn("svc-reporting"),
                        "createDate": "May 14, 2024, 9:12:45 AM",
                    }
                },
                event_id="305f59ad-31f7-423e-898a-7d755ba1d505",
            ),
            expect=False,
        ),
    ),
)
