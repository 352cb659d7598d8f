"""`bot.py check`'s AWS half: who the bot is, whether its event source answers, and what its IAM policy allows.

Each function makes the calls and returns a line; AWS errors propagate (the caller words them with aws.causes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aws.permissions import ACTIONS
from aws.sessions import AwsSessions
from core.containment import QUARANTINE_POLICY_ARN

# An assumed-role session's ARN; IAM simulates the role behind it (a role with a path cannot be named from it).
_ASSUMED_ROLE = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/[^/]+$")
# kms:Decrypt is allowed only through S3 (deploy/iam-policy.json): simulate it as S3 asks for it; likewise
# iam:AttachUserPolicy only for AWS's quarantine policy (button iam_quarantine_user).
_CONTEXT = [
    {
        "ContextKeyName": "kms:ViaService",
        "ContextKeyValues": ["s3.us-east-1.amazonaws.com"],
        "ContextKeyType": "string",
    },
    {"ContextKeyName": "iam:PolicyARN", "ContextKeyValues": [QUARANTINE_POLICY_ARN], "ContextKeyType": "string"},
]


def identity_line(sessions: AwsSessions) -> str:
    """The bot's AWS identity (sts:GetCallerIdentity)."""
    who = sessions.identity()
    return f"{who['Arn']} (account {who['Account']})"


def queue_line(sessions: AwsSessions, queue_url: str, region: str) -> str:
    """The event queue answers sqs:GetQueueAttributes: how many messages wait."""
    reply = sessions.client("sqs", region=region).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    waiting = reply.get("Attributes", {}).get("ApproximateNumberOfMessages", "?")
    return f"{queue_url} answers ({waiting} message(s) waiting)"


def lookup_line(sessions: AwsSessions, region: str) -> str:
    """CloudTrail event history answers cloudtrail:LookupEvents in `region`."""
    sessions.client("cloudtrail", region=region).lookup_events(MaxResults=1)
    return f"CloudTrail LookupEvents answers in {region} (no queue set: the bot polls)"


def principal_arn(caller_arn: str) -> str:
    """The IAM ARN to simulate for a caller: an assumed role's session becomes the role."""
    match = _ASSUMED_ROLE.match(caller_arn)
    return f"arn:{match[1]}:iam::{match[2]}:role/{match[3]}" if match else caller_arn


def denied_actions(sessions: AwsSessions, actions: Iterable[str] = ACTIONS) -> list[str]:
    """The actions of aws/permissions.py that the bot's own policies do not allow (iam:SimulatePrincipalPolicy)."""
    iam = sessions.client("iam")
    source = principal_arn(sessions.identity()["Arn"])
    denied: list[str] = []
    marker: dict[str, str] = {}
    while True:  # botocore has no paginator for this call
        page = iam.simulate_principal_policy(
            PolicySourceArn=source, ActionNames=sorted(actions), ContextEntries=_CONTEXT, **marker
        )
        denied.extend(r["EvalActionName"] for r in page["EvaluationResults"] if r["EvalDecision"] != "allowed")
        if not page.get("IsTruncated"):
            return sorted(denied)
        marker = {"Marker": page["Marker"]}
