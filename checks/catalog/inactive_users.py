"""IAM users that have never been used, long after their creation."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import ago, days_since, last_activity, report_date, row_arn, user_rows
from core.severity import Severity
from iam.snapshot import Snapshot

AGE_DAYS = 90


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per user: fail when created more than 90 days ago with no password or key use ever recorded."""
    for row in user_rows(snapshot):
        name = row.get("user", "?")
        last = last_activity(row)
        created = report_date(row.get("user_creation_time"))
        if last is not None:
            when, what = last
            yield ok(row_arn(row), f"User {name} last used its {what} on {ago(when, snapshot)}.")
        elif created is None:
            yield ok(row_arn(row), f"User {name} has never been used; its creation date is unknown.")
        elif days_since(created, snapshot) <= AGE_DAYS:
            yield ok(row_arn(row), f"User {name} has never been used but is recent (created {ago(created, snapshot)}).")
        else:
            yield fail(
                row_arn(row),
                f"User {name} was created {ago(created, snapshot)} and has never signed in or used an access key.",
            )


CHECK = Check(
    id="inactive_users",
    title="IAM user never used",
    severity=Severity.LOW,
    rationale=(
        "A user created months ago that has never signed in nor called an API is almost always a leftover: a "
        "test, an abandoned integration, an onboarding that never happened. It keeps whatever permissions it "
        "was given, and any credential issued to it later would not stand out. Such users are candidates for "
        "removal."
    ),
    remediation=(
        "Confirm with the owner that the user is not needed, then delete it: remove its login profile, keys, MFA "
        "devices, group memberships and policies, then `aws iam delete-user --user-name <user>` (the console's "
        "Delete user does all of it)."
    ),
    needs=("credential_report",),
    evaluate=evaluate,
)
