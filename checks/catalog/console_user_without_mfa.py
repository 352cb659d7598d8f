"""Every IAM user with a console password has MFA."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import ago, has_console, is_true, report_date, row_arn, user_rows
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per user with password_enabled: fail when mfa_active is false; a pass for the account if nobody has one."""
    console = [row for row in user_rows(snapshot) if has_console(row)]
    for row in console:
        name = row.get("user", "?")
        if is_true(row.get("mfa_active")):
            yield ok(row_arn(row), f"User {name} signs in to the console with MFA.")
            continue
        used = report_date(row.get("password_last_used"))
        last = f"last used {ago(used, snapshot)}" if used else "never used"
        yield fail(row_arn(row), f"User {name} has a console password ({last}) and no MFA device.")
    if not console:
        yield ok(ACCOUNT, "No IAM user has a console password.")


CHECK = Check(
    id="console_user_without_mfa",
    title="Console user without MFA",
    severity=Severity.HIGH,
    rationale=(
        "A console password can be phished, guessed or reused from another breach; MFA is what keeps that "
        "from being enough to sign in. Every IAM user who can sign in to the console should have a device."
    ),
    remediation=(
        "Have each user listed register an MFA device (IAM > Users > <user> > Security credentials > Assign "
        "MFA device). If the user does not need the console, remove the password instead: "
        "`aws iam delete-login-profile --user-name <user>`."
    ),
    needs=("credential_report",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.9",), "Security Hub": ("IAM.5",)},
)
