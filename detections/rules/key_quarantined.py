"""AWS quarantined an IAM user's access key: it found the key in public."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from core.undone import by_bot
from detections.base import Example, Match, Remediation, Rule, RuleContext
from detections.example_records import (
    ADMINISTRATOR_ACCESS,
    QUARANTINE_V2,
    QUARANTINE_V3,
    iam_call,
    iam_user,
    policy_json,
    role_session,
)
from detections.quarantine import ATTACH, own_key, quarantine_policy, quarantined_user
from detections.references import QUARANTINE_POLICY, elastic, panther


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful attach or put of a quarantine policy on a user; the key is named when the record signs with it."""
    if ct.failed(record) or by_bot(record):
        # The bot's own Quarantine user button (an admin pressed it: they know). Forging the bot's User-Agent only
        # hides putting a quarantine on, which takes power away.
        return None
    policy, user = quarantine_policy(record), quarantined_user(record)
    if policy is None or user is None:
        return None
    key = own_key(record, user)
    agent = str(record.get("userAgent") or "")
    by_aws = agent == "AWS Internal" or agent.startswith("aws-internal/")
    return Match(
        title=(
            f"Access key of user {user} quarantined by AWS (found in public)"
            if by_aws
            else f"AWS's compromised-key quarantine put on user {user}"
        ),
        target=ct.iam_arn(ct.account_id(record), "user", user),
        facts={
            "User": user,
            "Quarantine policy": policy.rsplit("/", 1)[-1],
            "Exposed key": key or "not in the record",
            "Applied by": "AWS" if by_aws else ct.actor_arn(record),
        },
        remediation=Remediation(key_user=user, access_key_id=key),
    )


# AWS's own attach, as Panther's AWS.CloudTrail.IAMCompromisedKeyQuarantine and AWS.IAM.AccessKeyCompromised test
# records show it: userAgent "AWS Internal" (or aws-internal/3), signed with the exposed key of the user itself.
_EXPOSED = iam_user("ci-deployer")

RULE = Rule(
    id="key_quarantined",
    severity=Severity.HIGH,
    title="Access key quarantined by AWS",
    rationale=(
        "AWS attaches an AWSCompromisedKeyQuarantine policy to a user when it finds one of the user's access keys "
        "in public (a repository, a paste, a package). The policy only denies a list of costly or dangerous "
        "calls; the key still works for everything else, and whoever found it has probably used it already."
    ),
    response=(
        "Disable the exposed key with the button (all the user's keys when the record does not name it), then "
        "review the key's use in CloudTrail since its exposure, answer the AWS support case, and rotate the "
        "secret wherever it was used."
    ),
    event_names=ATTACH,
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    reports={"MITRE ATT&CK": ("T1552.001", "T1078.004")},
    references=(
        QUARANTINE_POLICY,
        panther("aws_iam_compromised_key_quarantine"),
        elastic("credential_access_iam_compromisedkeyquarantine_policy_attached_to_user"),
    ),
    examples=(
        Example(
            "AWS attaches AWSCompromisedKeyQuarantineV3 with the exposed key",
            iam_call(
                "AttachUserPolicy",
                {"userName": "ci-deployer", "policyArn": QUARANTINE_V3},
                None,
                event_id="9a3c5e7b-1d3f-4a5b-8c7d-9e1f3a5b7c9d",
                actor=_EXPOSED,
                user_agent="AWS Internal",
            ),
            expect=True,
        ),
        Example(
            "AWSCompromisedKeyQuarantineV2 attached from an internal AWS session (Panther's record)",
            iam_call(
                "AttachUserPolicy",
                {"userName": "test-user", "policyArn": QUARANTINE_V2},
                None,
                event_id="e7bb4b23-66e1-4656-b607-f575fde3b791",
                actor=role_session("a-role", "user.name"),
                user_agent="AWS Internal",
                sessionCredentialFromConsole="true",
            ),
            expect=True,
        ),
        Example(
            "legacy inline quarantine policy put with the exposed key",
            iam_call(
                "PutUserPolicy",
                {
                    "userName": "ci-deployer",
                    "policyName": "AWSExposedCredentialPolicy_DO_NOT_REMOVE",
                    "policyDocument": policy_json(
                        {"Effect": "Deny", "Action": ["ec2:RunInstances", "iam:CreateAccessKey"], "Resource": ["*"]}
                    ),
                },
                None,
                event_id="1c2a53d1-58cc-41b3-85b8-bd7565370e0e",
                actor=_EXPOSED,
                user_agent="aws-internal/3 aws-sdk-java/1.11.706",
            ),
            expect=True,
        ),
        Example(
            "an administrator's own deny-all inline policy (Panther's negative record)",
            iam_call(
                "PutUserPolicy",
                {
                    "userName": "test-user",
                    "policyName": "TestUserDenyAll",
                    "policyDocument": policy_json({"Effect": "Deny", "Action": ["*"], "Resource": ["*"]}),
                },
                None,
                event_id="7ee6ba6e-1943-417a-a6a3-3a2b0292cdad",
                actor=role_session("a-role", "user.name"),
            ),
            expect=False,
        ),
        Example(
            "AdministratorAccess attached to a user",
            iam_call(
                "AttachUserPolicy",
                {"userName": "ci-deployer", "policyArn": ADMINISTRATOR_ACCESS},
                None,
                event_id="3e5a7c9b-1d3f-4b5a-9c7e-1f3b5d7a9c1e",
            ),
            expect=False,
        ),
        Example(
            "customer policy named like the quarantine policy",
            iam_call(
                "AttachUserPolicy",
                {
                    "userName": "ci-deployer",
                    "policyArn": "arn:aws:iam::111122223333:policy/AWSCompromisedKeyQuarantineV3",
                },
                None,
                event_id="5b7d9f1a-3c5e-4d7f-a9b1-c3e5f7a9b1d3",
            ),
            expect=False,
        ),
        Example(
            "the bot's own Quarantine user button attaching AWSCompromisedKeyQuarantineV3",
            iam_call(
                "AttachUserPolicy",
                {"userName": "ci-deployer", "policyArn": QUARANTINE_V3},
                None,
                event_id="3a5c7e9b-1d3f-4e5a-8b7c-9d1e3f5a7b9d",
                actor=iam_user("iam-warden-bot"),
                user_agent=(
                    "Boto3/1.34.100 md/Botocore#1.34.100 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.3 "
                    "app/iam-warden"
                ),
            ),
            expect=False,
        ),
        Example(
            "quarantine attach refused",
            iam_call(
                "AttachUserPolicy",
                {"userName": "ci-deployer", "policyArn": QUARANTINE_V3},
                None,
                event_id="7d9f1b3c-5e7a-4f9b-b1d3-e5f7a9c1d3e5",
                error="AccessDenied",
            ),
            expect=False,
        ),
    ),
)
