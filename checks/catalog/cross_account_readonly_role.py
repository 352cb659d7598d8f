"""Roles with ReadOnlyAccess that another account can assume."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers_roles_trails import customer_roles, listing
from checks.helpers_scanner import holders_of
from core.cloudtrail import policy_document
from core.severity import Severity
from iam.snapshot import Snapshot
from iam.trust import trustees


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per role with the AWS managed ReadOnlyAccess policy attached: fail when its trust admits a principal of
    another account (or any account); pass when only this account and services can assume it."""
    readers = {r["Arn"] for r in holders_of(snapshot, "ReadOnlyAccess", kinds=("role",))}
    for role in customer_roles(snapshot):
        if role["Arn"] not in readers:
            continue
        name = role.get("RoleName", "?")
        document = policy_document(role.get("AssumeRolePolicyDocument")) or {}
        foreign = sorted(
            {
                "every account" if t.account == "*" else f"account {t.account}"
                for t in trustees(document, snapshot.account)
                if t.account and t.account != snapshot.account
            }
        )
        if foreign:
            yield fail(role["Arn"], f"Role {name} has ReadOnlyAccess and can be assumed from {listing(foreign)}.")
        else:
            yield ok(role["Arn"], f"Role {name} has ReadOnlyAccess but trusts no other account.")


CHECK = Check(
    id="cross_account_readonly_role",
    title="Cross-account role with ReadOnlyAccess",
    severity=Severity.MEDIUM,
    rationale=(
        "ReadOnlyAccess reads far more than configuration: S3 objects, DynamoDB items, SQS messages, Secrets "
        "Manager metadata, Lambda code and parameters. Handing it to another account (a vendor, a tool) gives "
        "them the data, not just the inventory; SecurityAudit or ViewOnlyAccess read the configuration without it."
    ),
    remediation=(
        "Swap the policy for SecurityAudit or ViewOnlyAccess: `aws iam attach-role-policy --role-name <role> "
        "--policy-arn arn:aws:iam::aws:policy/SecurityAudit`, then `aws iam detach-role-policy --role-name <role> "
        "--policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess`; keep sts:ExternalId in the trust for a vendor."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
