"""The root user has MFA turned on; which kind of device it is."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import root_arn
from core.severity import Severity
from iam.snapshot import Snapshot

HARDWARE_NOTE = "a hardware device (FIDO security key or hardware TOTP token) kept in a safe is recommended for root"


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Pass when AccountMFAEnabled is 1, saying whether the device is virtual; fail when it is 0.

    A virtual device passes with a recommendation rather than failing: CIS makes hardware MFA a separate,
    Level 2 and manual recommendation, and a phone app is still a second factor.
    """
    summary = snapshot.account_summary or {}
    resource = root_arn(snapshot)
    if summary.get("AccountMFAEnabled", 0) >= 1:
        virtual = summary.get("RootVirtualMFA")
        if virtual is None:
            yield ok(resource, "Root MFA is enabled (whether the device is virtual or hardware is not known).")
        elif virtual:
            yield ok(resource, f"Root MFA is enabled with a virtual device; {HARDWARE_NOTE}.")
        else:
            yield ok(resource, "Root MFA is enabled with a hardware device.")
    elif summary.get("AccountPasswordPresent") == 0 and summary.get("AccountAccessKeysPresent", 0) == 0:
        yield ok(resource, "The root user has no password and no access keys, so there is nothing to sign in with.")
    else:
        yield fail(resource, "Root MFA is off (AccountMFAEnabled is 0): the root password alone opens the account.")


CHECK = Check(
    id="root_mfa_enabled",
    title="Root user without MFA",
    severity=Severity.CRITICAL,
    rationale=(
        "The root user can do anything in the account, including closing it, and no IAM policy can restrain it. "
        "Without MFA, whoever learns the root password (phishing, a reused password, the password-reset mailbox) "
        "owns the account. A virtual MFA device passes here with a note: it is a real second factor, but it lives "
        "on a phone that can be lost, wiped or leave with an employee, so root is better guarded by hardware."
    ),
    remediation=(
        "Sign in as root, open the account menu > Security credentials > Multi-factor authentication (MFA) > "
        "Assign MFA device, and register a FIDO security key or hardware TOTP token (a virtual authenticator as "
        "a stopgap). Keep a second device registered and stored apart so losing one does not lock the account."
    ),
    needs=("account_summary",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.4",), "Security Hub": ("IAM.9",)},
)
