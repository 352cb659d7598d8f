"""IAM Identity Center permission sets are assigned to groups, not to users one by one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import plural
from checks.helpers_identity_center import center_of
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per permission set: fail naming the users it is assigned to directly (and in how many accounts)."""
    center = center_of(snapshot)
    direct: dict[str, set[str]] = defaultdict(set)
    accounts: dict[str, set[str]] = defaultdict(set)
    assigned: set[str] = set()
    for assignment in center.assignments:
        assigned.add(assignment.permission_set_arn)
        if assignment.principal_type == "USER":
            direct[assignment.permission_set_arn].add(center.principal_name("USER", assignment.principal_id))
            accounts[assignment.permission_set_arn].add(assignment.account)
    for arn in sorted(assigned, key=lambda a: center.permission_sets[a].name if a in center.permission_sets else a):
        name = center.permission_sets[arn].name if arn in center.permission_sets else arn
        if arn in direct:
            users = ", ".join(sorted(u.removeprefix("user ") for u in direct[arn]))
            yield fail(
                arn,
                f"Permission set {name} is assigned directly to {plural(len(direct[arn]), 'user')} ({users}) in "
                f"{plural(len(accounts[arn]), 'account')}, not through a group.",
            )
        else:
            yield ok(arn, f"Permission set {name} is assigned only to groups.")
    if not assigned:
        yield ok(ACCOUNT, "No IAM Identity Center permission set is assigned.")


CHECK = Check(
    id="identity_center_direct_user_assignments",
    title="Identity Center permission sets assigned to users directly",
    severity=Severity.LOW,
    rationale=(
        "Assignments made to one user at a time drift like policies attached to IAM users: nobody reviews them, "
        "leavers keep them when their groups are cleaned up, and two people in the same job end up with "
        "different access. Assigning permission sets to groups (ideally synced from the identity provider) ties "
        "access to a job function, so a membership change is the whole joiner-mover-leaver process."
    ),
    remediation=(
        "Create or pick a group for the job (`aws identitystore create-group`), add the users to it, assign the "
        "permission set to the group (`aws sso-admin create-account-assignment --principal-type GROUP ...`), "
        "then delete the per-user assignments (`aws sso-admin delete-account-assignment --principal-type USER ...`)."
    ),
    needs=("identity_center",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.14",)},
)
