"""A role exists for security audits (the AWS managed SecurityAudit policy attached)."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers_roles_trails import listing
from checks.helpers_scanner import holders_of
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """One account-wide finding: pass naming the roles with SecurityAudit attached, fail when none has it."""
    roles = sorted(r.get("RoleName", r["Arn"]) for r in holders_of(snapshot, "SecurityAudit", kinds=("role",)))
    if roles:
        yield ok(ACCOUNT, f"SecurityAudit is attached to role {listing(roles)}.")
    else:
        yield fail(ACCOUNT, "No role has the SecurityAudit policy attached.")


CHECK = Check(
    id="security_audit_role_exists",
    title="No SecurityAudit role for auditors",
    severity=Severity.LOW,
    rationale=(
        "Auditors and security tools need to read the configuration of every service, and nothing more. "
        "Without a role made for that, they are given ReadOnlyAccess (which reads data too), an administrator's "
        "role, or an IAM user's long-lived key."
    ),
    remediation=(
        "Create a role the auditors (or the tool's account, with an external id) can assume and attach the "
        "policy: `aws iam create-role --role-name security-audit --assume-role-policy-document file://trust.json`, "
        "then `aws iam attach-role-policy --role-name security-audit --policy-arn "
        "arn:aws:iam::aws:policy/SecurityAudit`."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
