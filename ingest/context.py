"""The RuleContext the pipeline gives rules: correlation from the store, facts from AWS when reachable."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from core.alert import Alert
from storage import Store


class IamFacts(Protocol):
    """Read-only IAM lookups a rule may need (implemented over boto3 in aws/lookups.py)."""

    def managed_policy_document(self, account: str, policy_arn: str) -> dict | None: ...

    def policy_version_document(self, account: str, policy_arn: str, version_id: str) -> dict | None: ...

    def group_documents(self, account: str, group_name: str) -> list[dict] | None: ...


class PipelineContext:
    """Answers rules' questions. Without `iam` (offline replay) every AWS lookup answers None."""

    def __init__(self, store: Store, iam: IamFacts | None = None, correlation_minutes: int = 60) -> None:
        self.store = store
        self.iam = iam
        self.window = timedelta(minutes=correlation_minutes)
        self._batch_users: dict[tuple[str, str], tuple[str, datetime | None]] = {}

    def begin_batch(self) -> None:
        """Forget the previous batch's not-yet-stored facts."""
        self._batch_users.clear()

    def note_user_created(self, alert: Alert, at: datetime | None) -> None:
        """Remember a CreateUser seen in this batch (it is stored only at the end of the batch)."""
        name = (alert.target or "").rsplit("/", 1)[-1]
        if name:
            self._batch_users[(alert.account, name)] = (alert.event_id, at)

    def managed_policy_document(self, account: str, policy_arn: str) -> dict | None:
        """See RuleContext."""
        return self.iam.managed_policy_document(account, policy_arn) if self.iam else None

    def policy_version_document(self, account: str, policy_arn: str, version_id: str) -> dict | None:
        """See RuleContext."""
        return self.iam.policy_version_document(account, policy_arn, version_id) if self.iam else None

    def group_documents(self, account: str, group_name: str) -> list[dict] | None:
        """See RuleContext."""
        return self.iam.group_documents(account, group_name) if self.iam else None

    def user_created_recently(self, account: str, user_name: str, at: datetime) -> str | None:
        """See RuleContext: looks in this batch first, then in the store."""
        hit = self._batch_users.get((account, user_name))
        if hit and (hit[1] is None or at - hit[1] <= self.window):
            return hit[0]
        return self.store.user_created_event(account, user_name, at - self.window)
