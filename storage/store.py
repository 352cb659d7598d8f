"""The store the bot is given: one object over the shared Database, made of the storage areas, each owning its
tables (storage/__init__.py lists them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import sqlite_utils

from core.rows import AlertCounts
from core.states import AlertStatus, PostState
from storage.actions import Actions
from storage.cursors import Cursors
from storage.db import Database, utcnow
from storage.event_records import EventRecords
from storage.events import Events
from storage.findings import Findings
from storage.incidents import Incidents
from storage.outbox import Outbox
from storage.rule_mutes import RuleMutes
from storage.schedule import Schedule


class Store(Events, Outbox, Incidents, Actions, Findings, RuleMutes, Schedule, Cursors, EventRecords):
    """Every table of the bot, through the area that owns it; every method is one transaction."""

    def __init__(self, path: str | Path, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(Database(path, clock))
        self.path = self._db.path
        self.clock = clock

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils database (for tests that inspect rows)."""
        return self._db.sql

    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version."""
        return self._db.migrate()

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def counts(self) -> AlertCounts:
        """Open and acknowledged alerts, alerts not yet posted, and dead letters kept (an alert a rule mute kept out
        of Slack is neither open nor unposted: RuleMutes.muted_alerts counts it)."""
        with self._db.lock:
            alerts = self._db.sql["alerts"]
            return AlertCounts(
                open=alerts.count_where("status = ? AND post_state != ?", [AlertStatus.OPEN, PostState.MUTED]),
                acknowledged=alerts.count_where("status = ?", [AlertStatus.ACKNOWLEDGED]),
                unposted=alerts.count_where("post_state IN (?, ?)", [PostState.PENDING, PostState.SENDING]),
                dead_letters=self._db.sql["dead_letters"].count,
            )
