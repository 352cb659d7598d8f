"""What the listeners need, built once by the wiring (app/wiring.py) and passed in (tests pass fakes)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from audit.service import AuditService
from aws.remediation import Remediator
from checks.base import Check
from core.feed import FeedHealth
from storage import Store


@dataclass(frozen=True)
class Deps:
    """The listeners' dependencies and authorisation settings."""

    store: Store
    remediator: Remediator
    admins: frozenset[str]
    responders: frozenset[str] = frozenset()
    approvals: int = 1
    audits: AuditService | None = None
    checks: tuple[Check, ...] = ()  # the audit checks (the ids `/iam mute` accepts)
    feed: Callable[[], FeedHealth] | None = None  # reads the event feed's health (App Home shows it)
    after_ack: Executor | None = None  # runs a button's work after its ack (app/ack_first.py); None: Bolt's lazy pool

    def may_remediate(self, user: str) -> bool:
        """Only listed admins may press destructive buttons."""
        return user in self.admins

    def may_acknowledge(self, user: str) -> bool:
        """Admins and responders may acknowledge."""
        return user in self.admins or user in self.responders
