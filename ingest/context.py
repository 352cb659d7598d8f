"""The RuleContext the pipeline gives rules: the rules' declared memory, facts from AWS when reachable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from core.times import utc
from detections import all_rules
from detections.memory import Fact, MemoryBook
from iam.snapshot import PermissionSetReach
from storage import Store


class IamFacts(Protocol):
    """Read-only IAM lookups a rule may need (implemented over boto3 in aws/lookups.py)."""

    def managed_policy_document(self, account: str, policy_arn: str) -> dict | None: ...

    def policy_version_document(self, account: str, policy_arn: str, version_id: str) -> dict | None: ...

    def group_documents(self, account: str, group_name: str) -> list[dict] | None: ...

    def user_documents(self, account: str, user_name: str) -> list[dict] | None: ...
    def inline_policy_document(self, account: str, kind: str, principal: str, policy_name: str) -> dict | None: ...

    def organization_accounts(self) -> frozenset[str] | None: ...

    def organization_policy_type(self, policy_id: str) -> str | None: ...

    def permission_set_reach(
        self, account: str, region: str, instance_arn: str, permission_set_arn: str
    ) -> PermissionSetReach | None: ...


class PipelineContext:
    """Answers rules' questions. Without `iam` (offline replay) every AWS lookup answers None, and only the record's
    account and `trusted_accounts` (IAMBOT_TRUSTED_ACCOUNTS) are trusted.

    The memory the rules declare is read back from the store once, here, and kept up to date by the pipeline, so a
    restart or a redelivery sees what one long run would have seen.
    """

    def __init__(
        self,
        store: Store,
        iam: IamFacts | None = None,
        correlation_minutes: int = 60,
        trusted_accounts: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.iam = iam
        self.trusted = trusted_accounts
        self.memory = MemoryBook(all_rules(), correlation_minutes)
        self._seen_seq = 0
        self.refresh()
        if store.memory_rebuild_pending():
            self._rebuild()

    def refresh(self) -> None:
        """Take in the memory stored since the last look: at start-up everything, later what other instances
        sharing the database remembered (this instance's own facts come back too and are filed once)."""
        rows = self.store.memory_rows(self.memory.names, after=self._seen_seq)
        if rows:
            self._seen_seq = rows[-1].seq
            self.memory.load(Fact(r.rule, r.memory, r.key, r.event_id, r.value, r.at) for r in rows)

    def _rebuild(self) -> None:
        """Rebuild the memory of a database from before the memory table from its last events and alerts."""
        latest = utc(self.store.latest_event_time())
        if latest is not None:
            since = latest - self.memory.longest()
            text = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            alerts = [
                row
                for rule_id in sorted(self.memory.alert_rules())
                for row in self.store.alerts(rule=rule_id)
                if (row.event_time or "") >= text
            ]
            self.memory.rebuild(self.store.events_since(text), alerts)
        self.store.memory_rebuilt(self.memory.pending())

    def managed_policy_document(self, account: str, policy_arn: str) -> dict | None:
        """See RuleContext."""
        return self.iam.managed_policy_document(account, policy_arn) if self.iam else None

    def policy_version_document(self, account: str, policy_arn: str, version_id: str) -> dict | None:
        """See RuleContext."""
        return self.iam.policy_version_document(account, policy_arn, version_id) if self.iam else None

    def group_documents(self, account: str, group_name: str) -> list[dict] | None:
        """See RuleContext."""
        return self.iam.group_documents(account, group_name) if self.iam else None

    def user_documents(self, account: str, user_name: str) -> list[dict] | None:
        """See RuleContext."""
        return self.iam.user_documents(account, user_name) if self.iam else None

    def inline_policy_document(self, account: str, kind: str, principal: str, policy_name: str) -> dict | None:
        """See RuleContext."""
        return self.iam.inline_policy_document(account, kind, principal, policy_name) if self.iam else None

    def organization_policy_type(self, policy_id: str) -> str | None:
        """See RuleContext."""
        return self.iam.organization_policy_type(policy_id) if self.iam else None

    def permission_set_reach(
        self, account: str, region: str, instance_arn: str, permission_set_arn: str
    ) -> PermissionSetReach | None:
        """See RuleContext."""
        if not self.iam or not (instance_arn and permission_set_arn and account):
            return None
        return self.iam.permission_set_reach(account, region, instance_arn, permission_set_arn)

    def trusted_accounts(self, account: str) -> frozenset[str]:
        """See RuleContext."""
        organization = self.iam.organization_accounts() if self.iam else None
        return self.trusted | {account} | (organization or frozenset())

    def holds(self, memory: str) -> bool:
        """See RuleContext."""
        return self.memory.holds(memory)

    def recall(self, memory: str, key: str, at: datetime) -> str | None:
        """See RuleContext."""
        return self.memory.recall(memory, key, at)

    def count(self, memory: str, key: str, since: datetime, until: datetime) -> int:
        """See RuleContext."""
        return self.memory.count(memory, key, since, until)
