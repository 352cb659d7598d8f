"""A failing check result as the audit hands it to the store, for tests and benchmarks that seed findings."""

from __future__ import annotations

from checks.base import Status
from checks.engine import Result
from core.severity import Severity


def failing(check_id: str, account: str, resource: str, severity: str, title: str, detail: str = "detail") -> Result:
    """The audit's result for one failing (not muted) resource."""
    return Result(check_id, Severity(severity), account, resource, Status.FAIL, title, detail)
