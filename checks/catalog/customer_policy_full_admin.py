"""No customer-managed policy grants every action on every resource."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import describe_power, is_aws_managed, plural, principal_name
from core.severity import Severity
from iam.policy import Power, judge_document
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Judge each customer-managed policy's default version, attached or not.

    Attached ones fail at high severity (what CIS 1.15 and Security Hub IAM.1 cover); unattached ones fail at
    medium, since one attach call puts them to use.
    """
    for policy in sorted(snapshot.policies or [], key=lambda p: p["Arn"]):
        arn = policy["Arn"]
        if is_aws_managed(arn):
            continue
        name = policy.get("PolicyName") or principal_name(arn)
        document = snapshot.managed_documents.get(arn)
        verdict = judge_document(document) if document else None
        if verdict is None or verdict.power is not Power.ADMIN:
            yield ok(arn, f"Policy {name} does not grant every action on every resource.")
            continue
        attached = int(policy.get("AttachmentCount") or 0)
        if attached:
            where = f"attached to {plural(attached, 'principal')}"
            yield fail(arn, f"Policy {name} {describe_power(verdict)} and is {where}.")
        else:
            yield fail(
                arn,
                f"Policy {name} {describe_power(verdict)}; it is not attached yet.",
                severity=Severity.MEDIUM,
            )


CHECK = Check(
    id="customer_policy_full_admin",
    title="Customer-managed policy grants full administrator access",
    severity=Severity.HIGH,
    rationale=(
        "A policy you wrote that allows `*` on `*` hides full administrator access behind a name of your "
        "choosing, so reviews that look for AdministratorAccess miss it, and it tends to be attached for "
        "convenience. Every customer-managed policy is checked, attached or not: an unattached one is a loaded "
        "grant waiting for one attach call (it fails at medium severity)."
    ),
    remediation=(
        "Rewrite the policy to the actions and resources its holders need "
        "(`aws iam create-policy-version --policy-arn <arn> --policy-document file://scoped.json --set-as-default`), "
        "or if full access is really meant, attach AWS's AdministratorAccess to a role so it is visible as such; "
        "delete unattached ones (`aws iam delete-policy`)."
    ),
    needs=("authorization",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.15",), "Security Hub": ("IAM.1",)},
)
