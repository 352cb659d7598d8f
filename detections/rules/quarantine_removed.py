"""Someone removed AWS's quarantine policy from a user whose key AWS found in public."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Remediation, Rule, RuleContext
from detections.example_records import QUARANTINE_V2, QUARANTINE_V3, iam_call, iam_user, policy_arn, role_session
from detections.quarantine import REMOVE, own_key, quarantine_policy, quarantined_user
from detections.references import QUARANTINE_POLICY, aws_api


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful detach of an AWSCompromisedKeyQuarantine policy, or delete of the legacy inline one."""
    if ct.failed(record):
        return None
    policy, user = quarantine_policy(record), quarantined_user(record)
    if policy is None or user is None:
        return None
    key = own_key(record, user)
    facts = {"User": user, "Quarantine policy": policy.rsplit("/", 1)[-1], "Removed by": ct.actor_arn(record)}
    if key:
        facts["Removed with the user's own key"] = key
    return Match(
        title=f"AWS's quarantine removed from user {user}",
        target=ct.iam_arn(ct.account_id(record), "user", user),
        facts=facts,
        remediation=Remediation(key_user=user),
    )


RULE = Rule(
    id="quarantine_removed",
    severity=Severity.CRITICAL,
    title="Quarantine of an exposed key removed",
    rationale=(
        "AWS quarantines a user whose access key it found in public. Removing the quarantine policy before the "
        "key is disabled gives whoever holds the key its full power back; an attacker using the leaked key "
        "removes it first when the user may detach its own policies."
    ),
    response=(
        "Disable the user's access keys with the button, then find out who removed the policy and why. Treat the "
        "key as compromised until the AWS support case is closed and the key is deleted."
    ),
    event_names=REMOVE,
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    supersedes=("guardrail_removed",),  # the quarantine policy detached is also a guardrail removed: one alert
    reports={"MITRE ATT&CK": ("T1562.001", "T1078.004")},
    references=(
        QUARANTINE_POLICY,
        aws_api("iam.amazonaws.com", "DetachUserPolicy"),
    ),
    examples=(
        Example(
            "administrator detaches AWSCompromisedKeyQuarantineV3",
            iam_call(
                "DetachUserPolicy",
                {"userName": "ci-deployer", "policyArn": QUARANTINE_V3},
                None,
                event_id="2c4e6a8b-0d2f-4e4a-b6c8-d0e2f4a6b8c0",
                actor=role_session("OpsAdmin", "mallory"),
            ),
            expect=True,
        ),
        Example(
            "the leaked key detaches its own quarantine",
            iam_call(
                "DetachUserPolicy",
                {"userName": "ci-deployer", "policyArn": QUARANTINE_V2},
                None,
                event_id="4e6a8c0d-2f4b-4a6c-8e0a-f2b4d6e8a0c2",
                actor=iam_user("ci-deployer"),
                ip="203.0.113.250",
            ),
            expect=True,
        ),
        Example(
            "legacy inline quarantine policy deleted",
            iam_call(
                "DeleteUserPolicy",
                {"userName": "ci-deployer", "policyName": "AWSExposedCredentialPolicy_DO_NOT_REMOVE"},
                None,
                event_id="6a8c0e2f-4b6d-4c8e-a0c2-b4d6f8a0c2e4",
            ),
            expect=True,
        ),
        Example(
            "an ordinary customer policy detached",
            iam_call(
                "DetachUserPolicy",
                {"userName": "ci-deployer", "policyArn": policy_arn("deploy-artifacts")},
                None,
                event_id="8c0e2a4b-6d8f-4e0a-c2e4-d6f8b0c2e4a6",
            ),
            expect=False,
        ),
        Example(
            "detach of the quarantine refused",
            iam_call(
                "DetachUserPolicy",
                {"userName": "ci-deployer", "policyArn": QUARANTINE_V3},
                None,
                event_id="0e2a4c6d-8f0b-4a2c-9e4a-f8b0d2e4a6c8",
                actor=iam_user("ci-deployer"),
                error="AccessDenied",
            ),
            expect=False,
        ),
    ),
)
