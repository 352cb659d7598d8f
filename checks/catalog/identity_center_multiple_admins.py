"""At most one person holds an admin-equivalent IAM Identity Center permission set in each account."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers_identity_center import admin_sets, center_of, people_count
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per account with admin assignments: fail when they reach more than one person (a group counts as its
    members; a group whose members are unknown counts as one)."""
    center = center_of(snapshot)
    people: dict[str, set[str]] = defaultdict(set)
    holders: dict[str, set[str]] = defaultdict(set)
    for admin in admin_sets(snapshot):
        for assignment in admin.assignments:
            people[assignment.account] |= center.people(assignment)
            name = center.principal_name(assignment.principal_type, assignment.principal_id)
            holders[assignment.account].add(f"{name} ({admin.permission_set.name})")
    for account in sorted(people):
        listed = ", ".join(sorted(holders[account]))
        if len(people[account]) > 1:
            yield fail(
                f"account/{account}",
                f"{people_count(len(people[account]))} hold an admin-equivalent permission set in account "
                f"{account}: {listed}.",
            )
        else:
            yield ok(f"account/{account}", f"Only one person holds admin power in account {account}: {listed}.")
    if not people:
        yield ok(ACCOUNT, "No admin-equivalent IAM Identity Center permission set is assigned in any account.")


CHECK = Check(
    id="identity_center_multiple_admins",
    title="More than one person holds an Identity Center admin permission set in an account",
    severity=Severity.MEDIUM,
    rationale=(
        "The fewer people who can do everything in an account, the fewer accounts an attacker can phish or a "
        "mistake can come from. The rule to avoid more than one privileged user applies to IAM Identity Center "
        "as much as to IAM users: every user assigned an admin permission set, directly or through a group, is "
        "one more way into the whole account."
    ),
    remediation=(
        "Keep one standing admin per account (or none, with just-in-time elevation); give everyone else a scoped "
        "permission set. Remove the extra assignments (`aws sso-admin delete-account-assignment --instance-arn "
        "<instance> --target-id <account> --target-type AWS_ACCOUNT --permission-set-arn <set> --principal-type "
        "USER|GROUP --principal-id <id>`) or take members out of the admin group."
    ),
    needs=("identity_center",),
    evaluate=evaluate,
)
