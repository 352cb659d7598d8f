"""An audit's outcome and its printable forms: the JSON contract, CSV, and the summary lines (the terminal table
is audit/terminal.py's)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from checks.base import Status
from checks.engine import Result
from core.rows import AuditRow, FindingRow
from core.severity import Severity, counts_text, severity_counts

COLUMNS = ("check", "severity", "account", "resource", "status", "title", "detail")
INCOMPLETE = 4  # the exit code of an audit that could not run everywhere and found nothing critical or high
UNREACHED = 2  # the exit code of an audit that could not audit any account
_CHECK_ERROR = re.compile(r"(?P<account>[0-9]{12}): could not check (?P<check>\S+) \((?P<why>.*)\)")
_ACCOUNT_ERROR = re.compile(r"(?P<account>[0-9]{12}): (?P<why>.*)")


def open_counts(results: Iterable[Result]) -> dict[str, int]:
    """The open-findings figure of an audit, as /iam status, the report, the digest and App Home show it: its
    failing results (muted ones not counted), one per line of the report, per severity (core.severity)."""
    return severity_counts(r.severity for r in results if r.status == Status.FAIL)


@dataclass
class AuditReport:
    """Everything one audit found: results with status fail/muted/pass, errors, and the diff."""

    audit_id: int
    accounts: list[str]
    results: list[Result]  # status fail | muted | pass
    errors: list[str]
    new: list[FindingRow] = field(default_factory=list)  # findings first seen in this audit
    resolved: list[FindingRow] = field(default_factory=list)  # findings resolved by this audit
    previous: AuditRow | None = None  # the audit before this one, if any
    unaudited: dict[str, str] = field(default_factory=dict)  # target account -> why no check ran in it
    unlisted: str | None = None  # why the accounts to audit could not even be listed

    def audited(self) -> list[str]:
        """The target accounts in which at least one check ran."""
        return [a for a in self.accounts if a not in self.unaudited]

    def complete(self) -> bool:
        """Whether every check ran in every target account."""
        return not self.errors and not self.unaudited and self.unlisted is None

    def failure(self) -> str | None:
        """One line naming why no account could be audited, or None when at least one was."""
        if self.unlisted is not None:
            return self.unlisted
        if self.audited():
            return None
        if not self.accounts:
            return "no account to audit"
        causes = [self.unaudited[a] for a in self.accounts]
        if len(causes) == 1:
            return f"account {self.accounts[0]}: {causes[0]}"
        if len(set(causes)) == 1:
            return f"{causes[0]} (all {len(causes)} accounts)"
        return f"{self.accounts[0]}: {causes[0]} (and {len(causes) - 1} other account(s) failed too)"

    def failing(self) -> list[Result]:
        """Failing (unmuted) results, most severe first."""
        rows = [r for r in self.results if r.status == Status.FAIL]
        return sorted(rows, key=lambda r: (r.severity.rank, r.check_id, r.resource))

    def counts(self) -> dict[str, int]:
        """Failing (unmuted) results per severity, critical first, zeros included: the figure every surface shows
        (open_counts)."""
        return open_counts(self.results)

    def muted(self) -> int:
        """How many results a mute hid."""
        return sum(1 for r in self.results if r.status == Status.MUTED)

    def exit_code(self, fail_on: Severity | None = Severity.HIGH) -> int:
        """For CI: 2 when no account could be audited, 3 when a finding of `fail_on` or worse is open (critical or
        high by default; None: never), 4 when some accounts or checks could not run (an audit never passes for what
        it did not see), else 0."""
        if self.failure() is not None:
            return UNREACHED
        if fail_on is not None and any(Severity(r.severity).rank <= fail_on.rank for r in self.failing()):
            return 3
        return 0 if self.complete() else INCOMPLETE

    def gaps(self) -> list[dict]:
        """What could not be checked, as rows of COLUMNS with status "error" (check empty for a whole account,
        account empty when the accounts could not be listed)."""
        rows = []
        for line in self.errors:
            row = {"check": "", "severity": "", "account": "", "resource": "", "status": Status.ERROR}
            if match := _CHECK_ERROR.fullmatch(line):
                row.update(match.groupdict(), title="could not check")
            elif match := _ACCOUNT_ERROR.fullmatch(line):
                row.update(match.groupdict(), resource="account", title="could not audit the account")
            else:
                row.update(why=line, title="could not audit")
            row["detail"] = row.pop("why")
            rows.append(row)
        return rows

    def as_json(self) -> dict:
        """The JSON contract: accounts, findings, errors."""
        findings = sorted(
            self.results,
            key=lambda r: (r.status != Status.FAIL, r.severity.rank, r.check_id, r.resource),
        )
        return {
            "accounts": self.accounts,
            "findings": [r.as_dict() for r in findings],
            "errors": self.errors,
        }

    def json_text(self) -> str:
        """The JSON contract as text."""
        return json.dumps(self.as_json(), indent=2) + "\n"

    def csv_text(self) -> str:
        """Every result as CSV (the same columns as the JSON findings), then one row with status "error" for
        each check or account that could not be audited (the JSON's errors)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in [*self.as_json()["findings"], *self.gaps()]:
            writer.writerow(row)
        return out.getvalue()

    def summary_lines(self) -> list[str]:
        """The closing line(s): counts most severe first, muted, new and resolved, and whether the audit was whole."""
        counts = counts_text(self.counts())
        if self.complete():
            scope, nothing = f"{len(self.accounts)} account(s)", "no open findings"
        else:
            scope = f"{len(self.audited())} of {len(self.accounts)} account(s) audited"
            nothing = "no open findings in what could be checked"
        lines = [
            f"{scope}: {counts or nothing}; {self.muted()} muted; "
            f"{len(self.new)} new, {len(self.resolved)} resolved since the last audit"
        ]
        if not self.complete():
            skipped = sum(1 for row in self.gaps() if row["check"])
            lines.append(
                f"AUDIT INCOMPLETE: {len(self.unaudited)} account(s) not audited, {skipped} check(s) could not run "
                "(listed above as 'could not check')"
            )
        return lines
