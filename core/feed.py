"""The event feed's health as App Home shows it: the feed's latest life, an open silence, and each account's latest
event. ingest/feed_watch.py reads it from the store, slackui renders it (neither imports the other)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class AccountFeed:
    """One account's latest stored event: its CloudTrail eventTime and when the bot stored it."""

    account: str
    last_event_at: datetime | None
    last_stored_at: datetime | None


@dataclass(frozen=True)
class FeedHealth:
    """The feed's latest life (a heartbeat, a message or a stored poll), the silence alert still open (if any), the
    silence threshold, and the latest event per account (most recent first)."""

    feed: str  # what the feed is, as the feed_silent alert names it ("SQS queue iam-warden-events")
    last_life: datetime | None
    silent_minutes: int
    silence_alert: int | None = None  # the feed_silent alert of a silence the feed has not come back from
    accounts: tuple[AccountFeed, ...] = field(default_factory=tuple)

    def quiet(self, now: datetime) -> bool:
        """Whether the feed has said nothing for longer than its silence threshold (or never spoke)."""
        return self.last_life is None or now - self.last_life > timedelta(minutes=self.silent_minutes)
