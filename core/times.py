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
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def stored(moment: datetime) -> str:
    """A time as the store writes it (UTC, microseconds, `Z`)."""
    return moment.astimezone(UTC).strftime(STORE_FORMAT)


def from_store(text: str) -> datetime:
    """A time the store wrote; ValueError when the text is not one (a corrupt row is an error, not a None)."""
    moment = utc(text)
    if moment is None:
        raise ValueError(f"not a stored time: {text[:40]!r}")
    return moment
