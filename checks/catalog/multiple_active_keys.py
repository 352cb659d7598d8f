"""No IAM user has more than one active access key."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import active_keys, row_arn, user_rows
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per user: fail when both key slots are active, pass otherwise."""
    for row in user_rows(snapshot):
        name = row.get("user", "?")
        keys = active_keys(row)
        if len(keys) > 1:
            created = ", ".join(k.created for k in keys)
            yield fail(row_arn(row), f"User {name} has {len(keys)} active access keys ({created}).")
        else:
            yield ok(row_arn(row), f"User {name} has {len(keys)} active access key{'' if len(keys) == 1 else 's'}.")


CHECK = Check(
    id="multiple_active_keys",
    title="User with more than one active access key",
    severity=Severity.MEDIUM,
    rationale=(
        "The second key slot exists for rotation: create the new key, switch over, retire the old one. Two keys "
        "left active double the secrets to protect, and usually one of them is a forgotten copy in some script "
        "or laptop that nobody will think of when the user's access is reviewed."
    ),
    remediation=(
        "Find which key is still in use (`aws iam get-access-key-last-used --access-key-id <id>`), set the other "
        "inactive (`aws iam update-access-key --user-name <user> --access-key-id <id> --status Inactive`), and "
        "delete it once nothing breaks."
    ),
    needs=("credential_report",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.12",)},
)
