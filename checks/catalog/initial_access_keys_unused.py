"""Console users with an active access key that has never been used (keys handed out at user creation)."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import active_keys, day, has_console, report_date, row_arn, user_rows
from core.severity import Severity
from iam.snapshot import Snapshot

AT_CREATION_HOURS = 24  # a key made within this long of its user counts as made with the user


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per user with a console password: fail naming each active key never used (last used `N/A`), and whether
    it was made with the user; users without a console password are left to unused_credentials."""
    for row in user_rows(snapshot):
        if not has_console(row):
            continue
        name = row.get("user", "?")
        created = report_date(row.get("user_creation_time"))
        unused = []
        for key in active_keys(row):
            if row.get(f"access_key_{key.slot}_last_used_date") != "N/A":  # N/A: never used at all
                continue
            with_user = bool(
                created and key.rotated and 0 <= (key.rotated - created).total_seconds() <= AT_CREATION_HOURS * 3600
            )
            when = f"made with the user on {day(key.rotated)}" if with_user and key.rotated else key.created
            unused.append(f"{key.name} ({when}) never used")
        if unused:
            yield fail(row_arn(row), f"User {name} has a console password and {'; '.join(unused)}.")
        else:
            yield ok(row_arn(row), f"User {name} has no active access key that was never used.")


CHECK = Check(
    id="initial_access_keys_unused",
    title="Access keys set up with a console user and never used",
    severity=Severity.MEDIUM,
    rationale=(
        "Ticking 'access key' when creating a console user hands out a long-lived secret nobody asked for. "
        "It sits in a download folder or a ticket, never used, so nobody would notice when someone else starts "
        "using it. People who sign in to the console rarely need keys at all; those who do can make their own."
    ),
    remediation=(
        "Delete the unused key: `aws iam list-access-keys --user-name <user>` for its id, then `aws iam "
        "delete-access-key --user-name <user> --access-key-id <id>`; create users without keys and let the "
        "few who need one create it themselves (or better, use IAM Identity Center and short-lived credentials)."
    ),
    needs=("credential_report",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.10",)},
)
