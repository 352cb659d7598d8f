"""Crontab expressions as APScheduler triggers, with crontab's weekday numbering.

APScheduler 3's `CronTrigger.from_crontab` reads the weekday field with 0 = Monday, while crontab means
0 (or 7) = Sunday: `0 9 * * 1` would fire on Tuesdays. The weekday field is expanded here and passed as names.
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _day(token: str) -> int:
    token = token.strip().lower()
    if token[:3] in NAMES:
        return NAMES.index(token[:3])
    value = int(token)
    if not 0 <= value <= 7:
        raise ValueError(f"weekday {value} is outside 0-7")
    return value % 7


def weekdays(field: str) -> list[str]:
    """A crontab weekday field (numbers 0-7 with Sunday as 0 or 7, names, ranges, lists, steps) as day names."""
    days: set[int] = set()
    for item in field.split(","):
        part, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError("a step must be at least 1")
        if part == "*":
            low, high = 0, 6
        elif "-" in part:
            low_text, high_text = part.split("-", 1)
            # A numeric upper bound keeps 7 as 7, so "5-7" is fri, sat, sun.
            low, high = _day(low_text), int(high_text) if high_text.strip().isdigit() else _day(high_text)
        else:
            low = high = _day(part)
        if high < low:
            raise ValueError(f"range {part} runs backwards")
        days.update(d % 7 for d in range(low, high + 1, step))
    return [NAMES[d] for d in sorted(days)]


def trigger(expr: str, timezone: str = "UTC") -> CronTrigger:
    """An APScheduler trigger for a five-field crontab expression (ValueError when it is not one)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError("it needs five fields: minute hour day month weekday")
    minute, hour, day, month, weekday = fields
    day_of_week = "*" if weekday == "*" else ",".join(weekdays(weekday))
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week, timezone=timezone)
