"""Every trail writes signed digest files so tampering with its logs can be detected."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers_roles_trails import trail_arn, trail_label, trails
from core.severity import Severity
from iam.snapshot import Snapshot


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per trail: fail when LogFileValidationEnabled is not true. No trail, no finding (cloudtrail_multi_region
    reports that)."""
    for trail in trails(snapshot):
        label = trail_label(trail, snapshot)
        if trail.get("LogFileValidationEnabled"):
            yield ok(trail_arn(trail), f"{label} has log file validation enabled.")
        else:
            bucket = trail.get("S3BucketName", "?")
            yield fail(
                trail_arn(trail),
                f"{label} has log file validation off, so a log file altered or deleted in bucket {bucket} "
                "would go unnoticed.",
            )


CHECK = Check(
    id="cloudtrail_log_validation",
    title="CloudTrail log file validation disabled",
    severity=Severity.MEDIUM,
    rationale=(
        "Someone who gets into an account tends to clean up after themselves. With log file validation on, "
        "CloudTrail signs an hourly digest of the files it delivered, so an edited or deleted log file shows up "
        "when the digests are checked (`aws cloudtrail validate-logs`); without it, the logs are only as "
        "trustworthy as the bucket's permissions."
    ),
    remediation=(
        "`aws cloudtrail update-trail --name <trail> --enable-log-file-validation` (console: CloudTrail > "
        "Trails > <trail> > Edit > Log file validation). Only files delivered afterwards are covered."
    ),
    needs=("trails",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("3.2",), "Security Hub": ("CloudTrail.4",)},
)
