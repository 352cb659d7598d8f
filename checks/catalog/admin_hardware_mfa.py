"""Admin-equivalent IAM users sign in with a hardware MFA device."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import admin_users, describe_power, is_true, principal_name
from checks.helpers_scanner import virtual_mfa_holders
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per admin-equivalent user: fail when its MFA is virtual (an assigned virtual device names it) or absent
    (mfa_active false in the credential report); pass when it has MFA that is not virtual, i.e. hardware."""
    virtual = virtual_mfa_holders(snapshot)
    rows = {row.get("arn"): row for row in snapshot.credential_report or []}
    for arn, verdict in sorted(admin_users(snapshot).items()):
        name = principal_name(arn)
        row = rows.get(arn)
        if row is None:
            continue  # created after the credential report: the next audit sees it
        if not is_true(row.get("mfa_active")):
            yield fail(
                arn, f"Admin user {name} ({describe_power(verdict)}) has no MFA device at all (see admin_without_mfa)."
            )
        elif arn in virtual:
            yield fail(arn, f"Admin user {name} ({describe_power(verdict)}) uses a virtual MFA device, not hardware.")
        else:
            yield ok(arn, f"Admin user {name} uses a hardware MFA device.")


CHECK = Check(
    id="admin_hardware_mfa",
    title="Admin user without a hardware MFA device",
    severity=Severity.MEDIUM,
    rationale=(
        "An administrator's second factor is what stands between a phished password and the whole account. "
        "Virtual authenticator codes can be phished in real time and the app's secrets synced or copied; a FIDO "
        "security key is bound to the AWS sign-in page and cannot be, and a hardware token cannot be cloned."
    ),
    remediation=(
        "Have the user register a FIDO security key or hardware TOTP token (console: IAM > Users > <user> > "
        "Security credentials > Assign MFA device), then remove the virtual one: `aws iam deactivate-mfa-device "
        "--user-name <user> --serial-number <virtual device ARN>` and `aws iam delete-virtual-mfa-device "
        "--serial-number <virtual device ARN>`."
    ),
    needs=("authorization", "credential_report", "virtual_mfa_devices"),
    evaluate=evaluate,
)
