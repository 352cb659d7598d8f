"""An IAM Identity Center permission set that gives admin power was assigned, or a permission set was made one."""

from __future__ import annotations

from core.cloudtrail import policy_document
from core.severity import Severity
from detections.base import Example, Match, Remediation, Rule, RuleContext
from detections.example_records import (
    ACCOUNT,
    ADMINISTRATOR_ACCESS,
    ALLOW_ALL,
    READ_ONLY,
    permission_set_arn,
    policy,
    policy_json,
    sso_call,
)
from detections.grants import UNVERIFIED_POWER
from detections.references import IDENTITY_CENTER_IN_CLOUDTRAIL, aws_api
from iam.policy import Power, Verdict, judge_document, judge_managed_arn, name_looks_privileged
from iam.snapshot import PermissionSetReach

ASSIGN = "CreateAccountAssignment"
ATTACH = "AttachManagedPolicyToPermissionSet"
INLINE = "PutInlinePolicyToPermissionSet"
CUSTOMER = "AttachCustomerManagedPolicyReferenceToPermissionSet"
_PRINCIPAL = {"USER": "user", "GROUP": "group"}


def _reach(record: dict, ctx: RuleContext) -> PermissionSetReach | None:
    params = record.get("requestParameters") or {}
    return ctx.permission_set_reach(
        str(record.get("recipientAccountId") or ""),
        str(record.get("awsRegion") or "us-east-1"),
        str(params.get("instanceArn") or ""),
        str(params.get("permissionSetArn") or ""),
    )


def _reach_fact(reach: PermissionSetReach | None) -> str:
    if reach is None:
        return "unknown (no live lookup)"
    principals = f"{reach.principals} principal{'' if reach.principals == 1 else 's'}"
    return f"assigned to {principals} in {reach.accounts} account{'' if reach.accounts == 1 else 's'}"


def _set_name(reach: PermissionSetReach | None, arn: str) -> str:
    return reach.permission_set.name if reach is not None else arn.rsplit("/", 1)[-1]


def _assignment(record: dict, ctx: RuleContext) -> Match | None:
    params = record.get("requestParameters") or {}
    reach = _reach(record, ctx)
    if reach is None:
        return None  # the permission set's policies are not in the record: offline there is nothing to judge
    verdict = reach.verdict()
    if not verdict.admin_equivalent:
        return None
    kind = str(params.get("principalType") or "")
    principal = str(params.get("principalId") or "")
    account = str(params.get("targetId") or "")
    name = reach.permission_set.name
    return Match(
        title=f"Admin permission set {name} assigned to {_PRINCIPAL.get(kind, kind.lower())} {principal} in {account}",
        target=str(params.get("permissionSetArn") or ""),
        facts={
            "Permission set": name,
            "Power": verdict.summary,
            "Assigned to": f"{_PRINCIPAL.get(kind, kind.lower())} {principal}",
            "Account": account,
            "Reach": _reach_fact(reach),
        },
        remediation=Remediation(
            sso_instance_arn=str(params.get("instanceArn") or ""),
            sso_account=account,
            sso_permission_set_arn=str(params.get("permissionSetArn") or ""),
            sso_principal_type=kind,
            sso_principal_id=principal,
        ),
    )


def _added_policy(record: dict, ctx: RuleContext) -> tuple[str, str, Verdict | None, bool]:
    """(source key in a PermissionSetReach, what was added, its verdict alone or None, name looks privileged)."""
    params = record.get("requestParameters") or {}
    account = str(record.get("recipientAccountId") or "")
    name = record.get("eventName")
    if name == ATTACH:
        arn = str(params.get("managedPolicyArn") or "")
        doc = ctx.managed_policy_document(account, arn)
        alone = judge_managed_arn(arn) or (judge_document(doc) if doc else None)
        return f"managed:{arn}", f"AWS managed policy {arn.rsplit('/', 1)[-1]}", alone, False
    if name == INLINE:
        doc = policy_document(params.get("inlinePolicy"))
        return "inline", "inline policy", judge_document(doc) if doc is not None else None, False
    ref = params.get("customerManagedPolicyReference")
    ref = ref if isinstance(ref, dict) else {}
    ref_name, path = str(ref.get("name") or ""), str(ref.get("path") or "/")
    # Read by name in the managing account only; each assigned account holds its own policy of that name.
    doc = ctx.managed_policy_document(account, f"arn:aws:iam::{account}:policy{path}{ref_name}")
    alone = judge_document(doc) if doc else None
    return f"customer:{path}{ref_name}", f"customer-managed policy {ref_name}", alone, name_looks_privileged(ref_name)


def _policy_change(record: dict, ctx: RuleContext) -> Match | None:
    """A policy added to a permission set: admin-equivalent alone, or (online) the one that tips the set over; an
    unreadable customer-managed policy named like an admin one is reported as unverified (high)."""
    params = record.get("requestParameters") or {}
    source, what, alone, looks_privileged = _added_policy(record, ctx)
    reach = _reach(record, ctx)
    severity = None
    verdict = alone if alone is not None and alone.admin_equivalent else None
    if verdict is None and reach is not None:
        now, before = reach.verdict(), reach.verdict(without=source)
        if now.admin_equivalent and not before.admin_equivalent:
            verdict = now
    if verdict is None and alone is None and looks_privileged:
        verdict, severity = Verdict(Power.ADMIN, (UNVERIFIED_POWER,)), Severity.HIGH
    if verdict is None:
        return None
    set_arn = str(params.get("permissionSetArn") or "")
    set_name = _set_name(reach, set_arn)
    return Match(
        title=f"Permission set {set_name} made admin-equivalent by its {what}",
        target=set_arn,
        facts={"Permission set": set_name, "Added": what, "Power": verdict.summary, "Reach": _reach_fact(reach)},
        severity=severity,
    )


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful assignment of an admin-equivalent permission set, or a policy change making a set one."""
    if record.get("errorCode") or record.get("eventSource") != "sso.amazonaws.com":
        return None
    if not isinstance(record.get("requestParameters"), dict):
        return None
    if record.get("eventName") == ASSIGN:
        return _assignment(record, ctx)
    return _policy_change(record, ctx)


_ADMIN_SET = permission_set_arn("ae5d1fa1f80b684e")
_READ_SET = permission_set_arn("a1b9e6bd2d4fb336")
_GROUP = "34887428-4081-7042-c3c6-928d413009e7"
_USER = "94e80458-9021-70ea-08fa-c3a10a1d8a92"


def _assign(permission_set: str, event_id: str, kind: str = "GROUP", principal: str = _GROUP, **kw: object) -> dict:
    request = {
        "targetId": ACCOUNT,
        "targetType": "AWS_ACCOUNT",
        "permissionSetArn": permission_set,
        "principalType": kind,
        "principalId": principal,
    }
    status = {"status": "IN_PROGRESS", "requestId": event_id, **request}
    return sso_call(ASSIGN, request, {"accountAssignmentCreationStatus": status}, event_id=event_id, **kw)  # type: ignore[arg-type]


def _facts(name: str, arn: str, documents: dict[str, dict], managed: tuple[str, ...] = (), **reach: int) -> dict:
    """An example's live lookup answer for one permission set (see tests/detections/test_rules.py)."""
    return {"permission_sets": {arn: {"name": name, "documents": documents, "managed": managed, **reach}}}


RULE = Rule(
    id="identity_center_admin_grant",
    severity=Severity.CRITICAL,
    title="Admin-equivalent IAM Identity Center access granted",
    rationale=(
        "Most human admins now arrive through IAM Identity Center: assigning a permission set that can do "
        "everything makes its user or group an administrator of the target account, and attaching an admin "
        "policy to a permission set does the same for everyone it is already assigned to, in every account. "
        "The policies are judged by what they allow, as IAM grants are; how far the set reaches is looked up live."
    ),
    response=(
        "Ask the caller why the access was needed. If it was not planned, remove the assignment (the button does "
        "exactly the one in the alert) or detach the policy from the permission set and re-provision it, then "
        "review what the principal did since and whether the caller's own session is compromised."
    ),
    event_names=frozenset({ASSIGN, ATTACH, INLINE, CUSTOMER}),
    event_sources=frozenset({"sso.amazonaws.com"}),
    match=match,
    reports={"MITRE ATT&CK": ("T1098", "T1098.003")},
    references=(
        aws_api("sso.amazonaws.com", "CreateAccountAssignment"),
        aws_api("sso.amazonaws.com", "AttachManagedPolicyToPermissionSet"),
        aws_api("sso.amazonaws.com", "PutInlinePolicyToPermissionSet"),
        aws_api("sso.amazonaws.com", "AttachCustomerManagedPolicyReferenceToPermissionSet"),
        IDENTITY_CENTER_IN_CLOUDTRAIL,
    ),
    examples=(
        Example(
            "admin permission set assigned to a group (online)",
            _assign(_ADMIN_SET, "bea150ce-12b4-4417-9983-7be8c28a7a3a"),
            expect=True,
            context=_facts("AdministratorAccess", _ADMIN_SET, {}, (ADMINISTRATOR_ACCESS,), principals=3, accounts=2),
        ),
        Example(
            "permission set whose inline policy allows everything assigned to a user (online)",
            _assign(_ADMIN_SET, "2c7d4c1e-5f0b-4f43-9d6e-0e7c9b1f3a11", kind="USER", principal=_USER),
            expect=True,
            context=_facts("BreakGlass", _ADMIN_SET, {"inline": policy(ALLOW_ALL)}, principals=1, accounts=1),
        ),
        Example(
            "AdministratorAccess attached to a permission set",
            sso_call(
                ATTACH,
                {"permissionSetArn": _READ_SET, "managedPolicyArn": ADMINISTRATOR_ACCESS},
                event_id="4f0b8d2e-7a1c-4e35-b2f9-3c6d8e1a5b70",
            ),
            expect=True,
        ),
        Example(
            "inline policy allowing iam:* put on a permission set",
            sso_call(
                INLINE,
                {
                    "permissionSetArn": _READ_SET,
                    "inlinePolicy": policy_json({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}),
                },
                event_id="8a3e1f6c-2b9d-4c70-a5e4-1d7f0b3c9e22",
            ),
            expect=True,
        ),
        Example(
            "customer-managed policy that completes a PassRole escalation path in a permission set (online)",
            sso_call(
                CUSTOMER,
                {
                    "permissionSetArn": _READ_SET,
                    "customerManagedPolicyReference": {"name": "lambda-deploy", "path": "/"},
                },
                event_id="c5e2a7b1-9d4f-4b36-8e0a-6f1c3d5b7a94",
            ),
            expect=True,
            context=_facts(
                "Developer",
                _READ_SET,
                {
                    "inline": policy({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}),
                    "customer:/lambda-deploy": policy(
                        {
                            "Effect": "Allow",
                            "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"],
                            "Resource": "*",
                        }
                    ),
                },
                principals=4,
                accounts=3,
            ),
        ),
        Example(
            "unreadable customer-managed policy named like an admin policy",
            sso_call(
                CUSTOMER,
                {"permissionSetArn": _READ_SET, "customerManagedPolicyReference": {"name": "OrgAdmin", "path": "/"}},
                event_id="e1d3b5a7-0c2e-4f68-9a1b-3c5e7f9a1b2d",
            ),
            expect=True,
        ),
        Example(
            "read-only permission set assigned (online)",
            _assign(_READ_SET, "7dbd28aa-25a8-404c-a45b-af7184ba9129"),
            expect=False,
            context=_facts("ReadOnly", _READ_SET, {"inline": policy(READ_ONLY)}, principals=9, accounts=5),
        ),
        Example(
            "assignment offline: the permission set's policies are not in the record",
            _assign(_ADMIN_SET, "0d4fb26b-af27-420b-9f83-007d21080745"),
            expect=False,
        ),
        Example(
            "admin permission set assignment refused",
            _assign(_ADMIN_SET, "5b9c1d3e-7f2a-4c68-b0e4-2a6c8e0f4b13", error="AccessDenied"),
            expect=False,
            context=_facts("AdministratorAccess", _ADMIN_SET, {}, (ADMINISTRATOR_ACCESS,), principals=1, accounts=1),
        ),
        Example(
            "ReadOnlyAccess attached to a permission set",
            sso_call(
                ATTACH,
                {"permissionSetArn": _READ_SET, "managedPolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                event_id="9f7e5d3c-1b0a-4e28-8c6f-4a2b0d8e6c51",
            ),
            expect=False,
        ),
        Example(
            "inline Deny-only policy put on a permission set",
            sso_call(
                INLINE,
                {
                    "permissionSetArn": _ADMIN_SET,
                    "inlinePolicy": policy_json({"Effect": "Deny", "Action": "*", "Resource": "*"}),
                },
                event_id="3a5c7e9b-2d4f-4a61-8b3e-5c7a9e1b3d60",
            ),
            expect=False,
        ),
        Example(
            "policy added to a permission set that was admin-equivalent already (online)",
            sso_call(
                CUSTOMER,
                {"permissionSetArn": _ADMIN_SET, "customerManagedPolicyReference": {"name": "tagging", "path": "/"}},
                event_id="6d8f0b2c-4e6a-4c83-9f1d-7b9d1f3a5c77",
            ),
            expect=False,
            context=_facts(
                "AdministratorAccess",
                _ADMIN_SET,
                {"customer:/tagging": policy(READ_ONLY)},
                (ADMINISTRATOR_ACCESS,),
                principals=2,
                accounts=2,
            ),
        ),
        Example(
            "an IAM call with the same name shape is not Identity Center's",
            {**_assign(_ADMIN_SET, "1e3a5c7d-9f0b-4d26-a8c4-6e0a2c4e6f88"), "eventSource": "iam.amazonaws.com"},
            expect=False,
            context=_facts("AdministratorAccess", _ADMIN_SET, {}, (ADMINISTRATOR_ACCESS,), principals=1, accounts=1),
        ),
    ),
)
