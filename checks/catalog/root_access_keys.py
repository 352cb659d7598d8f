"""The root user has no access keys."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import access_keys, root_arn, root_row
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Fail on an active root key (credential report) or any root key at all (AccountAccessKeysPresent).

    A key the summary counts but the report shows inactive still fails, at low severity: only someone who is
    already root can reactivate it, but it should still be deleted.
    """
    resource = root_arn(snapshot)
    row = root_row(snapshot)
    keys = access_keys(row) if row else []
    active = [k for k in keys if k.active]
    present = (snapshot.account_summary or {}).get("AccountAccessKeysPresent", 0) >= 1
    if active:
        listed = ", ".join(k.created for k in active)
        yield fail(resource, f"The root user has {len(active)} active access key(s): {listed}.")
    elif present or keys:
        yield fail(
            resource,
            "The root user has an access key that is inactive (AccountAccessKeysPresent is 1); delete it.",
            severity=Severity.LOW,
        )
    else:
        yield ok(resource, "The root user has no access keys.")


CHECK = Check(
    id="root_access_keys",
    title="Root user has access keys",
    severity=Severity.CRITICAL,
    rationale=(
        "A root access key is a long-lived secret with unlimited power that MFA does not protect and no policy "
        "can limit. Keys end up in scripts, CI variables and laptops; one leak hands over the whole account. "
        "Nothing routine needs one: every API task can be done by an IAM role."
    ),
    remediation=(
        "Sign in as root, open the account menu > Security credentials > Access keys, make each key inactive, "
        "confirm nothing breaks, then delete it. Move whatever used it to an IAM role or an IAM user with a "
        "scoped policy."
    ),
    needs=("account_summary", "credential_report"),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.3",), "Security Hub": ("IAM.4",)},
)
