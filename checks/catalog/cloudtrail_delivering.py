"""Every trail delivered log files in the last 24 hours without a delivery error."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import now_of
from checks.helpers_roles_trails import hours_between, trail_arn, trail_label, trails
from core.severity import Severity
from core.times import utc
from iam.snapshot import Snapshot

MAX_SILENCE_HOURS = 24


def _when(hours: float) -> str:
    """`less than an hour ago`, `3 hours ago`, `2 days ago`."""
    if hours < 1:
        return "less than an hour ago"
    if hours < 48:
        whole = round(hours)
        return f"{whole} hour{'' if whole == 1 else 's'} ago"
    return f"{round(hours / 24)} days ago"


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per trail: fail when GetTrailStatus shows logging stopped, a LatestDeliveryError, or no delivery within 24
    hours of the snapshot."""
    now = now_of(snapshot)
    for trail in trails(snapshot):
        label = trail_label(trail, snapshot)
        status = trail.get("Status")
        if not isinstance(status, dict):
            yield fail(trail_arn(trail), f"{label} has no readable status (GetTrailStatus), so delivery is unknown.")
            continue
        delivered = utc(status.get("LatestDeliveryTime"))
        error = status.get("LatestDeliveryError")
        if not status.get("IsLogging"):
            stopped = utc(status.get("StopLoggingTime"))
            since = f" since {_when(hours_between(stopped, now))}" if stopped else ""
            yield fail(trail_arn(trail), f"{label} is not logging{since}.")
        elif error:
            bucket = trail.get("S3BucketName", "?")
            yield fail(trail_arn(trail), f"{label} fails to deliver to bucket {bucket}: {error}.")
        elif delivered is None:
            yield fail(trail_arn(trail), f"{label} is logging but has never delivered a log file.")
        elif hours_between(delivered, now) > MAX_SILENCE_HOURS:
            yield fail(trail_arn(trail), f"{label} last delivered a log file {_when(hours_between(delivered, now))}.")
        else:
            yield ok(trail_arn(trail), f"{label} last delivered a log file {_when(hours_between(delivered, now))}.")


CHECK = Check(
    id="cloudtrail_delivering",
    title="CloudTrail trail not delivering logs",
    severity=Severity.HIGH,
    rationale=(
        "A trail can exist, look configured and still record nothing: logging stopped (a classic first move "
        "of an intruder), or the bucket policy or KMS key changed so deliveries fail. CloudTrail only reports "
        "this in the trail's status, so nobody notices until the logs are needed."
    ),
    remediation=(
        "Read `aws cloudtrail get-trail-status --name <trail>`. If logging stopped, find who called StopLogging "
        "in the event history and run `aws cloudtrail start-logging --name <trail>`. If LatestDeliveryError is "
        "AccessDenied or NoSuchBucket, restore the bucket and its policy allowing cloudtrail.amazonaws.com to "
        "PutObject (and the KMS key policy, for SSE-KMS)."
    ),
    needs=("trails",),
    evaluate=evaluate,
)
