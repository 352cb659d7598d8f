"""The root user's MFA device is a hardware one, not a virtual authenticator."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import root_arn
from checks.helpers_scanner import root_has_virtual_mfa
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Fail when root has no MFA (AccountMFAEnabled 0) or its device is among the assigned virtual devices
    (serial `.../root-account-mfa-device`); pass when root's MFA is not virtual, i.e. a FIDO key or token. An
    account whose root has neither password nor keys (centralized root access) passes."""
    summary = snapshot.account_summary or {}
    resource = root_arn(snapshot)
    if not summary.get("AccountMFAEnabled"):
        if summary.get("AccountPasswordPresent") == 0 and not summary.get("AccountAccessKeysPresent"):
            yield ok(resource, "The root user has no password and no access keys, so it needs no MFA device.")
        else:
            yield fail(resource, "Root has no MFA device at all (AccountMFAEnabled is 0), let alone a hardware one.")
    elif root_has_virtual_mfa(snapshot):
        yield fail(resource, "Root's MFA device is a virtual authenticator (a phone app), not a hardware device.")
    else:
        yield ok(resource, "Root's MFA device is a hardware one (it is not among the account's virtual devices).")


CHECK = Check(
    id="root_hardware_mfa",
    title="Root user MFA is not a hardware device",
    severity=Severity.MEDIUM,
    rationale=(
        "A virtual MFA app lives on a phone: it is backed up to clouds, copied to new phones, lost, wiped, or "
        "leaves with whoever held it. For the one identity no policy can restrain, a FIDO security key or a "
        "hardware TOTP token kept in a safe is a second factor that cannot be cloned remotely."
    ),
    remediation=(
        "Sign in as root, account menu > Security credentials > Multi-factor authentication > Assign MFA device, "
        "choose Passkey or security key (or Hardware TOTP token), register it, then remove the virtual device "
        "(`aws iam deactivate-mfa-device` as root, or Remove in the console); keep a second key stored apart."
    ),
    needs=("account_summary", "virtual_mfa_devices"),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.5",), "Security Hub": ("IAM.6",)},
)
