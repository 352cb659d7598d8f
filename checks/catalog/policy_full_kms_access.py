"""No customer-managed or inline policy grants `kms:*` on every resource."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers_scanner import service_wide_findings, where_attached
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per policy a customer wrote (managed default version, or inline): fail when an Allow grants every KMS
    action (`kms:*`, any case) on `*`; `*` alone is judged by customer_policy_full_admin."""
    for source, patterns in service_wide_findings(snapshot, "kms"):
        if patterns:
            grant = ", ".join(patterns)
            yield fail(source.resource, f"The {source.label} allows {grant} on every resource{where_attached(source)}.")
        else:
            yield ok(source.resource, f"The {source.label} does not grant all of KMS.")


CHECK = Check(
    id="policy_full_kms_access",
    title="Policy grants full KMS access (kms:*)",
    severity=Severity.MEDIUM,
    rationale=(
        "`kms:*` on every key lets its holder decrypt whatever any key protects (where the key policy lets the "
        "account's IAM policies in, as the default key policy does), rewrite key policies, and schedule keys "
        "for deletion, destroying every piece of data encrypted under them. Keys are used by a few, administered "
        "by fewer."
    ),
    remediation=(
        "Name the keys and actions the holder needs (`kms:Decrypt`, `kms:GenerateDataKey` on "
        "`arn:aws:kms:<region>:<account>:key/<id>`): `aws iam create-policy-version --policy-arn <arn> "
        "--policy-document file://scoped.json --set-as-default`, or `aws iam put-<user|group|role>-policy` for an "
        "inline one; leave key administration to the key policy."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
