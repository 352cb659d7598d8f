"""A policy was written with a document too large for CloudTrail to log, so nobody can see what it grants."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Remediation, Rule, RuleContext
from detections.example_records import ALLOW_ALL, READ_ONLY, iam_call, policy, policy_arn, policy_json, role_session
from detections.grants import OMITTED_EVENTS, analyse_grant, recover_omitted, request_omitted
from detections.references import RECORD_CONTENTS, aws_api
from iam.policy import judge_document

UNVERIFIED_OMITTED = "CloudTrail omitted the document as too large, and it could not be read back"


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful policy write whose request CloudTrail omitted, unless the document read back from IAM is
    harmless or is an admin grant (privileged_grant raises that one)."""
    name = str(record.get("eventName") or "")
    if name not in OMITTED_EVENTS or ct.failed(record) or not request_omitted(record):
        return None
    found = recover_omitted(record, ctx)
    named = found.kind and found.principal
    target = ct.iam_arn(ct.account_id(record), found.kind, found.principal) if named else found.policy
    where = found.target or "an unknown principal or policy (the request's names were omitted too)"
    facts = {"Policy written by": name, "Written to": where}
    size = ct.request(record).get("originalSize")
    if size:
        facts["Logged request size"] = f"{size} bytes (omitted)"
    remediation = None
    if found.kind and found.principal and found.policy:
        remediation = Remediation(
            principal_type=found.kind,
            principal_name=found.principal,
            inline_policy_name=found.policy,
            key_user=found.principal if found.kind == "user" else None,
        )
    if found.document is None:
        return Match(
            title=f"Policy written with a document CloudTrail did not log ({name} to {where})",
            target=target,
            facts=facts | {"Power": UNVERIFIED_OMITTED},
            remediation=remediation,
        )
    verdict = judge_document(found.document)
    if not verdict.admin_equivalent or analyse_grant(record, ctx) is not None:
        return None
    # Admin power written where it is not (yet) granted: a new managed policy, or a version not made default.
    return Match(
        title=f"Admin-equivalent policy written with a document CloudTrail did not log ({where})",
        target=found.policy,
        facts=facts | {"Power": verdict.summary},
    )


_OMITTED = {"reason": "requestParameters too large", "omitted": True, "originalSize": 131406}
_INTRUDER = role_session("OpsAdmin", "mallory")


def _created_policy(name: str) -> dict:
    """CreatePolicy's responseElements, which CloudTrail keeps when it omits the request."""
    return {
        "policy": {
            "policyName": name,
            "policyId": "ANPAYZ6LNQ4G3EXAMPLE",
            "arn": policy_arn(name),
            "path": "/",
            "defaultVersionId": "v1",
            "attachmentCount": 0,
            "permissionsBoundaryUsageCount": 0,
            "isAttachable": True,
            "createDate": "May 14, 2024, 9:12:45 AM",
            "updateDate": "May 14, 2024, 9:12:45 AM",
        }
    }


RULE = Rule(
    id="policy_unverifiable",
    severity=Severity.HIGH,
    title="Policy written with a document CloudTrail did not log",
    rationale=(
        "CloudTrail drops a request's parameters when they are too large, logging only "
        "`requestParameters too large`. Padding a policy document with whitespace past that size is a known way "
        "to write an admin policy that no log-based detection, this bot's privileged_grant included, can read. "
        "When AWS is reachable the document is read back from IAM and judged as privileged_grant judges it; "
        "otherwise the write is reported as an unverified grant."
    ),
    response=(
        "Read the policy in IAM (`aws iam get-user-policy`, `get-role-policy`, `get-group-policy` or "
        "`get-policy-version`). If it grants more than planned or nobody can say why it was padded, delete it "
        "(the button does for an inline policy) and review the caller's other activity."
    ),
    event_names=OMITTED_EVENTS,
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    reports={"MITRE ATT&CK": ("T1098", "T1562.008")},
    references=(
        RECORD_CONTENTS,
        aws_api("iam.amazonaws.com", "PutUserPolicy"),
        aws_api("iam.amazonaws.com", "CreatePolicyVersion"),
    ),
    examples=(
        Example(
            "inline user policy too large to log, read offline",
            iam_call("PutUserPolicy", dict(_OMITTED), None, event_id="7c1e4b2a-90d3-4f6e-8a15-2b3c4d5e6f11"),
            expect=True,
        ),
        Example(
            "policy version too large to log, made default, policy unknown",
            iam_call(
                "CreatePolicyVersion",
                dict(_OMITTED),
                {
                    "policyVersion": {
                        "versionId": "v3",
                        "isDefaultVersion": True,
                        "createDate": "May 14, 2024, 9:12:45 AM",
                    }
                },
                event_id="8d2f5c3b-a1e4-4a7f-9b26-3c4d5e6f7a12",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "padded managed policy that allows everything, read back",
            iam_call(
                "CreatePolicy",
                dict(_OMITTED),
                _created_policy("ops-tooling"),
                event_id="9e3a6d4c-b2f5-4b8a-8c37-4d5e6f7a8b13",
                actor=_INTRUDER,
            ),
            expect=True,
            context={"policies": {policy_arn("ops-tooling"): policy(ALLOW_ALL)}},
        ),
        Example(
            "padded managed policy that only reads, read back",
            iam_call(
                "CreatePolicy",
                dict(_OMITTED),
                _created_policy("audit-reader"),
                event_id="af4b7e5d-c3a6-4c9b-9d48-5e6f7a8b9c14",
            ),
            expect=False,
            context={"policies": {policy_arn("audit-reader"): policy(READ_ONLY)}},
        ),
        Example(
            "inline policy logged in full",
            iam_call(
                "PutUserPolicy",
                {"userName": "bob", "policyName": "s3-read", "policyDocument": policy_json(READ_ONLY)},
                None,
                event_id="b05c8f6e-d4b7-4dac-8e59-6f7a8b9c0d15",
            ),
            expect=False,
        ),
        Example(
            "too-large inline policy refused",
            iam_call(
                "PutRolePolicy",
                dict(_OMITTED),
                None,
                event_id="c16d9a7f-e5c8-4ebd-9f6a-7a8b9c0d1e16",
                error="AccessDenied",
                actor=_INTRUDER,
            ),
            expect=False,
        ),
    ),
)
