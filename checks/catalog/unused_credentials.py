"""Passwords and active access keys unused for 45 days or more."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from checks.base import Check, Finding, fail, ok
from checks.helpers import active_keys, day, days_since, has_console, report_date, row_arn, user_rows
from checks.last_access import CREDENTIAL_DAYS, corroboration, findings_of, source, unused_since
from core.severity import Severity
from iam.snapshot import Snapshot

LIMIT_DAYS = CREDENTIAL_DAYS
SOURCE = source("credential report")
ANALYZER_TYPES = ("UnusedIAMUserPassword", "UnusedIAMUserAccessKey")


def _stale(name: str, used: datetime | None, created: datetime | None, snapshot: Snapshot) -> str | None:
    """`password last used 2024-01-02, 120 days ago`, or None when the credential is fresh or undatable."""
    if used is not None:
        days = days_since(used, snapshot)
        return f"{name} last used {day(used)}, {days} days ago" if unused_since(used, snapshot, LIMIT_DAYS) else None
    if created is not None:
        days = days_since(created, snapshot)
        stale = unused_since(created, snapshot, LIMIT_DAYS)
        return f"{name} never used since {day(created)}, {days} days ago" if stale else None
    return None


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """One finding per user: fail listing each stale credential, else pass.

    A credential never used is aged from its own creation: the password from password_last_changed (the user's
    creation when that is unknown), a key from access_key_N_last_rotated. The credential report covers every
    user in one call, so it stays the source; where IAM Access Analyzer answered, a failure also names its
    findings about the user's password or keys (it reports them only after its own, often longer, age).
    """
    analyzed = findings_of(snapshot, ANALYZER_TYPES)
    for row in user_rows(snapshot):
        name = row.get("user", "?")
        credentials = [(key.name, key.last_used, key.rotated) for key in active_keys(row)]
        if has_console(row):
            created = report_date(row.get("password_last_changed")) or report_date(row.get("user_creation_time"))
            credentials.insert(0, ("password", report_date(row.get("password_last_used")), created))
        stale = [s for s in (_stale(*credential, snapshot) for credential in credentials) if s]
        if stale:
            said = corroboration(analyzed, row_arn(row), snapshot) + SOURCE
            yield fail(row_arn(row), f"User {name}: {'; '.join(stale)}.{said}")
        else:
            fresh = f"User {name} has no password or active access key unused for {LIMIT_DAYS}+ days."
            yield ok(row_arn(row), fresh + SOURCE)


CHECK = Check(
    id="unused_credentials",
    title="Credentials unused for 45 days or more",
    severity=Severity.MEDIUM,
    rationale=(
        "A password or key nobody uses still works for whoever finds it, and nobody notices when it starts being "
        "used again. Credentials left over from departed people, finished projects or one-off tests are the "
        "classic way into an account. Disabling what has been idle for 45 days shrinks that surface at little "
        "cost: a person who still needs access can ask for it back."
    ),
    remediation=(
        "For an idle password: `aws iam delete-login-profile --user-name <user>`. For an idle key: "
        "`aws iam update-access-key --user-name <user> --access-key-id <id> --status Inactive`, then delete it "
        "after a grace period (`aws iam list-access-keys --user-name <user>` gives the ids)."
    ),
    needs=("credential_report",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.11",), "Security Hub": ("IAM.22",)},
)
