"""A digest's content: what the audit builds for a period and the Slack layer renders (neither imports the other)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.rows import AlertRow, FindingRow, MuteRow


@dataclass(frozen=True)
class Trend:
    """Counts of the period beside those of the period of equal length before it."""

    alerts: int
    alerts_before: int
    new_findings: int
    new_findings_before: int
    resolved_findings: int
    resolved_findings_before: int
    open_findings: int


@dataclass(frozen=True)
class Digest:
    """The digest of [since, until): alerts nobody acknowledged, findings opened and resolved, mutes ending soon,
    and what rule mutes kept out of Slack."""

    since: datetime
    until: datetime
    unacknowledged: list[AlertRow]
    new_findings: list[FindingRow]
    resolved_findings: list[FindingRow]
    expiring_mutes: list[MuteRow]
    trend: Trend
    muted_events: int = 0  # events of the period rule mutes kept out of Slack (stored all the same)
    muting_mutes: int = 0  # how many rule mutes kept them out
    muted: list[MuteRow] = field(default_factory=list)  # finding mutes made in the period (lifted ones too)
    open_counts: dict[str, int] = field(default_factory=dict)  # the latest audit's (core/severity.py), critical first
