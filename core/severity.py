"""Severity levels shared by detection rules and audit checks."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How urgently a human should look; ordered from most to least urgent."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical, growing as urgency falls (sorts most urgent first)."""
        return list(Severity).index(self)

    @property
    def emoji(self) -> str:
        """The Slack emoji code shown beside the severity."""
        return {
            Severity.CRITICAL: ":red_circle:",
            Severity.HIGH: ":large_orange_circle:",
            Severity.MEDIUM: ":large_yellow_circle:",
            Severity.LOW: ":large_blue_circle:",
            Severity.INFO: ":white_circle:",
        }[self]
