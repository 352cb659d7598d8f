"""Role trust policies that let anyone, or another account without a guard, assume the role."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers_roles_trails import customer_roles, listing
from core.cloudtrail import policy_document
from core.severity import Severity
from iam.snapshot import Snapshot
from iam.trust import restricting_keys, review

__all__ = ["CHECK", "evaluate", "restricting_keys"]


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per role (service-linked roles left out): fail when an Allow on sts:AssumeRole* admits everyone (critical)
    or another account without an external id or organization condition (high).

    A trust policy that cannot be parsed (it never happens with documents IAM accepted) gives no finding.
    """
    for role in customer_roles(snapshot):
        name = role.get("RoleName", "?")
        document = policy_document(role.get("AssumeRolePolicyDocument"))
        if document is None:
            continue
        problems, trusted = review(document, snapshot.account)
        if problems:
            problems.sort(key=lambda p: p.severity.rank)
            worst = problems[0].severity
            texts = "; ".join(p.text for p in problems[:3])
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            yield fail(role["Arn"], f"Role {name} {texts}{more}.", None if worst is Severity.CRITICAL else worst)
        else:
            yield ok(role["Arn"], f"Role {name} trusts {listing(trusted) or 'no one'}.")


CHECK = Check(
    id="role_trust_open",
    title="Role trust policy open to anyone or to unguarded foreign accounts",
    severity=Severity.CRITICAL,
    rationale=(
        "A role's trust policy decides who may become the role. `Principal: *` without a condition that pins "
        "the caller's organization or account lets any AWS customer assume it, and a shared web identity "
        "provider such as GitHub Actions without a subject condition lets any of its users in. Trusting "
        "another account is normal, but without sts:ExternalId (for a vendor) or aws:PrincipalOrgID (for your "
        "own organization) the trust is open to confused-deputy use and to every principal that account "
        "allows to call sts:AssumeRole."
    ),
    remediation=(
        "Edit the trust policy (console: IAM > Roles > <role> > Trust relationships > Edit, or "
        "`aws iam update-assume-role-policy --role-name <role> --policy-document file://trust.json`): name the "
        "exact principals instead of `*`; for a vendor add `Condition: {StringEquals: {sts:ExternalId: "
        "<their id>}}`; for your own accounts add `aws:PrincipalOrgID`; for GitHub OIDC require "
        "`token.actions.githubusercontent.com:sub` to match your repository and branch."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
