"""IAM Identity Center permission sets with admin-equivalent power, and how far each reaches."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import describe_power, plural
from checks.helpers_identity_center import admin_sets, center_of, people_count
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """One finding per admin-equivalent permission set, naming the principals and accounts it reaches."""
    center = center_of(snapshot)
    found = admin_sets(snapshot)
    for admin in found:
        principals = {(a.principal_type, a.principal_id) for a in admin.assignments}
        people = set().union(*(center.people(a) for a in admin.assignments)) if admin.assignments else set()
        reach = (
            f"assigned to {plural(len(principals), 'principal')} ({people_count(len(people))}) "
            f"in {plural(len(admin.accounts), 'account')}"
            if admin.assignments
            else "not assigned to anyone yet"
        )
        yield fail(
            admin.permission_set.arn,
            f"Permission set {admin.permission_set.name} has admin-equivalent power "
            f"({describe_power(admin.verdict)}); {reach}.",
        )
    if not found:
        sets = len(center.permission_sets)
        yield ok(ACCOUNT, f"None of the {plural(sets, 'IAM Identity Center permission set')} is admin-equivalent.")


CHECK = Check(
    id="identity_center_admin_permission_sets",
    title="Admin-equivalent IAM Identity Center permission sets",
    severity=Severity.INFO,
    rationale=(
        "Most people who administer AWS today arrive through IAM Identity Center, not as IAM users: a permission "
        "set that can do everything (or can give itself everything) makes every user and group assigned to it an "
        "administrator of every account it is assigned in. Judged by the same policy semantics as IAM principals; "
        "the list is informational, but each entry should be expected and its reach small."
    ),
    remediation=(
        "Review each permission set listed and who holds it: `aws sso-admin list-account-assignments "
        "--instance-arn <instance> --account-id <account> --permission-set-arn <set>`. Replace AdministratorAccess "
        "with scoped policies where the job allows, and remove assignments nobody needs "
        "(`aws sso-admin delete-account-assignment`)."
    ),
    needs=("identity_center",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.15",), "Security Hub": ("IAM.1",)},
)
