"""Hard password expiry cannot lock every administrator out of the console."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import admin_users, has_console, names
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Fail when passwords expire with HardExpiry on and fewer than two admin users can sign in to the console."""
    policy = snapshot.password_policy or {}
    expires = bool(policy.get("ExpirePasswords")) or int(policy.get("MaxPasswordAge") or 0) > 0
    if not (expires and policy.get("HardExpiry")):
        yield ok(ACCOUNT, "Users can change their own expired passwords (HardExpiry is off or passwords never expire).")
        return
    console_admins = [
        arn
        for arn in admin_users(snapshot)
        if (row := snapshot.credential(arn.rsplit("/", 1)[-1])) is not None and has_console(row)
    ]
    age = policy.get("MaxPasswordAge", "?")
    if len(console_admins) >= 2:
        yield ok(
            ACCOUNT,
            f"HardExpiry is on (passwords expire after {age} days), and {len(console_admins)} admin users with "
            f"console access ({names(console_admins)}) can reset each other.",
        )
        return
    who = f"only {names(console_admins)}" if console_admins else "none"
    yield fail(
        ACCOUNT,
        f"HardExpiry is on (passwords expire after {age} days), and of the admin users with console access, "
        f"{who} remains, so an expired admin password can only be reset through root.",
    )


CHECK = Check(
    id="password_hard_expiry_lockout",
    title="Hard password expiry can lock out the administrators",
    severity=Severity.MEDIUM,
    rationale=(
        "With HardExpiry, a user whose password has expired cannot choose a new one; an administrator has to "
        "reset it. If at most one admin user signs in to the console, the day that password expires nobody "
        "can reset it but root, turning a routine expiry into a root sign-in or an outage of IAM "
        "administration."
    ),
    remediation=(
        "Either turn hard expiry off and let users change expired passwords "
        "(`aws iam update-account-password-policy` without `--hard-expiry`, restating the other settings), or "
        "make sure at least two admin users with console access exist so they can reset each other."
    ),
    needs=("password_policy", "authorization", "credential_report"),
    evaluate=evaluate,
)
