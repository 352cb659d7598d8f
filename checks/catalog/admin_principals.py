"""Every user, group and role with admin-equivalent power, listed for review."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import describe_power, power_sources, principal_kind, principals
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """One informational finding per admin-equivalent principal; a single pass when there are none."""
    entries = principals(snapshot)
    found = False
    for arn, verdict in sorted(snapshot.power.items()):
        if not verdict.admin_equivalent:
            continue
        found = True
        kind = principal_kind(arn).capitalize()
        sources = power_sources(snapshot, entries[arn])
        yield fail(arn, f"{kind} has admin-equivalent power: {describe_power(verdict)}; granted by {sources}.")
    if not found:
        yield ok(ACCOUNT, "No user, group or role holds admin-equivalent power.")


CHECK = Check(
    id="admin_principals",
    title="Principals with admin-equivalent power",
    severity=Severity.INFO,
    rationale=(
        "Anyone who can do everything, or can give themselves everything (full IAM control, a privilege "
        "escalation path), is an administrator in effect, whatever the policy is called. This inventory is "
        "informational: each entry is not a fault, but each should be someone you expect, and the list should "
        "stay short."
    ),
    remediation=(
        "Review each principal listed. Remove admin power from those that do not need it "
        "(`aws iam detach-user-policy` / `detach-role-policy` / `detach-group-policy`, or delete the inline "
        "policy) and grant scoped policies instead; keep standing admin access to a few roles behind MFA."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
