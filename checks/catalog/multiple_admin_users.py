"""At most one IAM user holds admin-equivalent power."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import admin_users, names
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """One account-level finding: fail listing the admin users when there are two or more."""
    admins = admin_users(snapshot)
    if len(admins) > 1:
        yield fail(ACCOUNT, f"{len(admins)} IAM users hold admin-equivalent power: {names(admins)}.")
    elif admins:
        yield ok(ACCOUNT, f"Only one IAM user holds admin-equivalent power: {names(admins)}.")
    else:
        yield ok(ACCOUNT, "No IAM user holds admin-equivalent power.")


CHECK = Check(
    id="multiple_admin_users",
    title="More than one IAM user is an administrator",
    severity=Severity.MEDIUM,
    rationale=(
        "Each IAM user with admin power carries a long-lived password or access key that opens the whole "
        "account. Administrators are better served by roles (IAM Identity Center or assumed roles) with "
        "temporary credentials; one IAM admin user, kept as a break-glass account, is the most that is needed."
    ),
    remediation=(
        "Move day-to-day administrators to an admin role or IAM Identity Center permission set, then remove the "
        "admin policies or group membership from their IAM users "
        "(`aws iam remove-user-from-group`, `aws iam detach-user-policy`), keeping one break-glass user with MFA."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
