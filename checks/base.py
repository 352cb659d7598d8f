"""The shape every audit check has: declared metadata plus one function over an account snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from core.severity import Severity
from iam.snapshot import PARTS, Snapshot

ACCOUNT = "account"  # the resource of an account-wide finding


class Status(StrEnum):
    """A finding's status, as the JSON report states it."""

    FAIL = "fail"
    MUTED = "muted"
    PASS = "pass"  # noqa: S105 (a status, not a password)
    ERROR = "error"  # a report row for what could not be checked; no check's finding has it


@dataclass(frozen=True)
class Finding:
    """One resource's result for one check: status plus a sentence of detail."""

    resource: str  # the resource's ARN, or "account" for account-wide checks
    status: Status
    detail: str
    severity: Severity | None = None  # override the check's severity (e.g. an admin without MFA is critical)


def fail(resource: str, detail: str, severity: Severity | None = None) -> Finding:
    """A failing finding."""
    return Finding(resource, Status.FAIL, detail, severity)


def ok(resource: str, detail: str) -> Finding:
    """A passing finding."""
    return Finding(resource, Status.PASS, detail)


@dataclass(frozen=True)
class Check:
    """An audit check: id, title, severity, rationale, remediation, compliance mappings, and logic."""

    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    needs: tuple[str, ...]  # snapshot parts read; if one is missing the check reports "could not check"
    evaluate: Callable[[Snapshot], Iterable[Finding]]
    # {"CIS AWS Foundations v5": ("1.3",), "Security Hub": ("IAM.4",)}: compliance ids, kept out of the logic
    mappings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [p for p in self.needs if p not in PARTS]
        if unknown:
            raise ValueError(f"check {self.id} needs unknown snapshot parts {unknown}")
