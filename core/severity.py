"""Severity levels shared by detection rules and audit checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


# -- counts by severity ---------------------------------------------------------------------------------------
# One figure everywhere (/iam status, the audit report, the digest, App Home): the failing, unmuted results of the
# latest audit, one per line of its report (a check may fail several times on one resource, e.g. once per unmet
# password-policy requirement), counted by `severity_counts` (audit.report.open_counts does it for an audit; the
# store keeps it with the audit: AuditRow.counts, read by Store.last_audit), always listed critical -> info.


def severity_counts(severities: Iterable[str]) -> dict[str, int]:
    """How many of each severity in `severities`: every severity, critical first, zeros included."""
    counts = {s.value: 0 for s in Severity}
    for severity in severities:
        counts[Severity(severity).value] += 1
    return counts


def by_severity(counts: Mapping[str, int]) -> dict[str, int]:
    """`counts` (severity -> number) in the order critical -> info, whatever order it was stored in; keys that
    are no severity come last, as they were."""
    order = {s.value: s.rank for s in Severity}
    return dict(sorted(counts.items(), key=lambda item: order.get(item[0], len(order))))


def counts_text(counts: Mapping[str, int]) -> str:
    """`3 critical, 3 high, 12 medium`: the non-zero counts, critical first ("" when there are none)."""
    return ", ".join(f"{n} {s}" for s, n in by_severity(counts).items() if n)
