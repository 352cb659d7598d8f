"""Active access keys are rotated at least every 90 days."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import active_keys, day, days_since, row_arn, user_rows
from core.severity import Severity
from iam.snapshot import Snapshot

LIMIT_DAYS = 90


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per user with an active key: fail listing keys whose last rotation is more than 90 days old."""
    for row in user_rows(snapshot):
        keys = active_keys(row)
        if not keys:
            continue
        name = row.get("user", "?")
        old = [
            f"{k.name} created {day(k.rotated)}, {days_since(k.rotated, snapshot)} days ago"
            for k in keys
            if k.rotated is not None and days_since(k.rotated, snapshot) > LIMIT_DAYS
        ]
        if old:
            yield fail(row_arn(row), f"User {name}: {'; '.join(old)}.")
        else:
            yield ok(row_arn(row), f"User {name}'s active access keys are at most {LIMIT_DAYS} days old.")


CHECK = Check(
    id="old_access_keys",
    title="Access key older than 90 days",
    severity=Severity.MEDIUM,
    rationale=(
        "The older a key, the more places it has been copied to (CI settings, config files, backups, old "
        "laptops) and the longer a leaked copy keeps working. Rotating every 90 days bounds how long a silent "
        "leak stays useful and proves that whatever uses the key can survive a rotation."
    ),
    remediation=(
        "Create a second key (`aws iam create-access-key --user-name <user>`), update every consumer, set the "
        "old key inactive (`aws iam update-access-key ... --status Inactive`), then delete it. Better still, "
        "replace the user's keys with a role and temporary credentials."
    ),
    needs=("credential_report",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.13",), "Security Hub": ("IAM.3",)},
)
