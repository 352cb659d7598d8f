"""core.times.utc: every timestamp the bot meets, read as an aware UTC datetime, or None."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.times import from_store, stored, utc

AT = datetime(2024, 5, 14, 9, 12, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-14T09:12:45Z", AT),  # CloudTrail's eventTime
        ("2024-05-14T09:12:45.123456Z", AT.replace(microsecond=123456)),  # the store's format
        ("2024-05-14T11:12:45+02:00", AT),  # an offset: converted
        ("2024-05-14T03:42:45-0530", AT),
        ("2024-05-14T09:12:45", AT),  # naive: taken as UTC
        ("2024-05-14T09:12:45+00:00", AT),
        ("20240514T091245Z", AT),  # ISO 8601's basic format
        ("2024-05-14", datetime(2024, 5, 14, tzinfo=UTC)),
        ("", None),
        ("N/A", None),  # the credential report's marker
        ("not_supported", None),
        ("2024-13-14T09:12:45Z", None),
        ("2024-05-14T09:12:45ZZ", None),
        ("Z", None),
    ],
)
def test_text_is_read_as_utc_or_none(text, expected):
    moment = utc(text)
    assert moment == expected
    if moment is not None:
        assert moment.utcoffset() == timedelta(0)


def test_datetimes_and_other_values():
    assert utc(AT.astimezone(timezone(timedelta(hours=-7)))) == AT
    assert utc(datetime(2024, 5, 14, 9, 12, 45)).tzinfo is UTC
    assert utc(None) is None and utc(1715677965) is None


def test_the_store_reads_back_what_it_writes():
    assert from_store(stored(AT)) == AT
    with pytest.raises(ValueError, match="not a stored time"):
        from_store("yesterday")
