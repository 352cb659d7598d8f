"""Scheduled job slots (job_runs): which instance runs each scheduled run of a job."""

from __future__ import annotations

from datetime import datetime

from core.times import from_store
from storage.db import Area, iso


class Schedule(Area):
    """Claimed slots of scheduled jobs."""

    def claim_slot(self, job: str, slot: datetime, owner: str) -> bool:
        """Claim one scheduled run of a job; only the first instance to ask gets True."""
        with self._db.tx() as db:
            key = [job, iso(slot)]
            if db["job_runs"].count_where("job = ? AND slot = ?", key):
                return False
            db["job_runs"].insert({"job": job, "slot": iso(slot), "owner": owner, "started_at": self._db.now()})
            return True

    def finish_slot(self, job: str, slot: datetime, outcome: str) -> None:
        """Record how a claimed run ended."""
        with self._db.tx() as db:
            db["job_runs"].update((job, iso(slot)), {"finished_at": self._db.now(), "outcome": outcome[:500]})

    def last_slot(self, job: str) -> datetime | None:
        """The latest claimed slot of a job."""
        with self._db.lock:
            rows = list(self._db.sql["job_runs"].rows_where("job = ?", [job], order_by="slot desc", limit=1))
        return from_store(rows[0]["slot"]) if rows else None
