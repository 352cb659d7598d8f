"""A role exists for dealing with AWS Support (AWSSupportAccess attached)."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers_roles_trails import listing
from core.severity import Severity
from iam.snapshot import Snapshot

POLICY_PATH = ":iam::aws:policy/AWSSupportAccess"  # matched at the end of the ARN, in any partition


def _holders(entries: list[dict] | None) -> list[str]:
    """Names of the entries that have AWSSupportAccess attached."""
    found = []
    for entry in entries or []:
        if any(str(a.get("PolicyArn", "")).endswith(POLICY_PATH) for a in entry.get("AttachedManagedPolicies", [])):
            found.append(entry.get("RoleName") or entry.get("UserName") or entry.get("GroupName") or entry["Arn"])
    return sorted(found)


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """One account-wide finding: pass naming the roles with AWSSupportAccess; fail otherwise, saying whether
    a user or group holds it instead."""
    roles = _holders(snapshot.roles)
    if roles:
        yield ok(ACCOUNT, f"AWSSupportAccess is attached to role {listing(roles)}.")
        return
    others = [f"user {n}" for n in _holders(snapshot.users)] + [f"group {n}" for n in _holders(snapshot.groups)]
    instead = f" (it is attached to {listing(others)}, but not to a role)" if others else ""
    yield fail(ACCOUNT, f"No role has the AWSSupportAccess policy attached{instead}.")


CHECK = Check(
    id="support_role_exists",
    title="No AWS Support role",
    severity=Severity.LOW,
    rationale=(
        "During an incident someone has to open and follow AWS Support cases, often at once. A role dedicated "
        "to it, with AWSSupportAccess, lets the responders do that without borrowing an administrator's or "
        "the root user's access, and makes who may talk to AWS Support on the account's behalf explicit."
    ),
    remediation=(
        "Create a role the incident responders can assume and attach the policy: `aws iam create-role "
        "--role-name aws-support --assume-role-policy-document file://trust.json`, then `aws iam "
        "attach-role-policy --role-name aws-support --policy-arn arn:aws:iam::aws:policy/AWSSupportAccess`."
    ),
    needs=("authorization",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.16",), "Security Hub": ("IAM.18",)},
)
