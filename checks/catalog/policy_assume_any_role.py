"""No customer-managed or inline policy allows sts:AssumeRole on every role."""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from checks.base import Check, Finding, fail, ok
from checks.helpers_scanner import allow_statements, customer_policies, where_attached
from core.severity import Severity
from iam.snapshot import Snapshot

SOME_ROLE = "arn:aws:iam::000000000000:role/any-role"  # a resource pattern matching this matches every role


def _as_list(value: object) -> list[str]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def _grant(statement: dict) -> str | None:
    """`sts:AssumeRole on *` when the Allow statement lets its holder assume any role; None otherwise."""
    actions = [a for a in _as_list(statement.get("Action")) if a != "*" and fnmatchcase("sts:assumerole", a.lower())]
    resources = [r for r in _as_list(statement.get("Resource")) if fnmatchcase(SOME_ROLE, r)]
    return f"{', '.join(actions)} on {', '.join(resources)}" if actions and resources else None


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per policy a customer wrote: fail when an Allow names sts:AssumeRole (or `sts:*`, `sts:Assume*`) on a
    resource matching every role (`*`, `arn:aws:iam::*:role/*`). A bare `*` action is judged by
    customer_policy_full_admin."""
    for source in customer_policies(snapshot):
        grants = list(dict.fromkeys(g for s in allow_statements(source.document) if (g := _grant(s))))
        if grants:
            yield fail(source.resource, f"The {source.label} allows {'; '.join(grants)}{where_attached(source)}.")
        else:
            yield ok(source.resource, f"The {source.label} does not let its holder assume every role.")


CHECK = Check(
    id="policy_assume_any_role",
    title="Policy allows sts:AssumeRole on every role",
    severity=Severity.HIGH,
    rationale=(
        "A role's trust policy is only half of the gate: the caller's own policy must allow sts:AssumeRole on "
        "it. On `*`, every role in this and other accounts that trusts the account (or trusts it loosely) is one "
        "call away, so the holder's real power is the sum of all of them, and least privilege no longer holds."
    ),
    remediation=(
        'Name the roles the holder should assume (`"Resource": "arn:aws:iam::<account>:role/<role>"`): '
        "`aws iam create-policy-version --policy-arn <arn> --policy-document file://scoped.json --set-as-default`, "
        "or `aws iam put-<user|group|role>-policy` for an inline one."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
