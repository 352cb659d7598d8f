"""Scheduled jobs (the audit and the digest) on APScheduler cron triggers.

Each scheduled run is a *slot* (the trigger's fire time). A slot is claimed in the store before it runs, so
two bot instances never run the same slot, and at start-up the latest slot missed while the bot was down runs
once (older missed slots are not piled up).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from audit.crontab import trigger as crontab_trigger
from storage import Store

log = logging.getLogger(__name__)


def latest_slot(trigger: CronTrigger, now: datetime, after: datetime) -> datetime | None:
    """The last fire time of `trigger` in (after, now], or None."""
    slot = None
    fire = trigger.get_next_fire_time(None, after + timedelta(seconds=1))
    for _ in range(100_000):  # bounded: a minutely cron over two months
        if fire is None or fire > now:
            break
        slot = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return slot


class Jobs:
    """Named jobs with crontab schedules, run at most once per slot across instances."""

    def __init__(
        self,
        store: Store,
        jobs: dict[str, tuple[str, Callable[[datetime], None]]],  # name -> (crontab, run(slot))
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.owner = owner or uuid.uuid4().hex[:12]
        self.runs = {name: run for name, (_, run) in jobs.items()}
        self.triggers = {name: crontab_trigger(cron) for name, (cron, _) in jobs.items()}

    def fire(self, job: str, slot: datetime) -> bool:
        """Run `job` for `slot` unless an instance already claimed it; True when this call ran it."""
        if not self.store.claim_slot(job, slot, self.owner):
            log.info("%s for %s already claimed by another run", job, slot.isoformat())
            return False
        try:
            self.runs[job](slot)
        except Exception as err:  # the scheduler thread must survive a failed run
            log.exception("%s for %s failed", job, slot.isoformat())
            self.store.finish_slot(job, slot, f"failed: {type(err).__name__}")
        else:
            self.store.finish_slot(job, slot, "ok")
        return True

    def catch_up(self) -> list[str]:
        """Run, once each, the jobs whose latest slot was missed while the bot was down; returns their names."""
        now = self.clock()
        ran = []
        for job, trigger in self.triggers.items():
            last = self.store.last_slot(job)
            if last is None:
                continue  # never ran here before: nothing was missed
            slot = latest_slot(trigger, now, last)
            if slot is not None and self.fire(job, slot):
                ran.append(job)
        return ran

    def due(self, job: str) -> None:
        """APScheduler's entry point: run the slot that just came due."""
        now = self.clock()
        slot = latest_slot(self.triggers[job], now, now - timedelta(days=1))
        if slot is not None:
            self.fire(job, slot)

    def schedule(self, scheduler: BackgroundScheduler) -> None:
        """Add every job to an APScheduler scheduler (coalesced: a backlog runs once)."""
        for job, trigger in self.triggers.items():
            scheduler.add_job(
                self.due,
                trigger,
                args=[job],
                id=job,
                name=job,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=3600,
                replace_existing=True,
            )
