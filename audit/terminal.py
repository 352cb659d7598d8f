"""The audit report for a terminal: failing and muted results most severe first, details wrapped to the width,
each check's fix commands with the resource filled in, colour when the output is a terminal."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from audit.fixes import commands
from audit.report import AuditReport
from checks.base import Check, Status
from core.severity import Severity

_COLOURS = {
    Severity.CRITICAL: "1;31",  # bold red
    Severity.HIGH: "31",
    Severity.MEDIUM: "33",
    Severity.LOW: "34",
    Severity.INFO: "37",
}
_MUTED, _FIX, _BAD = "2", "36", "1;31"
HEADER = f"{'SEVERITY':<9} {'STATUS':<6} {'CHECK':<34} {'ACCOUNT':<12} RESOURCE / DETAIL"
INDENT = 64  # where the resource column starts


class Paint:
    """ANSI colour when on, plain text when off."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.on else text


def table(
    report: AuditReport,
    checks: Mapping[str, Check],
    *,
    width: int = 120,
    colour: bool = False,
    quiet: bool = False,
) -> str:
    """The report as a terminal table; `quiet` leaves out muted results and the fix lines."""
    paint = Paint(colour)
    wrap = max(40, width - INDENT - 1)
    rows = [r for r in report.results if r.status == Status.FAIL or (r.status == Status.MUTED and not quiet)]
    rows.sort(key=lambda r: (r.status != Status.FAIL, Severity(r.severity).rank, r.check_id, r.resource))
    lines = [HEADER]
    for r in rows:
        severity = Severity(r.severity)
        sev = paint(f"{severity.value:<9}", _COLOURS[severity] if r.status == Status.FAIL else _MUTED)
        status = paint(f"{r.status.value:<6}", _BAD if r.status == Status.FAIL else _MUTED)
        lines.append(f"{sev} {status} {r.check_id:<34} {r.account:<12} {r.resource}")
        for piece in textwrap.wrap(r.detail, wrap) or [""]:
            lines.append(f"{'':<{INDENT}} {piece}")
        check = checks.get(r.check_id)
        if check is not None and r.status == Status.FAIL and not quiet:
            for command in commands(check.remediation, r.resource, r.detail):
                for i, piece in enumerate(textwrap.wrap(command, wrap - 5, break_on_hyphens=False)):
                    lines.append(f"{'':<{INDENT}} {paint(('fix: ' if i == 0 else '     ') + piece, _FIX)}")
    for err in report.errors:
        lines.append(f"could not check: {err}")
    lines += report.summary_lines()
    return "\n".join(lines) + "\n"
