"""The organization manages its member accounts' root credentials centrally (IAM centralized root access)."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from core.severity import Severity
from iam.snapshot import Snapshot

FEATURE = "RootCredentialsManagement"


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Judged where the setting lives, in the management (or IAM delegated administrator) account: fail when
    RootCredentialsManagement is not among the organization's enabled features. A member account passes naming
    the setting of its organization as far as it is known; a standalone account has no organization to use."""
    features = snapshot.organization_features or {}
    role = features.get("Role")
    enabled = features.get("EnabledFeatures")
    if role == "standalone":
        yield ok(ACCOUNT, "The account is in no organization, so centralized root access does not apply to it.")
    elif role == "member":
        state = "unknown from here" if enabled is None else ("on" if FEATURE in enabled else "off")
        yield ok(ACCOUNT, f"A member account: centralized root access is the management account's setting ({state}).")
    elif FEATURE in (enabled or []):
        others = sorted(f for f in enabled or [] if f != FEATURE)
        extra = f" (also {', '.join(others)})" if others else ""
        yield ok(ACCOUNT, f"Centralized root access manages member accounts' root credentials{extra}.")
    else:
        why = features.get("Note") or "RootCredentialsManagement is not enabled"
        yield fail(ACCOUNT, f"Centralized root access is off ({why}): every member account keeps its own root user.")


CHECK = Check(
    id="root_credentials_management_enabled",
    title="Centralized root access for member accounts is off",
    severity=Severity.HIGH,
    rationale=(
        "Every account in an organization has a root user of its own, with a password, possibly keys and MFA "
        "devices that somebody has to guard. IAM's centralized root access lets the management account remove "
        "those credentials from member accounts, stop new ones from being recovered, and still perform the few "
        "root-only tasks with short-lived sessions (sts:AssumeRoot), so there is no root password left to phish."
    ),
    remediation=(
        "From the management account: `aws organizations enable-aws-service-access --service-principal "
        "iam.amazonaws.com`, then `aws iam enable-organizations-root-credentials-management` (and "
        "`aws iam enable-organizations-root-sessions` for privileged root tasks); afterwards delete each member's "
        "root credentials (see member_root_credentials_present)."
    ),
    needs=("organization_features",),
    evaluate=evaluate,
)
