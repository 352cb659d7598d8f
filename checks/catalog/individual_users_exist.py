"""People have their own identities (IAM users, IAM Identity Center users or roles) instead of sharing root."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import plural
from core.cloudtrail import policy_document
from core.severity import Severity
from iam.snapshot import Snapshot

SSO_PREFIX = "AWSReservedSSO_"  # roles IAM Identity Center creates for its permission sets
_FEDERATED_ACTIONS = {"sts:assumerolewithsaml", "sts:assumerolewithwebidentity"}


def _federated(role: dict) -> bool:
    """Whether a role's trust policy lets federated identities (SAML or OIDC) assume it."""
    doc = policy_document(role.get("AssumeRolePolicyDocument")) or {}
    statements = doc.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        actions = statement.get("Action", [])
        actions = [a.lower() for a in (actions if isinstance(actions, list) else [actions]) if isinstance(a, str)]
        if (isinstance(principal, dict) and "Federated" in principal) or _FEDERATED_ACTIONS & set(actions):
            return True
    return False


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Pass with at least one IAM user, an IAM Identity Center user, an AWSReservedSSO_* role, or a role
    federated users assume. The Identity Center part is read when it was collected, not required: without it
    the roles still tell."""
    users = snapshot.users or []
    center_users = list((snapshot.identity_center.users if snapshot.identity_center else {}).values())
    roles = snapshot.roles or []
    sso = [r["RoleName"] for r in roles if r["RoleName"].startswith(SSO_PREFIX)]
    federated = [r["RoleName"] for r in roles if _federated(r)]
    if users:
        yield ok(ACCOUNT, f"The account has {plural(len(users), 'IAM user')} for individual access.")
    elif center_users:
        people = plural(len(center_users), "IAM Identity Center user")
        yield ok(ACCOUNT, f"People have their own identities in IAM Identity Center ({people}).")
    elif sso:
        yield ok(ACCOUNT, f"People sign in through IAM Identity Center ({plural(len(sso), 'AWSReservedSSO_ role')}).")
    elif federated:
        trusting = plural(len(federated), "role")
        yield ok(ACCOUNT, f"People sign in through federation ({trusting} trusting an identity provider).")
    else:
        yield fail(
            ACCOUNT,
            "The account has no IAM users, no IAM Identity Center users or roles and no federated roles, "
            "so people can only work in it as root.",
        )


CHECK = Check(
    id="individual_users_exist",
    title="No individual identities for daily work",
    severity=Severity.MEDIUM,
    rationale=(
        "If no person has an identity of their own, everyone who works in the account does so as root: one "
        "shared secret with unlimited power, no least privilege, and a CloudTrail that cannot tell people apart. "
        "IAM Identity Center (its users, or AWSReservedSSO_* roles in member accounts) or another identity provider "
        "counts as individual "
        "access just as IAM users do."
    ),
    remediation=(
        "Prefer IAM Identity Center: enable it, assign people to permission sets for this account, and have them "
        "sign in through the access portal. Without it, create one IAM user per person "
        "(`aws iam create-user --user-name <name>`), add them to groups with scoped policies, and require MFA."
    ),
    needs=("authorization",),
    evaluate=evaluate,
    mappings={"Conformity": ("IAM-023",)},
)
