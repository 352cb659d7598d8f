"""The detection rule registry: every module in `detections/rules/` that defines `RULE` is a rule."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache

from core.registry import discover
from core.rows import Fact
from core.undone import Undone
from detections import rules as _rules_pkg
from detections.base import Rule


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every registered rule, in file-name order. Adding a rule is adding one file."""
    return discover(_rules_pkg, "RULE", Rule, "detection rule")


def rule(rule_id: str) -> Rule:
    """The rule with this id (KeyError if none)."""
    for r in all_rules():
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


@cache
def event_names() -> frozenset[str]:
    """Every CloudTrail eventName some rule reads (root activity aside)."""
    return frozenset(name for r in all_rules() for name in r.event_names)


@cache
def refused_event_names() -> frozenset[str]:
    """Every CloudTrail eventName some rule reads only when the call was refused (`Rule.refused_event_names`)."""
    return frozenset(name for r in all_rules() for name in r.refused_event_names)


@cache
def event_sources() -> frozenset[str]:
    """Every CloudTrail eventSource of the events the rules read."""
    return frozenset(src for r in all_rules() for src in r.event_sources)


def reads_root_events() -> bool:
    """Whether some rule reads every event the root user makes."""
    return any(r.any_root_event for r in all_rules())


def facts_of_undone(undone: Iterable[Undone], action: str, alert_id: int, at: datetime | None = None) -> list[Fact]:
    """What the rules remember of the grants a remediation took away (`Rule.learns_undone`): `action` names the
    stored action row, `alert_id` the alert its button was on, `at` when (now by default)."""
    undone, at = tuple(undone), at or datetime.now(UTC)
    return [fact for r in all_rules() if r.learns_undone for fact in r.learns_undone(undone, action, alert_id, at)]
