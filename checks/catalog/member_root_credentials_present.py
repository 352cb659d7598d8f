"""Member accounts whose root user still holds credentials although the organization manages root centrally."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import root_arn
from checks.helpers_roles_trails import listing
from core.severity import Severity
from iam.snapshot import Snapshot

FEATURE = "RootCredentialsManagement"
# GetAccountSummary keys that say what the root user holds
HELD = {
    "AccountPasswordPresent": "a password",
    "AccountAccessKeysPresent": "access keys",
    "AccountMFAEnabled": "an MFA device",
    "AccountSigningCertificatesPresent": "signing certificates",
}


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """In a member account of an organization with centralized root access on: fail naming what root still
    holds (from GetAccountSummary). Elsewhere the root credentials are not meant to be gone yet: pass saying so."""
    features = snapshot.organization_features or {}
    summary = snapshot.account_summary or {}
    resource = root_arn(snapshot)
    if features.get("Role") != "member":
        yield ok(resource, "Not a member account: its root user is covered by the root checks, not this one.")
        return
    enabled = features.get("EnabledFeatures")
    if enabled is None or FEATURE not in enabled:
        state = "could not be read" if enabled is None else "is off"
        yield ok(resource, f"Centralized root access {state} for the organization, so root keeps its credentials.")
        return
    held = [text for key, text in HELD.items() if int(summary.get(key) or 0) > 0]
    if held:
        yield fail(resource, f"Root still holds {listing(held)} although the organization manages root centrally.")
    else:
        yield ok(resource, "Root holds no password, access key, MFA device or signing certificate.")


CHECK = Check(
    id="member_root_credentials_present",
    title="Member account root user still holds credentials",
    severity=Severity.HIGH,
    rationale=(
        "Turning centralized root access on does not remove what a member's root user already has: its "
        "password, keys, MFA devices and signing certificates keep working until they are deleted. Until then "
        "the account is exactly as exposed as before, and the organization only looks protected."
    ),
    remediation=(
        "From the management account, open a root session on the member with the audit-and-delete task policy: "
        "`aws sts assume-root --target-principal <account id> --task-policy-arn "
        "arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials`, then with those credentials "
        "`aws iam delete-login-profile`, `aws iam delete-access-key --access-key-id <id>`, "
        "`aws iam deactivate-mfa-device --serial-number <arn>` and `aws iam delete-signing-certificate "
        "--certificate-id <id>` (console: IAM > Root access management > the account > Delete root credentials)."
    ),
    needs=("organization_features", "account_summary"),
    evaluate=evaluate,
)
