"""The root user made an API call (other than signing in)."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.samples import ACCOUNT, event, iam_call, root, user_arn

# Parts of the sign-in ceremony, reported by root_login and root_login_failed.
_SIGN_IN = frozenset({"ConsoleLogin", "CheckMfa"})


def match(record: dict, ctx: RuleContext) -> Match | None:
    """Any call made by the root user itself, whether or not AWS allowed it."""
    if not ct.is_root(record) or record.get("eventName") in _SIGN_IN:
        return None
    if record.get("eventType") == "AwsServiceEvent" or ct.identity(record).get("invokedBy"):
        return None
    call = f"{str(record.get('eventSource') or '').split('.', 1)[0]}:{record.get('eventName')}"
    error = record.get("errorCode")
    if error:
        return Match(
            title=f"Root user tried {record.get('eventName')} ({error})",
            target=ct.actor_arn(record),
            facts={"Call": call, "Result": f"refused: {error}"},
        )
    return Match(
        title=f"Root user called {record.get('eventName')}",
        target=ct.actor_arn(record),
        facts={"Call": call, "Result": "succeeded"},
    )


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
