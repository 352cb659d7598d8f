"""Users whose long-lived access keys are used directly on services, where temporary credentials belong."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import active_keys, row_arn, user_rows
from checks.helpers_roles_trails import listing
from core.severity import Severity
from iam.snapshot import Snapshot

TOKEN_SERVICES = frozenset({"iam", "sts"})  # what a key may be used for to obtain temporary credentials


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per user with an active access key: fail when a key's last use (credential report
    access_key_N_last_used_service) was a service other than IAM or STS, or when Access Advisor, for the users
    it covered, shows such services used; pass otherwise.

    The limit, as in Prowler's check: neither source tells a call signed with the key from one signed with
    temporary credentials the key obtained from GetSessionToken (only CloudTrail's accessKeyId does, ASIA
    rather than AKIA), so a user whose keys only mint session tokens passes and one who uses both fails.
    """
    advisor = snapshot.access_advisor or {}
    for row in user_rows(snapshot):
        keys = active_keys(row)
        if not keys:
            continue
        name = row.get("user", "?")
        arn = row_arn(row)
        direct = []
        for key in keys:
            service = str(row.get(f"access_key_{key.slot}_last_used_service") or "N/A").lower()
            if key.last_used is not None and service not in TOKEN_SERVICES and service != "n/a":
                direct.append(f"{key.name} last used on {service}")
        used = sorted(
            s.get("ServiceNamespace", "?")
            for s in advisor.get(arn, [])
            if s.get("LastAuthenticated") and s.get("ServiceNamespace") not in TOKEN_SERVICES
        )
        if used and not direct:
            direct.append(f"Access Advisor shows {listing(used)} used")
        if direct:
            yield fail(arn, f"User {name} uses long-lived keys beyond IAM and STS: {'; '.join(direct)}.")
        else:
            yield ok(arn, f"User {name}'s access keys were not seen used on services other than IAM and STS.")


CHECK = Check(
    id="long_lived_keys_in_use",
    title="Long-lived access keys used instead of temporary credentials",
    severity=Severity.MEDIUM,
    rationale=(
        "An access key that calls services directly is a password that never expires and works from anywhere. "
        "Using it only to obtain temporary credentials (sts:GetSessionToken with MFA, or sts:AssumeRole) keeps "
        "the long-lived secret out of day-to-day use, so a leaked session stops working within hours."
    ),
    remediation=(
        "Move the workload to a role (an instance profile, IAM Roles Anywhere, or OIDC from CI), or have the user "
        "obtain session credentials with `aws sts get-session-token --serial-number <mfa arn> --token-code <code>`; "
        "to enforce it, attach a Deny on NotAction iam:* and sts:* with Condition Null aws:TokenIssueTime true "
        "(`aws iam put-user-policy --user-name <user> --policy-name temporary-only --policy-document file://deny.json`)."
    ),
    needs=("credential_report",),
    evaluate=evaluate,
)
