"""Events a reader judged for the pipeline: the record raises nothing, so only its event row crosses over."""

from __future__ import annotations

from core import cloudtrail as ct


class Judged(tuple):
    """The event row (`event_row` without its source) of a usable record that raises nothing
    (`detections.engine.raises_nothing`), as a reader process judged it: the pipeline stores and deduplicates it as it
    would the record, without building or evaluating the record itself."""

    __slots__ = ()


def event_row(record: dict, source: str) -> tuple[str, str, str, str, str, str, str]:
    """A usable record's event from `source`, in the store's EVENT_FIELDS order (the source last)."""
    return (
        record["eventID"],
        record["eventName"],
        record["eventTime"],
        str(record.get("recipientAccountId") or ""),
        ct.actor_arn(record),
        str(record.get("errorCode") or ""),
        source,
    )
