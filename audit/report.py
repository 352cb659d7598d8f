"""An audit's outcome and its printable forms: the JSON contract, CSV, and a terminal table."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from core.severity import Severity

BLOCKING = (Severity.CRITICAL.value, Severity.HIGH.value)
COLUMNS = ("check", "severity", "account", "resource", "status", "title", "detail")


@dataclass
class AuditReport:
    """Everything one audit found: results with status fail/muted/pass, errors, and the diff."""

    audit_id: int
    accounts: list[str]
    results: list[dict]  # COLUMNS, status in fail | muted | pass
    errors: list[str]
    new: list[dict] = field(default_factory=list)  # finding rows first seen in this audit
    resolved: list[dict] = field(default_factory=list)  # finding rows resolved by this audit
    previous: dict | None = None  # the audit before this one, if any

    def failing(self) -> list[dict]:
        """Failing (unmuted) results, most severe first."""
        rows = [r for r in self.results if r["status"] == "fail"]
        return sorted(rows, key=lambda r: (Severity(r["severity"]).rank, r["check"], r["resource"]))

    def counts(self) -> dict[str, int]:
        """Failing results per severity (every severity present, zero included)."""
        counts = {s.value: 0 for s in Severity}
        for row in self.failing():
            counts[row["severity"]] += 1
        return counts

    def muted(self) -> int:
        """How many results a mute hid."""
        return sum(1 for r in self.results if r["status"] == "muted")

    def exit_code(self) -> int:
        """0 when no critical or high finding is open, 3 otherwise (for CI)."""
        return 3 if any(r["severity"] in BLOCKING for r in self.failing()) else 0

    def as_json(self) -> dict:
        """The JSON contract: accounts, findings, errors."""
        findings = sorted(
            self.results, key=lambda r: (r["status"] != "fail", Severity(r["severity"]).rank, r["check"], r["resource"])
        )
        return {
            "accounts": self.accounts,
            "findings": [{k: r[k] for k in COLUMNS} for r in findings],
            "errors": self.errors,
        }

    def json_text(self) -> str:
        """The JSON contract as text."""
        return json.dumps(self.as_json(), indent=2) + "\n"

    def csv_text(self) -> str:
        """Every result as CSV (the same columns as the JSON findings)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in self.as_json()["findings"]:
            writer.writerow(row)
        return out.getvalue()

    def table_text(self) -> str:
        """A terminal table of failing and muted results, then errors and a summary line."""
        rows = [r for r in self.as_json()["findings"] if r["status"] != "pass"]
        lines = [f"{'SEVERITY':<9} {'STATUS':<6} {'CHECK':<34} {'ACCOUNT':<12} RESOURCE / DETAIL"]
        for r in rows:
            lines.append(f"{r['severity']:<9} {r['status']:<6} {r['check']:<34} {r['account']:<12} {r['resource']}")
            lines.append(f"{'':<64} {r['detail']}")
        for err in self.errors:
            lines.append(f"could not check: {err}")
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n)
        lines.append(
            f"{len(self.accounts)} account(s): {counts or 'no open findings'}; {self.muted()} muted; "
            f"{len(self.new)} new, {len(self.resolved)} resolved since the last audit"
        )
        return "\n".join(lines) + "\n"
