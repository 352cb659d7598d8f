"""What a rule mute is and what it matches: a detection rule silenced for an actor, a target or an account.

One owner for the matching and for the one refusal (a mute never hides a critical alert for everyone): the
`/iam mute-rule` command and the Mute similar button ask `refusal` before storing, and the pipeline asks
`hides` for every alert, so a mute made before a rule became critical still cannot hide it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

from core.severity import Severity


class MuteScope(StrEnum):
    """What a rule mute's value is compared with."""

    ACTOR = "actor"  # the caller's ARN (an assumed-role session also as its role's ARN)
    TARGET = "target"  # the identity or resource the alert is about
    ACCOUNT = "account"  # the account the event happened in


class RuleMute(Protocol):
    """What matching reads of a stored rule mute (core.rows.RuleMuteRow is one)."""

    @property
    def id(self) -> int: ...
    @property
    def rule(self) -> str: ...
    @property
    def scope(self) -> MuteScope: ...
    @property
    def value(self) -> str: ...
    @property
    def account(self) -> str | None: ...


class Muted(Protocol):
    """What matching reads of an alert (core.alert.Alert and core.rows.AlertRow have it)."""

    @property
    def rule(self) -> str | None: ...
    @property
    def severity(self) -> Severity | None: ...
    @property
    def account(self) -> str | None: ...
    @property
    def actor_arn(self) -> str | None: ...
    @property
    def target(self) -> str | None: ...


_ASSUMED_ROLE = re.compile(r"arn:(aws[a-z-]*):sts::([0-9]{12}):assumed-role/([^/]+)/.+")


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.S)


def pattern_matches(pattern: str, value: str | None) -> bool:
    """Whether `value` is `pattern`, where each `*` in the pattern stands for any run of characters (`/` and `:`
    included). An empty value matches nothing."""
    if not value:
        return False
    if "*" not in pattern:
        return pattern == value
    return _compiled(pattern).fullmatch(value) is not None


def actor_identities(actor_arn: str | None) -> tuple[str, ...]:
    """The ARNs an actor is known by: its own and, for an assumed-role session, its role's (without the role's
    path, which the session ARN does not carry), so that one mute covers every session of a role."""
    if not actor_arn:
        return ()
    session = _ASSUMED_ROLE.fullmatch(actor_arn)
    if session is None:
        return (actor_arn,)
    partition, account, role = session.groups()
    return actor_arn, f"arn:{partition}:iam::{account}:role/{role}"


def similar_actor(actor_arn: str) -> str:
    """The actor value the Mute similar button mutes: an assumed-role session's role (every session of it), else
    the actor's exact ARN."""
    return actor_identities(actor_arn)[-1] if actor_arn else actor_arn


def is_catch_all(scope: MuteScope, value: str) -> bool:
    """Whether a mute covers everyone: an account-wide mute, or a pattern whose name (what follows its last `/` or
    `:`) is only wildcards, such as `*`, `arn:aws:iam::*:*` or `arn:aws:iam::*:role/*`."""
    if scope == MuteScope.ACCOUNT:
        return True
    name = re.split(r"[/:]", value)[-1]
    return name.strip("*") == ""


def refusal(rule_severity: Severity, scope: MuteScope, value: str) -> str | None:
    """Why such a mute must not be made (None: it may): a critical rule is muted only for a named actor or target."""
    if rule_severity == Severity.CRITICAL and is_catch_all(scope, value):
        # The value is not echoed: it is user input, and the caller shows it as it sees fit.
        what = (
            "an account-wide mute"
            if scope == MuteScope.ACCOUNT
            else "a pattern whose name is only `*` matches everyone"
        )
        return (
            f"The rule is critical and {what}: a mute never hides a critical rule for `*`. "
            "Mute it for a named actor or target (an exact ARN, or a pattern whose name is not just `*`)."
        )
    return None


def matches(mute: RuleMute, alert: Muted) -> bool:
    """Whether the mute names this alert's rule and its actor, target or account (and the mute's account, if set)."""
    if mute.rule != alert.rule:
        return False
    if mute.account and mute.account != alert.account:
        return False
    if mute.scope == MuteScope.ACCOUNT:
        return mute.value == alert.account
    if mute.scope == MuteScope.TARGET:
        return pattern_matches(mute.value, alert.target)
    return any(pattern_matches(mute.value, arn) for arn in actor_identities(alert.actor_arn))


def hides(mute: RuleMute, alert: Muted) -> bool:
    """Whether the mute keeps this alert out of Slack: it matches, and it is not a catch-all over a critical alert
    (whatever severity the rule had when the mute was made)."""
    if not matches(mute, alert):
        return False
    return not (alert.severity == Severity.CRITICAL and is_catch_all(mute.scope, mute.value))
