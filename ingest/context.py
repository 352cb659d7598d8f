"""The RuleContext the pipeline gives rules: correlation from the store, facts from AWS when reachable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from core import cloudtrail as ct
from core.alert import Alert
from storage import Store


def cloudtrail_time(moment: datetime) -> str:
    """A datetime as CloudTrail writes eventTime (`2024-05-14T09:12:45Z`), so stored times compare as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        self._batch_events: list[tuple[str, str, str, str]] = []  # (actor, eventName, eventTime, errorCode)

    def begin_batch(self) -> None:
        """Forget the previous batch's not-yet-stored facts."""
        self._batch_users.clear()
        self._batch_events.clear()

    def note_event(self, record: dict) -> None:
        """Remember a record of this batch before the rules see it (the batch is stored only at its end)."""
        if record.get("errorCode"):
            self._batch_events.append(
                (ct.actor_arn(record), str(record["eventName"]), str(record["eventTime"]), str(record["errorCode"]))
            )

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

    def refused_calls(
        self, actor: str, event_names: frozenset[str], error_codes: frozenset[str], since: datetime, until: datetime
    ) -> int:
        """See RuleContext: the stored events plus this batch's, the current record included."""
        low, high = cloudtrail_time(since), cloudtrail_time(until)
        in_batch = sum(
            1
            for who, name, when, code in self._batch_events
            if who == actor and name in event_names and code in error_codes and low <= when <= high
        )
        return in_batch + self.store.refused_calls(actor, event_names, error_codes, low, high)

    def user_created_recently(self, account: str, user_name: str, at: datetime) -> str | None:
        """See RuleContext: looks in this batch first, then in the store."""
        hit = self._batch_users.get((account, user_name))
        if hit and (hit[1] is None or at - hit[1] <= self.window):
            return hit[0]
        return self.store.user_created_event(account, user_name, at - self.window)
