"""Shared helpers for the role, CloudTrail, Access Advisor and Access Analyzer checks.

Timestamps reach the snapshot as boto3 datetimes (aware, often in the local zone), or as ISO strings once a
snapshot has been stored; core.times.utc reads both. Trails are listed once each, whatever region reported them
(a multi-region trail shows up as a shadow trail in every region's DescribeTrails).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from iam.snapshot import Snapshot

SERVICE_LINKED_PATH = "/aws-service-role/"  # roles AWS services create and own; their policies cannot be edited
IDENTITY_CENTER_PATH = "/aws-reserved/sso.amazonaws.com/"  # roles IAM Identity Center provisions per permission set


# --- time --------------------------------------------------------------------------------------------------


def hours_between(earlier: datetime, later: datetime) -> float:
    """Hours from `earlier` to `later` (negative when `earlier` is the later one)."""
    return (later - earlier).total_seconds() / 3600


# --- text --------------------------------------------------------------------------------------------------


def listing(items: Iterable[str], limit: int = 5) -> str:
    """`a, b, c` for up to `limit` items, then `… and 4 more`."""
    shown = list(items)
    if len(shown) <= limit:
        return ", ".join(shown)
    return f"{', '.join(shown[:limit])} and {len(shown) - limit} more"


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in `…` when it was cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


# --- roles -------------------------------------------------------------------------------------------------


def is_service_linked(role: dict) -> bool:
    """Whether a role entry is a service-linked role (path /aws-service-role/...), owned by an AWS service."""
    return str(role.get("Path", "")).startswith(SERVICE_LINKED_PATH)


def is_identity_center_role(role: dict) -> bool:
    """Whether IAM Identity Center provisioned the role for a permission set (it is changed there, not in IAM)."""
    return str(role.get("Path", "")).startswith(IDENTITY_CENTER_PATH)


def customer_roles(snapshot: Snapshot) -> list[dict]:
    """The account's role entries without service-linked roles, sorted by ARN."""
    return sorted((r for r in snapshot.roles or [] if not is_service_linked(r)), key=lambda r: r["Arn"])


def arn_account(arn: str) -> str:
    """The account id field of an ARN (`arn:aws:iam::123456789012:root` -> `123456789012`), or ``."""
    fields = arn.split(":", 5)
    return fields[4] if len(fields) == 6 else ""


# --- CloudTrail --------------------------------------------------------------------------------------------


def trails(snapshot: Snapshot) -> list[dict]:
    """Each trail once (by TrailARN, shadow copies dropped), sorted by ARN."""
    seen: dict[str, dict] = {}
    for trail in snapshot.trails or []:
        key = trail.get("TrailARN") or f"{trail.get('HomeRegion', '?')}/{trail.get('Name', '?')}"
        seen.setdefault(key, trail)
    return [seen[key] for key in sorted(seen)]


def trail_arn(trail: dict) -> str:
    """The trail's ARN (its name when the entry has none)."""
    return trail.get("TrailARN") or trail.get("Name", "?")


def trail_label(trail: dict, snapshot: Snapshot) -> str:
    """`Trail main (us-east-1)`, plus who manages it when it is another account's organization trail."""
    label = f"Trail {trail.get('Name', '?')} ({trail.get('HomeRegion', '?')})"
    owner = arn_account(trail.get("TrailARN", ""))
    if owner and owner != snapshot.account:
        label += f", an organization trail managed from account {owner},"
    return label


def management_coverage(trail: dict) -> set[str] | None:
    """Which kinds of management events the trail records: a subset of {"read", "write"}; None if unknown.

    Basic selectors count when IncludeManagementEvents is true (ReadWriteType All, ReadOnly or WriteOnly);
    advanced selectors when eventCategory equals Management, a readOnly field narrowing them to one kind.
    A trail whose selectors were never customised (HasCustomEventSelectors false) logs all management events.
    """
    basic = trail.get("EventSelectors")
    advanced = trail.get("AdvancedEventSelectors")
    if not basic and not advanced:
        if trail.get("HasCustomEventSelectors") is False:
            return {"read", "write"}
        if basic is None and advanced is None:
            return None
    kinds: set[str] = set()
    for selector in basic or []:
        if selector.get("IncludeManagementEvents", True):
            kinds |= {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}.get(
                selector.get("ReadWriteType", "All"), set()
            )
    for selector in advanced or []:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
        category = fields.get("eventCategory", {})
        if "Management" not in category.get("Equals", []):
            continue
        read_only = fields.get("readOnly")
        if read_only is None:
            kinds |= {"read", "write"}
        else:
            values = {str(v).lower() for v in read_only.get("Equals", [])}
            kinds |= {"read"} if "true" in values else set()
            kinds |= {"write"} if "false" in values else set()
    return kinds


# --- IAM Access Analyzer -----------------------------------------------------------------------------------


def audited_regions(snapshot: Snapshot) -> list[str]:
    """The regions the snapshot's regional parts (trails, analyzers) were collected in, each once."""
    return list(dict.fromkeys(snapshot.regions))


def analyzer_region(analyzer: dict) -> str:
    """The region an analyzer was listed in: the collector's `region` key, else the one in its ARN."""
    region = analyzer.get("region") or analyzer.get("Region")
    if isinstance(region, str) and region:
        return region
    fields = str(analyzer.get("arn", "")).split(":", 5)
    return fields[3] if len(fields) == 6 else "?"
