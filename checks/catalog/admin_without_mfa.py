"""Every IAM user with admin-equivalent power has an MFA device."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import active_keys, admin_users, describe_power, has_console, is_true, plural
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per admin-equivalent user: fail when the credential report says mfa_active is false.

    An admin user with neither a console password nor an active key cannot sign in today, so it fails at low
    severity (any credential added later would be unprotected). A user missing from the report (created after
    it was generated) yields no finding.
    """
    for arn, verdict in sorted(admin_users(snapshot).items()):
        name = arn.rsplit("/", 1)[-1]
        row = snapshot.credential(name)
        if row is None:
            continue
        if is_true(row.get("mfa_active")):
            yield ok(arn, f"Admin user {name} has an MFA device.")
            continue
        held = ["a console password"] if has_console(row) else []
        if keys := active_keys(row):
            held.append(plural(len(keys), "active access key"))
        power = describe_power(verdict)
        if held:
            yield fail(arn, f"Admin user {name} ({power}) has no MFA device and holds {' and '.join(held)}.")
        else:
            detail = f"Admin user {name} ({power}) has no MFA device, and no password or active access key yet."
            yield fail(arn, detail, severity=Severity.LOW)


CHECK = Check(
    id="admin_without_mfa",
    title="Administrator without MFA",
    severity=Severity.CRITICAL,
    rationale=(
        "An administrator's password is the most valuable credential after root's: with it an attacker can "
        "create users, read data and cover tracks. MFA is what stops a phished or reused password from being "
        "enough. An admin user with only access keys should still have a device, so policies can require MFA "
        "for sensitive calls."
    ),
    remediation=(
        "Have the user register a device (console: IAM > Users > <user> > Security credentials > Assign MFA "
        "device), or `aws iam create-virtual-mfa-device` then `aws iam enable-mfa-device`. Until then, consider "
        "removing the admin grant."
    ),
    needs=("authorization", "credential_report"),
    evaluate=evaluate,
)
