"""At least one multi-region trail is logging read and write management events."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers_roles_trails import management_coverage, trails
from core.severity import Severity
from iam.snapshot import Snapshot


def shortfalls(trail: dict) -> list[str]:
    """What keeps one trail from counting: single-region, not logging, missing read or write events."""
    gaps = []
    if not trail.get("IsMultiRegionTrail"):
        gaps.append("covers only its home region")
    status = trail.get("Status")
    if not isinstance(status, dict):
        gaps.append("its logging status could not be read")
    elif not status.get("IsLogging"):
        gaps.append("is not logging")
    kinds = management_coverage(trail)
    if kinds is None:
        gaps.append("its event selectors could not be read")
    elif not kinds:
        gaps.append("records no management events")
    elif kinds != {"read", "write"}:
        missing = "write" if "read" in kinds else "read"
        gaps.append(f"records only {next(iter(kinds))} management events, not {missing}")
    return gaps


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """One account-wide finding: pass naming a qualifying trail, else fail saying what each trail lacks."""
    found = trails(snapshot)
    reasons = [(trail.get("Name", "?"), shortfalls(trail)) for trail in found]
    good = [name for name, gaps in reasons if not gaps]
    if good:
        yield ok(
            ACCOUNT,
            f"Multi-region trail {good[0]} is logging read and write management events"
            + (f" (as are {len(good) - 1} other trails)." if len(good) > 1 else "."),
        )
    elif not found:
        yield fail(ACCOUNT, "The account has no CloudTrail trail; only the 90-day event history records API calls.")
    else:
        shown = [f"{name} {' and '.join(gaps)}" for name, gaps in reasons[:3]]
        more = f" ({len(found) - 3} more trails fall short too)" if len(found) > 3 else ""
        summary = "; ".join(shown)
        yield fail(ACCOUNT, f"No trail covers all regions with read and write management events: {summary}{more}.")


CHECK = Check(
    id="cloudtrail_multi_region",
    title="No multi-region CloudTrail trail logging management events",
    severity=Severity.HIGH,
    rationale=(
        "CloudTrail is the record of who did what in the account, and the real-time alerts of this bot read it. "
        "A trail that covers every region catches activity in regions nobody uses, which is where an intruder "
        "would run up resources; recording both read and write management events keeps the reconnaissance "
        "(List*, Get*) that precedes an attack. Without a trail, the event history keeps 90 days of management "
        "events in each region, and nothing older."
    ),
    remediation=(
        "Create or fix one trail: `aws cloudtrail create-trail --name <name> --s3-bucket-name <bucket> "
        "--is-multi-region-trail` (or `update-trail --is-multi-region-trail`), `aws cloudtrail "
        'put-event-selectors --trail-name <name> --event-selectors \'[{"ReadWriteType":"All",'
        '"IncludeManagementEvents":true}]\'`, then `aws cloudtrail start-logging --name <name>`. In an '
        "organization, one organization trail from the management account covers every member."
    ),
    needs=("trails",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("3.1",), "Security Hub": ("CloudTrail.1",)},
)
