"""Times: one reader for every timestamp the bot meets, and the one format the store writes.

CloudTrail writes `2024-05-14T09:12:45Z`; boto3 gives aware datetimes; a stored snapshot, the credential report
and the store hold ISO 8601 text. All of them are read by `utc`, so a time means the same everywhere: aware, UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

STORE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # microseconds and Z: sorts as text in SQLite


def utc(value: object) -> datetime | None:
    """`value` (a datetime, or ISO 8601 text) as an aware UTC datetime, naive ones taken as UTC; None when it is
    neither (absent, blank, a credential report marker such as `N/A`, garbage)."""
    if isinstance(value, str):
        # Parsed each time: fromisoformat takes less than a cache lookup costs where most texts are new, as a
        # replay's eventTimes are (an LRU of 4,096 missed four times in five on IAM-heavy traffic).
        return _parse(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _parse(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)  # reads a trailing Z as UTC since Python 3.11
    except ValueError:
        return None
    zone = moment.tzinfo
    if zone is None:
        return moment.replace(tzinfo=UTC)
    # CloudTrail's `Z` gives UTC itself: no conversion (a replay parses most kept records' times once each).
    return moment if zone is UTC else moment.astimezone(UTC)


def stored(moment: datetime) -> str:
    """A time as the store writes it (UTC, microseconds, `Z`)."""
    return moment.astimezone(UTC).strftime(STORE_FORMAT)


def from_store(text: str) -> datetime:
    """A time the store wrote; ValueError when the text is not one (a corrupt row is an error, not a None)."""
    moment = utc(text)
    if moment is None:
        raise ValueError(f"not a stored time: {text[:40]!r}")
    return moment
