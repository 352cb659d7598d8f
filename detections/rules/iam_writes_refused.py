"""One identity keeps being refused the IAM writes that would give it power or persistence."""

from __future__ import annotations

from datetime import timedelta

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Memory, Rule, RuleContext
from detections.example_records import ADMINISTRATOR_ACCESS, iam_call, iam_user, role_session

# The IAM writes the other rules watch: making identities, keys, passwords and grants, removing MFA.
WRITES = frozenset(
    {
        "AddUserToGroup",
        "AttachGroupPolicy",
        "AttachRolePolicy",
        "AttachUserPolicy",
        "CreateAccessKey",
        "CreateLoginProfile",
        "CreatePolicyVersion",
        "CreateUser",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
        "PutGroupPolicy",
        "PutRolePolicy",
        "PutUserPolicy",
        "SetDefaultPolicyVersion",
        "UpdateLoginProfile",
    }
)
# Refusals for want of permission; throttling, missing entities and quota errors say nothing about intent.
REFUSALS = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
THRESHOLD = 5
WINDOW = timedelta(minutes=10)


def _refusal_key(record: dict) -> str | None:
    """The caller's ARN for a refused IAM write (the rule reads only WRITES), else None."""
    if record.get("errorCode") not in REFUSALS:
        return None
    actor = ct.actor_arn(record)
    return actor if actor.startswith("arn:") else None


# Every refused IAM write, by caller, remembered before matching so that the count includes the current one.
REFUSED_WRITES = Memory(name="refused_iam_writes", key=_refusal_key, minutes=int(WINDOW.total_seconds() // 60))


def match(record: dict, ctx: RuleContext) -> Match | None:
    """The refusal that brings the caller's refused IAM writes to THRESHOLD or more within WINDOW."""
    if record.get("errorCode") not in REFUSALS:
        return None
    at = ct.event_time(record)
    actor = ct.actor_arn(record)
    if at is None or not actor.startswith("arn:"):
        return None
    count = ctx.count(REFUSED_WRITES.name, actor, at - WINDOW, at)
    if count < THRESHOLD:
        return None
    minutes = int(WINDOW.total_seconds() // 60)
    return Match(
        title=f"{count} IAM writes refused to one identity within {minutes} minutes",
        target=actor,
        facts={
            "Refused IAM writes": f"{count} in the {minutes} minutes up to this one",
            "Latest refusal": f"{record.get('eventName')}: {str(record.get('errorMessage') or '')[:200]}",
        },
    )


_STOLEN_KEY = iam_user("build-agent")
_INTRUDER_IP = "203.0.113.77"

RULE = Rule(
    id="iam_writes_refused",
    severity=Severity.LOW,
    title="Repeated refused IAM writes by one identity",
    rationale=(
        "Someone holding stolen credentials usually does not know what they may do, so they try: create a user, "
        "attach AdministratorAccess, make an access key. Each attempt the identity lacks the right for is "
        "logged as AccessDenied. Pipelines and people rarely fail several such writes within minutes, so a run "
        "of refusals is often the first trace of credentials being tried out, before anything succeeds."
    ),
    response=(
        "Ask the owner of the identity whether they were changing IAM. If not, treat its credentials as "
        "compromised: disable the key with the button (or revoke the role's sessions), and look for calls from "
        "the same address that did succeed."
    ),
    event_names=WRITES,
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    remembers=(REFUSED_WRITES,),
    dedup_minutes=60,
    reports={"MITRE ATT&CK": ("T1098", "T1136.003", "T1078.004")},
    examples=(
        Example(
            "fifth refused attach by a build agent's key",
            iam_call(
                "AttachUserPolicy",
                {"userName": "build-agent", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                actor=_STOLEN_KEY,
                error="AccessDenied",
                ip=_INTRUDER_IP,
            ),
            expect=True,
            context={"refused": 5},
        ),
        Example(
            "refused CreateUser from a role session after many refusals",
            iam_call(
                "CreateUser",
                {"userName": "support-backup"},
                event_id="b4e2d3c5-6f70-4b8c-9dae-1f2a3b4c5d6e",
                actor=role_session("ci-deployer", "i-0a1b2c3d4e5f"),
                error="AccessDenied",
                ip=_INTRUDER_IP,
            ),
            expect=True,
            context={"refused": 9},
        ),
        Example(
            "two refusals are a typo, not a probe",
            iam_call(
                "CreateAccessKey",
                {"userName": "alice"},
                event_id="c5f3e4d6-7081-4c9d-8ebf-2a3b4c5d6e7f",
                error="AccessDenied",
            ),
            expect=False,
            context={"refused": 2},
        ),
        Example(
            "quota errors do not count",
            iam_call(
                "CreateAccessKey",
                {"userName": "alice"},
                event_id="d6a4f5e7-8192-4dae-9fc0-3b4c5d6e7f80",
                error="LimitExceededException",
            ),
            expect=False,
            context={"refused": 7},
        ),
        Example(
            "a successful write after refusals",
            iam_call(
                "AttachUserPolicy",
                {"userName": "build-agent", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="e7b5a6f8-92a3-4ebf-a0d1-4c5d6e7f8091",
                actor=_STOLEN_KEY,
            ),
            expect=False,
            context={"refused": 8},
        ),
    ),
)
