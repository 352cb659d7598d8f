"""What a rule mute matches, and the one refusal: a critical rule is never muted for everyone."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.rule_mutes import (
    MuteScope,
    actor_identities,
    hides,
    is_catch_all,
    matches,
    pattern_matches,
    refusal,
    similar_actor,
)
from core.severity import Severity

ROLE = "arn:aws:iam::111122223333:role/IdentityCFNServiceRole"
SESSION = "arn:aws:sts::111122223333:assumed-role/IdentityCFNServiceRole/cfn-1234"


@dataclass(frozen=True)
class Mute:
    rule: str
    scope: MuteScope
    value: str
    account: str | None = None
    id: int = 1


@dataclass(frozen=True)
class Alert:
    rule: str = "user_created"
    severity: Severity = Severity.MEDIUM
    account: str = "111122223333"
    actor_arn: str = SESSION
    target: str = "arn:aws:iam::111122223333:user/ci"


@pytest.mark.parametrize(
    ("pattern", "value", "expect"),
    [
        ("arn:aws:iam::*:role/IdentityCFNServiceRole", ROLE, True),
        ("arn:aws:iam::*:role/IdentityCFNServiceRole", "arn:aws:iam::444455556666:role/IdentityCFNServiceRole", True),
        ("arn:aws:iam::*:role/IdentityCFNServiceRole", "arn:aws:iam::111122223333:role/IdentityCFNServiceRoleX", False),
        ("arn:aws:iam::*:role/Deploy*", "arn:aws:iam::111122223333:role/DeployProd", True),
        ("arn:aws:iam::*:role/Deploy*", "arn:aws:iam::111122223333:user/DeployProd", False),
        (ROLE, ROLE, True),
        (ROLE, ROLE.upper(), False),  # ARNs are compared as written
        ("arn:aws:iam::1.2:root", "arn:aws:iam::1x2:root", False),  # a dot is a dot, not any character
        ("*", "anything at all", True),
        ("*", "", False),
        ("*", None, False),
    ],
)
def test_pattern_matches(pattern, value, expect):
    assert pattern_matches(pattern, value) is expect


def test_an_assumed_role_session_is_also_its_role():
    assert actor_identities(SESSION) == (SESSION, ROLE)
    assert actor_identities(ROLE) == (ROLE,)
    assert actor_identities(None) == ()
    assert similar_actor(SESSION) == ROLE
    assert similar_actor("arn:aws:iam::111122223333:user/ci") == "arn:aws:iam::111122223333:user/ci"


def test_matches_by_scope_rule_and_account():
    alert = Alert()
    assert matches(Mute("user_created", MuteScope.ACTOR, "arn:aws:iam::*:role/IdentityCFNServiceRole"), alert)
    assert matches(Mute("user_created", MuteScope.ACTOR, SESSION), alert)
    assert not matches(Mute("privileged_grant", MuteScope.ACTOR, ROLE), alert)  # another rule
    assert matches(Mute("user_created", MuteScope.TARGET, "arn:aws:iam::*:user/ci"), alert)
    assert not matches(Mute("user_created", MuteScope.TARGET, ROLE), alert)  # the actor is not the target
    assert matches(Mute("user_created", MuteScope.ACCOUNT, "111122223333"), alert)
    assert not matches(Mute("user_created", MuteScope.ACCOUNT, "444455556666"), alert)
    assert matches(Mute("user_created", MuteScope.ACTOR, ROLE, account="111122223333"), alert)
    assert not matches(Mute("user_created", MuteScope.ACTOR, ROLE, account="444455556666"), alert)


@pytest.mark.parametrize(
    ("scope", "value", "catch_all"),
    [
        (MuteScope.ACTOR, "*", True),
        (MuteScope.ACTOR, "arn:aws:iam::*:*", True),
        (MuteScope.TARGET, "arn:aws:iam::*:role/*", True),
        (MuteScope.ACTOR, "arn:*", True),
        (MuteScope.ACTOR, "arn:aws:iam::*:role/IdentityCFNServiceRole", False),
        (MuteScope.TARGET, "arn:aws:iam::*:role/Deploy*", False),
        (MuteScope.ACCOUNT, "111122223333", True),
    ],
)
def test_catch_all(scope, value, catch_all):
    assert is_catch_all(scope, value) is catch_all


def test_a_critical_rule_is_never_muted_for_everyone():
    assert "never hides a critical rule" in refusal(Severity.CRITICAL, MuteScope.ACTOR, "*")
    assert "account-wide" in refusal(Severity.CRITICAL, MuteScope.ACCOUNT, "111122223333")
    assert refusal(Severity.CRITICAL, MuteScope.ACTOR, ROLE) is None
    assert refusal(Severity.HIGH, MuteScope.ACTOR, "*") is None
    # A catch-all mute stored for a rule while it was not critical still never hides a critical alert.
    catch_all = Mute("guardrail_removed", MuteScope.ACTOR, "*")
    assert hides(catch_all, Alert(rule="guardrail_removed", severity=Severity.HIGH))
    assert not hides(catch_all, Alert(rule="guardrail_removed", severity=Severity.CRITICAL))
    named = Mute("guardrail_removed", MuteScope.ACTOR, ROLE)
    assert hides(named, Alert(rule="guardrail_removed", severity=Severity.CRITICAL))
