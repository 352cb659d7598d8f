"""Shared reading of the snapshot's IAM Identity Center part for the identity_center_* checks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from iam.policy import Verdict
from iam.snapshot import Assignment, IdentityCenter, PermissionSet, Snapshot


@dataclass(frozen=True)
class AdminSet:
    """An admin-equivalent permission set, its verdict, and where it is assigned."""

    permission_set: PermissionSet
    verdict: Verdict
    assignments: tuple[Assignment, ...]  # only those in accounts where the set is admin-equivalent

    @property
    def accounts(self) -> set[str]:
        """The accounts it gives admin power in."""
        return {a.account for a in self.assignments}


def center_of(snapshot: Snapshot) -> IdentityCenter:
    """The Identity Center part (empty when the account manages none)."""
    return snapshot.identity_center or IdentityCenter()


def admin_sets(snapshot: Snapshot) -> list[AdminSet]:
    """Every admin-equivalent permission set, by name. A set is judged in each account it is assigned to
    (customer-managed references differ by account); one assigned nowhere is judged in the snapshot's account."""
    center = center_of(snapshot)
    by_set: dict[str, list[Assignment]] = defaultdict(list)
    for assignment in center.assignments:
        by_set[assignment.permission_set_arn].append(assignment)
    found = []
    for arn, pset in sorted(center.permission_sets.items(), key=lambda item: (item[1].name, item[0])):
        assigned = by_set.get(arn, [])
        accounts = sorted({a.account for a in assigned}) or [snapshot.account]
        verdicts = {account: snapshot.permission_set_power(arn, account) for account in accounts}
        admin_in = {account for account, verdict in verdicts.items() if verdict.admin_equivalent}
        if admin_in:
            verdict = verdicts[min(admin_in)]
            found.append(AdminSet(pset, verdict, tuple(a for a in assigned if a.account in admin_in)))
    return found


def duration(seconds: int) -> str:
    """`12 hours`, `90 minutes`."""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'' if hours == 1 else 's'}"
    return f"{seconds // 60} minutes"


def people_count(count: int) -> str:
    """`1 person`, `3 people`."""
    return f"{count} {'person' if count == 1 else 'people'}"
