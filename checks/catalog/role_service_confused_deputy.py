"""Roles trusting an AWS service without pinning the source account or resource (cross-service confused deputy)."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers_roles_trails import customer_roles, listing
from core.cloudtrail import policy_document
from core.severity import Severity
from iam.snapshot import Snapshot
from iam.trust import trustees, unguarded_services


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per role that trusts an AWS service (service-linked roles left out, as their trust cannot be edited):
    fail naming the services admitted without aws:SourceAccount, aws:SourceArn or a source organization
    condition (iam/trust.py judges); roles trusting no service give no finding."""
    for role in customer_roles(snapshot):
        document = policy_document(role.get("AssumeRolePolicyDocument"))
        if document is None:
            continue
        services = sorted({t.value for t in trustees(document, snapshot.account) if t.kind == "Service"})
        if not services:
            continue
        name = role.get("RoleName", "?")
        open_to = unguarded_services(document, snapshot.account)
        if open_to:
            text = f"Role {name} trusts {listing(open_to)} with no aws:SourceAccount or aws:SourceArn condition."
            yield fail(role["Arn"], text)
        else:
            yield ok(role["Arn"], f"Role {name} pins the source account or resource of {listing(services)}.")


CHECK = Check(
    id="role_service_confused_deputy",
    title="Service role trust without aws:SourceAccount or aws:SourceArn",
    severity=Severity.MEDIUM,
    rationale=(
        "When a role trusts a service such as sns.amazonaws.com, the service assumes it on behalf of whichever "
        "resource asks, including one in another customer's account that was configured with this role's ARN. "
        "Without a condition on aws:SourceAccount or aws:SourceArn the service can be tricked into using the "
        "role for someone else: the cross-service confused deputy."
    ),
    remediation=(
        'Add to the trust statement `"Condition": {"StringEquals": {"aws:SourceAccount": "<account>"}, '
        '"ArnLike": {"aws:SourceArn": "arn:aws:<service>:<region>:<account>:<resource>"}}` and apply it '
        "with `aws iam update-assume-role-policy --role-name <role> --policy-document file://trust.json`."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
