"""A guardrail was removed: a permissions boundary, a Deny or quarantine policy, an SCP or RCP, the organization."""

from __future__ import annotations

import re
from typing import Any

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import (
    ADMINISTRATOR_ACCESS,
    READ_ONLY,
    event,
    iam_call,
    policy,
    policy_arn,
    role_session,
)
from detections.references import PERMISSIONS_BOUNDARIES, aws_api, elastic, panther
from iam.policy import judge_document, judge_managed_arn

IAM, ORGANIZATIONS = "iam.amazonaws.com", "organizations.amazonaws.com"
BOUNDARY_DELETED = {"DeleteUserPermissionsBoundary": "user", "DeleteRolePermissionsBoundary": "role"}
BOUNDARY_PUT = {"PutUserPermissionsBoundary": "user", "PutRolePermissionsBoundary": "role"}
DETACH = {"DetachUserPolicy": "user", "DetachGroupPolicy": "group", "DetachRolePolicy": "role"}
INLINE_DELETED = {"DeleteUserPolicy": "user", "DeleteGroupPolicy": "group", "DeleteRolePolicy": "role"}
IAM_EVENTS = frozenset({*BOUNDARY_DELETED, *BOUNDARY_PUT, *DETACH, *INLINE_DELETED, "DeletePolicy"})
ORGANIZATIONS_EVENTS = frozenset({"DetachPolicy", "DeletePolicy", "DisablePolicyType", "LeaveOrganization"})
GUARD_POLICY_TYPES = {"SERVICE_CONTROL_POLICY": "service control", "RESOURCE_CONTROL_POLICY": "resource control"}
# The organization's default policies allow everything: taking one away narrows power, it widens nothing.
FULL_ACCESS_IDS = frozenset({"p-FullAWSAccess", "p-RCPFullAWSAccess"})
# Names that say a policy only restricts (AWSDenyAll, AWSCompromisedKeyQuarantineV3, a "quarantine" inline policy).
_GUARD_NAME = re.compile(r"quarantine|deny|guardrail|boundary", re.IGNORECASE)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def deny_only(document: dict) -> bool:
    """Whether every statement of a policy denies (it can only ever take power away)."""
    statements = document.get("Statement")
    statements = statements if isinstance(statements, list) else [statements]
    return bool(statements) and all(isinstance(s, dict) and s.get("Effect") == "Deny" for s in statements)


def _iam(record: dict, ctx: RuleContext) -> tuple[str, str | None, dict[str, str]] | None:
    """What guardrail an IAM call removed: (title, target, facts), or None."""
    name = str(record.get("eventName"))
    req = ct.request(record)
    account = ct.account_id(record)
    kind = BOUNDARY_DELETED.get(name) or BOUNDARY_PUT.get(name) or DETACH.get(name) or INLINE_DELETED.get(name)
    principal = _text(req.get(f"{kind}Name")) if kind else None
    target = ct.iam_arn(account, kind, principal) if kind and principal else None
    if name in BOUNDARY_DELETED:
        return (f"Permissions boundary removed from {kind} {principal}", target, {"Boundary": "removed"})
    if name in BOUNDARY_PUT:
        boundary = _text(req.get("permissionsBoundary"))
        if boundary is None:
            return None
        verdict = judge_managed_arn(boundary)
        if verdict is None:
            doc = ctx.managed_policy_document(account, boundary)
            verdict = judge_document(doc) if doc is not None else None
        if verdict is None or not verdict.admin_equivalent:
            return None  # unknown or still limiting: a narrower boundary is no alert
        facts = {"Boundary": boundary, "Boundary allows": verdict.summary}
        return (f"Permissions boundary of {kind} {principal} replaced by one that limits nothing", target, facts)
    if name in DETACH:
        arn = _text(req.get("policyArn"))
        if arn is None:
            return None
        doc = ctx.managed_policy_document(account, arn)
        if doc is not None and not deny_only(doc):
            return None
        if doc is None and not _GUARD_NAME.search(arn.rsplit("/", 1)[-1]):
            return None
        why = "every statement denies" if doc is not None else "its name says it restricts (it could not be read)"
        short = arn.rsplit("/", 1)[-1]
        return (f"Guard policy {short} detached from {kind} {principal}", target, {"Policy": arn, "Guard": why})
    policy_name = _text(req.get("policyName")) if name in INLINE_DELETED else _text(req.get("policyArn"))
    if policy_name is None or not _GUARD_NAME.search(policy_name.rsplit("/", 1)[-1]):
        return None
    short = policy_name.rsplit("/", 1)[-1]
    facts = {"Policy": policy_name, "Guard": "its name says it restricts (a deleted policy cannot be read)"}
    if name in INLINE_DELETED:
        return (f"Guard policy {short} deleted from {kind} {principal}", target, facts)
    return (f"Managed guard policy {short} deleted", policy_name, facts)


def _organizations(record: dict, ctx: RuleContext) -> tuple[str, str | None, dict[str, str]] | None:
    """What guardrail an Organizations call removed: (title, target, facts), or None."""
    name = str(record.get("eventName"))
    req = ct.request(record)
    if name == "LeaveOrganization":
        account = ct.account_id(record)
        if ct.failed(record):
            facts = {"Outcome": f"refused ({record.get('errorCode') or 'error'})"}
            return (f"Account {account} tried to leave the organization", account, facts)
        return (f"Account {account} left the organization", account, {"Outcome": "left"})
    if ct.failed(record):
        return None
    if name == "DisablePolicyType":
        kind = GUARD_POLICY_TYPES.get(str(req.get("policyType")))
        if kind is None:
            return None
        root = _text(req.get("rootId")) or "the organization's root"
        return (f"{kind.capitalize()} policies disabled for {root}", root, {"Policy type": kind})
    policy_id = _text(req.get("policyId"))
    if policy_id is None or policy_id in FULL_ACCESS_IDS:
        return None
    # The record does not say the policy's type; Organizations does while the policy exists.
    known = ctx.organization_policy_type(policy_id)
    if known is not None and known not in GUARD_POLICY_TYPES:
        return None
    kind = GUARD_POLICY_TYPES[known] if known else "unknown (a service or resource control policy, or another type)"
    facts = {"Policy": policy_id, "Policy type": kind}
    if name == "DetachPolicy":
        target = _text(req.get("targetId"))
        return (f"Organization policy {policy_id} detached from {target or 'a target'}", target, facts)
    return (f"Organization policy {policy_id} deleted", policy_id, facts)


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A call that widens power without granting any Allow: a guard removed or loosened (LeaveOrganization even
    when refused)."""
    source, name = str(record.get("eventSource") or ""), str(record.get("eventName") or "")
    if source == IAM and name in IAM_EVENTS and not ct.failed(record):
        found = _iam(record, ctx)
    elif source == ORGANIZATIONS and name in ORGANIZATIONS_EVENTS:
        found = _organizations(record, ctx)
    else:
        return None
    if found is None:
        return None
    title, target, facts = found
    severity = Severity.CRITICAL if name == "LeaveOrganization" else None
    return Match(title=title, target=target, facts=facts, severity=severity)


_INTRUDER = role_session("OpsAdmin", "mallory")
_DENY_ALL = "arn:aws:iam::aws:policy/AWSDenyAll"
_DENY_REGIONS = {
    "Effect": "Deny",
    "NotAction": ["iam:*", "sts:*"],
    "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
}


def _org_call(name: str, request: dict | None, *, event_id: str, **kwargs: Any) -> dict:
    return event(name, ORGANIZATIONS, event_id=event_id, request=request, **kwargs)


RULE = Rule(
    id="guardrail_removed",
    severity=Severity.HIGH,
    title="Guardrail removed",
    rationale=(
        "Permissions boundaries, Deny-only and quarantine policies, service and resource control policies and "
        "membership of the organization cap what identities may do. Removing one widens power without any "
        "Allow being granted, so privileged_grant cannot see it, and it is how a contained key or a "
        "fenced-in role is quietly set free. Leaving the organization drops every organization guardrail at once "
        "(critical, and a refused attempt is reported too)."
    ),
    response=(
        "Ask the caller why the guardrail had to go. If it was not planned, put the boundary, policy or SCP "
        "back, then review what the freed identities did since, and whether the caller's credentials are "
        "compromised."
    ),
    event_names=IAM_EVENTS | ORGANIZATIONS_EVENTS,
    event_sources=frozenset({IAM, ORGANIZATIONS}),
    match=match,
    reports={"MITRE ATT&CK": ("T1562.001", "T1098", "T1666")},
    references=(
        aws_api("organizations.amazonaws.com", "LeaveOrganization"),
        aws_api("organizations.amazonaws.com", "DetachPolicy"),
        PERMISSIONS_BOUNDARIES,
        panther("aws_cloudtrail_attempt_to_leave_org"),
        elastic("defense_evasion_organizations_leave_organization"),
        elastic("privilege_escalation_iam_permissions_boundary_modified"),
    ),
    examples=(
        Example(
            "permissions boundary removed from a role",
            iam_call(
                "DeleteRolePermissionsBoundary",
                {"roleName": "ci-deploy"},
                None,
                event_id="38de6b40-fc3f-4f2e-8ad1-4b5c6d7e8f23",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "boundary replaced by AdministratorAccess",
            iam_call(
                "PutUserPermissionsBoundary",
                {"userName": "bob", "permissionsBoundary": ADMINISTRATOR_ACCESS},
                None,
                event_id="49ef7c51-0d4a-4a3f-9be2-5c6d7e8f9a24",
            ),
            expect=True,
        ),
        Example(
            "AWSDenyAll detached from a user",
            iam_call(
                "DetachUserPolicy",
                {"userName": "build", "policyArn": _DENY_ALL},
                None,
                event_id="5af08d62-1e5b-4b4a-8cf3-6d7e8f9a0b25",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "Deny-only region fence detached from a role",
            iam_call(
                "DetachRolePolicy",
                {"roleName": "analytics", "policyArn": policy_arn("region-fence")},
                None,
                event_id="6b019e73-2f6c-4c5b-9d04-7e8f9a0b1c26",
            ),
            expect=True,
            context={"policies": {policy_arn("region-fence"): policy(_DENY_REGIONS)}},
        ),
        Example(
            "inline quarantine policy deleted",
            iam_call(
                "DeleteUserPolicy",
                {"userName": "build", "policyName": "iam-warden-quarantine"},
                None,
                event_id="7c12af84-3a7d-4d6c-8e15-8f9a0b1c2d27",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "service control policy detached from an OU",
            _org_call(
                "DetachPolicy",
                {"policyId": "p-4sb7wqlz", "targetId": "ou-a1b2-c3d4e5f6"},
                event_id="8d23b095-4b8e-4e7d-9f26-9a0b1c2d3e28",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "service control policies disabled at the root",
            _org_call(
                "DisablePolicyType",
                {"rootId": "r-a1b2", "policyType": "SERVICE_CONTROL_POLICY"},
                event_id="9e34c1a6-5c9f-4f8e-8a37-0b1c2d3e4f29",
                response={"root": {"id": "r-a1b2", "name": "Root", "policyTypes": []}},
            ),
            expect=True,
        ),
        Example(
            "account left the organization",
            _org_call("LeaveOrganization", None, event_id="af45d2b7-6da0-4a9f-9b48-1c2d3e4f5a30", actor=_INTRUDER),
            expect=True,
        ),
        Example(
            "attempt to leave the organization refused",
            _org_call(
                "LeaveOrganization",
                None,
                event_id="b056e3c8-7eb1-4ba0-8c59-2d3e4f5a6b31",
                actor=_INTRUDER,
                error="AccessDeniedException",
            ),
            expect=True,
        ),
        Example(
            "read-only policy detached",
            iam_call(
                "DetachUserPolicy",
                {"userName": "bob", "policyArn": policy_arn("s3-audit-read")},
                None,
                event_id="c167f4d9-8fc2-4cb1-9d6a-3e4f5a6b7c32",
            ),
            expect=False,
            context={"policies": {policy_arn("s3-audit-read"): policy(READ_ONLY)}},
        ),
        Example(
            "boundary replaced by a narrower one",
            iam_call(
                "PutRolePermissionsBoundary",
                {"roleName": "ci-deploy", "permissionsBoundary": policy_arn("ci-boundary")},
                None,
                event_id="d27805ea-90d3-4dc2-8e7b-4f5a6b7c8d33",
            ),
            expect=False,
            context={"policies": {policy_arn("ci-boundary"): policy(READ_ONLY)}},
        ),
        Example(
            "default FullAWSAccess SCP detached (narrows power)",
            _org_call(
                "DetachPolicy",
                {"policyId": "p-FullAWSAccess", "targetId": "ou-a1b2-c3d4e5f6"},
                event_id="e38916fb-a1e4-4ed3-9f8c-5a6b7c8d9e34",
            ),
            expect=False,
        ),
        Example(
            "tag policy detached",
            _org_call(
                "DetachPolicy",
                {"policyId": "p-95ouhj3k", "targetId": "ou-a1b2-c3d4e5f6"},
                event_id="1abc492e-d417-4b06-8cbf-8d9e0f1a2b37",
            ),
            expect=False,
            context={"org_policies": {"p-95ouhj3k": "TAG_POLICY"}},
        ),
        Example(
            "tag policies disabled",
            _org_call(
                "DisablePolicyType",
                {"rootId": "r-a1b2", "policyType": "TAG_POLICY"},
                event_id="f49a270c-b2f5-4fe4-8a9d-6b7c8d9e0f35",
            ),
            expect=False,
        ),
        Example(
            "boundary removal refused",
            iam_call(
                "DeleteRolePermissionsBoundary",
                {"roleName": "ci-deploy"},
                None,
                event_id="05ab381d-c306-4af5-9bae-7c8d9e0f1a36",
                error="AccessDenied",
                actor=_INTRUDER,
            ),
            expect=False,
        ),
    ),
)
