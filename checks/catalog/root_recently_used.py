"""The root user has not been used in the last 30 days."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import ago, days_since, last_activity, root_arn, root_row
from core.severity import Severity
from iam.snapshot import Snapshot

WINDOW_DAYS = 30


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Fail when the root password or a root key was last used within 30 days of the snapshot.

    No root row in the credential report (it always has one in AWS) yields no finding rather than a guess.
    """
    row = root_row(snapshot)
    if row is None:
        return
    resource = root_arn(snapshot)
    last = last_activity(row)
    if last is None:
        yield ok(resource, "The credential report records no use of the root password or root access keys.")
        return
    when, what = last
    if days_since(when, snapshot) < WINDOW_DAYS:
        yield fail(resource, f"The root user was used on {ago(when, snapshot)} through its {what}.")
    else:
        yield ok(resource, f"The root user was last used on {ago(when, snapshot)} through its {what}.")


CHECK = Check(
    id="root_recently_used",
    title="Root user used in the last 30 days",
    severity=Severity.HIGH,
    rationale=(
        "Only a handful of tasks (closing the account, changing its email, some billing and support settings) "
        "truly need root. Recent root use means either someone does daily work as root, bypassing every IAM "
        "guardrail and leaving no per-person trail, or the root credentials are in hands they should not be."
    ),
    remediation=(
        "Find who signed in (CloudTrail: userIdentity.type = Root) and why. Give that person an IAM Identity "
        "Center or IAM role for the work, rotate the root password if the use was not planned, and keep root "
        "for the few tasks that require it."
    ),
    needs=("credential_report",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.6",)},
)
