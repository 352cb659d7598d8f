"""Scheduling with a fake clock: missed runs caught up once, no pile-up, one run per slot across instances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from audit.crontab import trigger, weekdays
from audit.schedule import Jobs, latest_slot
from storage import Store

DAY6 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def jobs(store: Store, clock: Clock, ran: list, owner: str) -> Jobs:
    return Jobs(
        store,
        {
            "audit": ("0 6 * * *", lambda slot: ran.append(("audit", owner, slot))),
            "digest": ("0 9 * * 1", lambda slot: ran.append(("digest", owner, slot))),
        },
        clock=clock,
        owner=owner,
    )


def test_crontab_weekdays_are_crontab_numbered():
    assert weekdays("1") == ["mon"] and weekdays("0") == ["sun"] and weekdays("7") == ["sun"]
    assert weekdays("1-5") == ["mon", "tue", "wed", "thu", "fri"]
    assert weekdays("5-7") == ["sun", "fri", "sat"]
    assert weekdays("*/2") == ["sun", "tue", "thu", "sat"]
    assert weekdays("mon,wed") == ["mon", "wed"]
    monday_nine = trigger("0 9 * * 1").get_next_fire_time(None, DAY6)
    assert monday_nine == datetime(2026, 11, 23, 9, tzinfo=UTC) and monday_nine.strftime("%A") == "Monday"
    with pytest.raises(ValueError, match="five fields"):
        trigger("daily")
    with pytest.raises(ValueError):
        trigger("0 9 * * 8")


def test_latest_slot():
    audit_trigger = trigger("0 6 * * *")
    assert latest_slot(audit_trigger, DAY6 + timedelta(hours=3), DAY6 - timedelta(days=5)) == DAY6
    assert latest_slot(audit_trigger, DAY6 - timedelta(minutes=1), DAY6 - timedelta(hours=20)) is None


def test_first_start_runs_nothing_then_scheduled_slot_runs_once(tmp_path):
    store, clock, ran = Store(tmp_path / "s.db"), Clock(DAY6 - timedelta(hours=1)), []
    first = jobs(store, clock, ran, "a")
    assert first.catch_up() == []
    clock.now = DAY6 + timedelta(seconds=2)
    first.due("audit")
    assert ran == [("audit", "a", DAY6)]
    first.due("audit")  # apscheduler firing twice for the same slot changes nothing
    assert len(ran) == 1


def test_missed_runs_are_caught_up_once_without_pile_up(tmp_path):
    store, clock, ran = Store(tmp_path / "s.db"), Clock(DAY6), []
    jobs(store, clock, ran, "a").fire("audit", DAY6 - timedelta(days=4))  # last run, then the bot went down
    ran.clear()
    clock.now = DAY6 + timedelta(hours=2)  # back up after missing four daily audits
    restarted = jobs(store, clock, ran, "b")
    assert restarted.catch_up() == ["audit"]
    assert ran == [("audit", "b", DAY6)]  # only the latest missed slot
    assert restarted.catch_up() == []


def test_two_instances_never_run_the_same_slot(tmp_path):
    store, clock, ran = Store(tmp_path / "s.db"), Clock(DAY6 + timedelta(seconds=1)), []
    one, two = jobs(store, clock, ran, "one"), jobs(store, clock, ran, "two")
    one.due("audit")
    two.due("audit")
    assert [r[:2] for r in ran] == [("audit", "one")]


def test_failed_run_is_recorded_and_does_not_kill_the_scheduler(tmp_path, caplog):
    store, clock = Store(tmp_path / "s.db"), Clock(DAY6)

    def boom(_slot):
        raise RuntimeError("AWS down")

    failing = Jobs(store, {"audit": ("0 6 * * *", boom)}, clock=clock, owner="x")
    assert failing.fire("audit", DAY6) is True
    assert store.db["job_runs"].get(("audit", "2026-11-23T06:00:00.000000Z"))["outcome"] == "failed: RuntimeError"
    assert "audit for" in caplog.text


def test_apscheduler_gets_the_crontab_triggers(tmp_path):
    store, clock, ran = Store(tmp_path / "s.db"), Clock(DAY6), []
    scheduler = BackgroundScheduler(timezone=UTC)
    jobs(store, clock, ran, "a").schedule(scheduler)
    registered = {job.id: job for job in scheduler.get_jobs()}
    assert set(registered) == {"audit", "digest"}
    audit_trigger = registered["audit"].trigger
    assert audit_trigger.get_next_fire_time(None, DAY6 + timedelta(minutes=1)) == DAY6 + timedelta(days=1)
    digest_next = registered["digest"].trigger.get_next_fire_time(None, DAY6)  # 2026-11-23 is a Monday
    assert digest_next == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert registered["audit"].coalesce and registered["audit"].max_instances == 1
