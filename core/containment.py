"""Who the two containment buttons act on and what they put in place: one answer for the message that offers them
(slackui/blocks.py) and the AWS side that runs them (aws/remediation.py).

- Quarantine user (`iam_quarantine_user`): the alert's actor when it is an IAM user (the credentials that made the
  call), else the IAM user the alert targets.
- Revoke role sessions (`iam_revoke_sessions`): the role of the alert's actor when it is an assumed-role session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.rows import AlertRow

# AWS's managed compromised-key quarantine (the current version, V3, since 2024-08): what AWS itself attaches.
QUARANTINE_POLICY_ARN = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
# The bot's inline stand-in where that managed policy cannot be attached (another partition, a policy AWS retired).
QUARANTINE_INLINE = "IAMWardenQuarantine"
# The console's name for its "Revoke active sessions" inline policy: kept, so people and tools recognise it.
REVOKE_INLINE = "AWSRevokeOlderSessions"


@dataclass(frozen=True)
class Principal:
    """An IAM user or role by account and name (a path is not part of the name)."""

    account: str
    name: str


def _arn_parts(arn: str | None) -> tuple[str, str, str] | None:
    """(service, account, resource) of an ARN, or None when it is not one."""
    parts = (arn or "").split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[4]:
        return None
    return parts[2], parts[4], parts[5]


def quarantine_target(alert: AlertRow) -> Principal | None:
    """The IAM user Quarantine user acts on: the actor when it is an IAM user, else the user the alert targets."""
    actor = _arn_parts(alert.actor_arn)
    if alert.actor_type == "IAMUser" and alert.actor_user:
        return Principal(actor[1] if actor else alert.account or "", alert.actor_user)
    target = _arn_parts(alert.target)
    if target and target[0] == "iam" and target[2].startswith("user/"):
        name = target[2].rsplit("/", 1)[-1]
        return Principal(target[1], name) if name else None
    return None


def revoke_target(alert: AlertRow) -> Principal | None:
    """The role whose sessions Revoke role sessions ends: the role of an assumed-role actor (from its session ARN
    `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, which names the role without its path)."""
    actor = _arn_parts(alert.actor_arn)
    if alert.actor_type != "AssumedRole" or actor is None or actor[0] != "sts":
        return None
    parts = actor[2].split("/")
    if len(parts) < 3 or parts[0] != "assumed-role" or not parts[1]:
        return None
    return Principal(actor[1], parts[1])


def deny_all() -> str:
    """The inline quarantine: every action on every resource denied."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})


def deny_sessions_before(now: datetime) -> str:
    """The console's revoke-sessions policy: deny everything to credentials issued before `now` (UTC)."""
    statement = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": now.strftime("%Y-%m-%dT%H:%M:%SZ")}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
