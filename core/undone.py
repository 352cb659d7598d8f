"""What a remediation button took away (a grant removed, or a deny put on), in one shape shared by the AWS side
that does it (aws/remediation.py) and the rule that notices it coming back (detections/rules/remediation_reverted)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core import cloudtrail as ct


class UndoneKind(StrEnum):
    """The kinds of grant the bot takes away."""

    KEY = "key"  # an access key set Inactive (item: its id)
    POLICY = "policy"  # a managed policy detached (item: its ARN)
    INLINE = "inline"  # an inline policy deleted (item: its name)
    # Containment (iam_quarantine_user, iam_revoke_sessions): power taken away by adding a deny, or a password.
    GUARD = "guard"  # a deny policy the bot put on (item: a managed policy's ARN or an inline policy's name)
    LOGIN_PROFILE = "login"  # a console password deleted (item: CONSOLE_LOGIN)
    # iam_remove_assignment: an IAM Identity Center account assignment deleted (principal_type "sso-user" or
    # "sso-group", principal_name the identity store id, account the assigned account, item the permission set ARN).
    ASSIGNMENT = "assignment"


CONSOLE_LOGIN = "console password"  # the item of an Undone LOGIN_PROFILE (a user has one login profile)


def sso_principal(principal_type: str) -> str:
    """The Undone principal_type of an Identity Center principal ("USER" -> "sso-user", "GROUP" -> "sso-group")."""
    return f"sso-{principal_type.lower()}"


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


def by_bot(record: dict) -> bool:
    """Whether a CloudTrail record is one of the bot's own calls: its User-Agent holds the bot's app id, or it was
    made by the member role's session (named APP_ID). Anyone can forge a User-Agent: a caller of this judges
    what passing for the bot may skip."""
    if f"app/{APP_ID}" in str(record.get("userAgent") or ""):
        return True
    actor = ct.actor_arn(record)
    return actor.startswith("arn:aws:sts::") and actor.endswith(f"/{APP_ID}")
