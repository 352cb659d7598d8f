"""No customer-managed or inline policy grants `cloudtrail:*` on every resource."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers_scanner import service_wide_findings, where_attached
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per policy a customer wrote (managed default version, or inline): fail when an Allow grants every
    CloudTrail action (`cloudtrail:*`, any case) on `*`. `*` alone is full admin,
    judged by customer_policy_full_admin."""
    for source, patterns in service_wide_findings(snapshot, "cloudtrail"):
        if patterns:
            grant = ", ".join(patterns)
            yield fail(source.resource, f"The {source.label} allows {grant} on every resource{where_attached(source)}.")
        else:
            yield ok(source.resource, f"The {source.label} does not grant all of CloudTrail.")


CHECK = Check(
    id="policy_full_cloudtrail_access",
    title="Policy grants full CloudTrail access (cloudtrail:*)",
    severity=Severity.MEDIUM,
    rationale=(
        "CloudTrail is the record of what everyone did. `cloudtrail:*` includes StopLogging, DeleteTrail, "
        "PutEventSelectors and UpdateTrail, so whoever holds it can blind the account's audit log before acting, "
        "and the alerts that depend on the trail go quiet. Administering trails is a job for a few roles."
    ),
    remediation=(
        "Replace `cloudtrail:*` with the read actions needed (`cloudtrail:Describe*`, `Get*`, `List*`, "
        "`LookupEvents`): `aws iam create-policy-version --policy-arn <arn> --policy-document file://scoped.json "
        "--set-as-default` for a managed policy, `aws iam put-<user|group|role>-policy` for an inline one."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
