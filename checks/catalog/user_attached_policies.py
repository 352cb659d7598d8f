"""IAM users get their permissions through groups, not policies attached to them."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per user: fail listing managed policies attached to it and inline policies embedded in it."""
    for user in sorted(snapshot.users or [], key=lambda u: u["Arn"]):
        managed = [p.get("PolicyName") or p["PolicyArn"] for p in user.get("AttachedManagedPolicies", [])]
        inline = [p.get("PolicyName", "?") for p in user.get("UserPolicyList", [])]
        parts = []
        if managed:
            parts.append(f"managed {', '.join(sorted(managed))}")
        if inline:
            parts.append(f"inline {', '.join(sorted(inline))}")
        if parts:
            count = len(managed) + len(inline)
            policies = "policy" if count == 1 else "policies"
            yield fail(user["Arn"], f"User {user['UserName']} has {count} {policies} of its own: {'; '.join(parts)}.")
        else:
            yield ok(user["Arn"], f"User {user['UserName']} gets its permissions only through groups.")


CHECK = Check(
    id="user_attached_policies",
    title="Policies attached directly to IAM users",
    severity=Severity.LOW,
    rationale=(
        "Permissions attached to individual users drift: each person accumulates one-off grants that nobody "
        "reviews, and two people in the same job end up with different access. Granting through groups (or "
        "roles) keeps access tied to a job function, so reviewing the group reviews everyone in it and moving "
        "someone is a membership change."
    ),
    remediation=(
        "Put the user in a group that carries the permissions it needs (`aws iam add-user-to-group`), then "
        "remove its own policies: `aws iam detach-user-policy --user-name <user> --policy-arn <arn>` for managed "
        "ones, `aws iam delete-user-policy --user-name <user> --policy-name <name>` for inline ones."
    ),
    needs=("authorization",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.14",), "Security Hub": ("IAM.2",)},
)
