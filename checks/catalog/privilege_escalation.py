"""No principal short of administrator can escalate its own privileges."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import power_sources, principal_kind, principals
from core.severity import Severity
from iam.policy import Power
from iam.snapshot import Snapshot

PATH = "escalation path: "  # how iam.policy prefixes each path in a verdict's reasons


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per user, group and role: fail on Power.ESCALATION, naming the paths; administrators are left out."""
    entries = principals(snapshot)
    for arn, verdict in sorted(snapshot.power.items()):
        kind = principal_kind(arn).capitalize()
        if verdict.power is Power.ESCALATION:
            paths = [r.removeprefix(PATH) for r in verdict.reasons[1:] if r.startswith(PATH)]
            notes = [r for r in verdict.reasons[1:] if not r.startswith(PATH)]
            if len(paths) > 1:
                head = f"{kind} allows privilege escalation via {len(paths)} paths: {'; '.join(paths)}"
            else:
                head = f"{kind} {verdict.summary}"
            clauses = [head, *notes, f"granted by {power_sources(snapshot, entries[arn])}"]
            yield fail(arn, "; ".join(clauses) + ".")
        elif verdict.power is Power.NONE:
            yield ok(arn, f"{kind} has no known privilege escalation path.")


CHECK = Check(
    id="privilege_escalation",
    title="Principal can escalate its privileges",
    severity=Severity.HIGH,
    rationale=(
        "Some permission sets look modest but let their holder grant themselves more: create a new policy "
        "version, attach a policy to themselves, pass a powerful role to a new Lambda function or instance, or "
        "take over another user or role. Such a principal is an administrator in waiting, and its narrow-looking "
        "policies make it easy to overlook. Principals that are already full administrators are reported by "
        "admin_principals instead."
    ),
    remediation=(
        "Remove the action combination named in the finding (often iam:CreatePolicyVersion, iam:Attach*Policy, "
        "iam:Put*Policy, iam:PassRole with sts:AssumeRole or a compute service, or iam:UpdateAssumeRolePolicy), "
        "or scope it to specific resources and add a permissions boundary that forbids changing the principal's "
        "own permissions."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
