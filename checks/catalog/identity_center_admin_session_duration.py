"""Admin-equivalent IAM Identity Center permission sets hand out sessions of at most one hour."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import describe_power
from checks.helpers_identity_center import admin_sets, duration
from core.severity import Severity
from iam.snapshot import Snapshot

LIMIT_SECONDS = 3600


class SessionDurationUnreadable(ValueError):
    """A permission set's SessionDuration is not an ISO 8601 duration this check can read."""


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per admin-equivalent permission set: fail when its session duration exceeds one hour."""
    found = admin_sets(snapshot)
    for admin in found:
        pset = admin.permission_set
        seconds = pset.session_seconds
        if seconds is None:
            raise SessionDurationUnreadable(f"{pset.name}: {pset.session_duration!r}")
        if seconds > LIMIT_SECONDS:
            yield fail(
                pset.arn,
                f"Admin permission set {pset.name} ({describe_power(admin.verdict)}) gives sessions of "
                f"{duration(seconds)}, so a stolen portal session stays useful that long.",
            )
        else:
            yield ok(pset.arn, f"Admin permission set {pset.name} limits its sessions to {duration(seconds)}.")
    if not found:
        yield ok(ACCOUNT, "No IAM Identity Center permission set is admin-equivalent.")


CHECK = Check(
    id="identity_center_admin_session_duration",
    title="Identity Center admin permission set allows sessions longer than one hour",
    severity=Severity.MEDIUM,
    rationale=(
        "A permission set's session duration is how long the role credentials and console session it hands out "
        "stay valid; they cannot be revoked one by one. For a permission set that can do everything, that is the "
        "window in which a stolen session works. IAM Identity Center defaults to one hour and allows up to "
        "twelve; admins can simply sign in again."
    ),
    remediation=(
        "Lower it: `aws sso-admin update-permission-set --instance-arn <instance> --permission-set-arn <set> "
        "--session-duration PT1H`, then `aws sso-admin provision-permission-set ... --target-type "
        "ALL_PROVISIONED_ACCOUNTS` so the accounts pick it up."
    ),
    needs=("identity_center",),
    evaluate=evaluate,
)
