"""Trail logs outlive CloudTrail's 90-day event history: no lifecycle rule deletes them that soon."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import day
from checks.helpers_roles_trails import trail_arn, trail_label, trails
from core.severity import Severity
from core.times import utc
from iam.snapshot import Snapshot

HISTORY_DAYS = 90


def log_prefix(trail: dict) -> str:
    """Where the trail writes in its bucket: `<S3KeyPrefix>/AWSLogs/` (organization trails add the org id)."""
    prefix = str(trail.get("S3KeyPrefix") or "").strip("/")
    return f"{prefix}/AWSLogs/" if prefix else "AWSLogs/"


def rules_of(lifecycle: object) -> list[dict]:
    """The lifecycle rules, whether the collector kept the whole reply ({"Rules": [...]}) or the list."""
    if isinstance(lifecycle, dict):
        lifecycle = lifecycle.get("Rules")
    return [r for r in lifecycle if isinstance(r, dict)] if isinstance(lifecycle, list) else []


def rule_prefix(rule: dict) -> str | None:
    """The key prefix a rule applies to; None when it filters on tags, which CloudTrail never sets on logs."""
    filt = rule.get("Filter")
    if not isinstance(filt, dict):
        return str(rule.get("Prefix") or "")  # the pre-2018 rule shape
    if "Tag" in filt:
        return None
    if isinstance(filt.get("And"), dict):
        return None if filt["And"].get("Tags") else str(filt["And"].get("Prefix") or "")
    return str(filt.get("Prefix") or "")


def expiring_rules(trail: dict) -> list[tuple[str, str, int | None]]:
    """(rule id, what it does, days or None for a fixed date) for enabled rules that delete the trail's logs."""
    prefix = log_prefix(trail)
    found = []
    for rule in rules_of(trail.get("S3Lifecycle")):
        applies_at = rule_prefix(rule)
        if rule.get("Status") != "Enabled" or applies_at is None:
            continue
        if not (prefix.startswith(applies_at) or applies_at.startswith(prefix)):
            continue
        expiration = rule.get("Expiration") or {}
        name = str(rule.get("ID") or "unnamed")
        if isinstance(expiration.get("Days"), int):
            found.append((name, f"expires objects after {expiration['Days']} days", expiration["Days"]))
        elif expiration.get("Date"):
            when = utc(expiration["Date"])
            found.append((name, f"expires every object from {day(when) if when else expiration['Date']}", None))
    return found


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per trail: fail when an enabled lifecycle rule of its bucket expires its logs within 90 days, or on a fixed
    date. No lifecycle configuration passes (objects are kept until deleted).

    A lifecycle that could not be read (S3LifecycleError, typically a central log bucket in another account)
    fails at low severity: the audit cannot show the logs are kept, but it is no evidence that they are not.
    """
    for trail in trails(snapshot):
        label = trail_label(trail, snapshot)
        bucket = trail.get("S3BucketName")
        if not bucket:
            yield fail(trail_arn(trail), f"{label} names no S3 bucket, so it keeps no log files.")
            continue
        if trail.get("S3LifecycleError"):
            yield fail(
                trail_arn(trail),
                f"{label} delivers to bucket {bucket}, whose lifecycle could not be read "
                f"({trail['S3LifecycleError']}); check its retention where the bucket lives.",
                Severity.LOW,
            )
            continue
        rules = expiring_rules(trail)
        short = [(name, what) for name, what, days in rules if days is None or days <= HISTORY_DAYS]
        if short:
            name, what = short[0]
            yield fail(trail_arn(trail), f"{label} delivers to bucket {bucket}, whose lifecycle rule {name} {what}.")
        elif rules:
            days = min(d for _, _, d in rules if d is not None)
            yield ok(trail_arn(trail), f"{label} keeps its logs in bucket {bucket} for {days} days.")
        else:
            yield ok(trail_arn(trail), f"{label} keeps its logs in bucket {bucket} with no expiry rule.")


CHECK = Check(
    id="cloudtrail_logs_retained",
    title="CloudTrail logs deleted within 90 days",
    severity=Severity.MEDIUM,
    rationale=(
        "Intrusions are often found months after they start. CloudTrail's event history already covers 90 "
        "days, so a trail whose bucket deletes logs within that window adds nothing when an investigation "
        "needs to look further back. Keeping them longer is cheap: old logs can move to an archive storage "
        "class instead of being deleted."
    ),
    remediation=(
        "Change the bucket's lifecycle so the rule covering `AWSLogs/` expires objects after a year or more "
        "(or only transitions them, e.g. to Glacier after 90 days): `aws s3api "
        "put-bucket-lifecycle-configuration --bucket <bucket> --lifecycle-configuration file://lifecycle.json`. "
        "Match the retention your auditors ask for (often one to seven years)."
    ),
    needs=("trails",),
    evaluate=evaluate,
)
