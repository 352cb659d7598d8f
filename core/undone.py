"""What a remediation button took away, in one shape shared by the AWS side that does it (aws/remediation.py) and
the rule that notices it coming back (detections/rules/remediation_reverted.py)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class UndoneKind(StrEnum):
    """The kinds of grant the bot takes away."""

    KEY = "key"  # an access key set Inactive (item: its id)
    POLICY = "policy"  # a managed policy detached (item: its ARN)
    INLINE = "inline"  # an inline policy deleted (item: its name)


@dataclass(frozen=True)
class Undone:
    """One grant the bot took away from one principal (`principal_type` user, group or role) in one account."""

    account: str
    principal_type: str
    principal_name: str
    kind: UndoneKind
    item: str

    def key(self) -> str:
        """The memory key of this grant (names, ids and ARNs hold no '|')."""
        return "|".join((self.account, self.principal_type, self.principal_name, self.kind, self.item))


APP_ID = "iam-warden"  # the bot's boto3 app id: its calls' User-Agent, as CloudTrail logs it, holds "app/iam-warden"
