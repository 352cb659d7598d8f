"""Run the registered checks over one account snapshot."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from checks.base import Check, Status
from core.severity import Severity
from iam.snapshot import Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """One result of one check in one account (the audit report's JSON names `check_id` "check")."""

    check_id: str
    severity: Severity
    account: str
    resource: str
    status: Status
    title: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        """The report's JSON object for this finding."""
        return {
            "check": self.check_id,
            "severity": self.severity.value,
            "account": self.account,
            "resource": self.resource,
            "status": self.status.value,
            "title": self.title,
            "detail": self.detail,
        }


@dataclass
class AccountAudit:
    """Every check's results for one account, plus what could not be checked and why."""

    account: str
    results: list[Result] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ran: set[str] = field(default_factory=set)  # ids of the checks that ran (a skipped check resolves nothing)


def run_checks(
    snapshot: Snapshot, checks: tuple[Check, ...], on_check: Callable[[str], None] | None = None
) -> AccountAudit:
    """Evaluate each of `checks`; a check whose snapshot parts are missing, or that raises, becomes an error line.
    `on_check` is told each check's id once it is over, run or not (for a progress bar)."""
    audit = AccountAudit(snapshot.account)
    for chk in checks:
        _run_one(snapshot, chk, audit)
        if on_check is not None:
            on_check(chk.id)
    return audit


def _run_one(snapshot: Snapshot, chk: Check, audit: AccountAudit) -> None:
    """One check's results (or its error line) into `audit`."""
    missing = snapshot.missing(chk.needs)
    if missing:
        reasons = "; ".join(f"{p}: {snapshot.errors[p]}" for p in missing)
        audit.errors.append(f"{snapshot.account}: could not check {chk.id} ({reasons})")
        return
    try:
        findings = list(chk.evaluate(snapshot))
    except Exception as err:  # one broken check must not sink the audit
        log.exception("check %s failed on account %s", chk.id, snapshot.account)
        audit.errors.append(f"{snapshot.account}: could not check {chk.id} (error: {type(err).__name__})")
        return
    audit.ran.add(chk.id)
    for finding in findings:
        audit.results.append(
            Result(
                check_id=chk.id,
                severity=finding.severity or chk.severity,
                account=snapshot.account,
                resource=finding.resource,
                status=finding.status,
                title=chk.title,
                detail=finding.detail,
            )
        )
