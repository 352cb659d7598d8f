"""The account password policy is strong: length, character classes, reuse, expiry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from checks.base import ACCOUNT, Check, Finding, fail, ok
from core.severity import Severity
from iam.snapshot import Snapshot

MIN_LENGTH = 14
MIN_REUSE = 24
MAX_AGE_DAYS = 90


@dataclass(frozen=True)
class Requirement:
    """One requirement on the password policy: what is wanted, and how to read what is set."""

    wanted: str
    met: Callable[[dict], bool]
    actual: Callable[[dict], str]


def _flag(key: str) -> Requirement:
    return Requirement(
        f"{key} is true", lambda p: p.get(key) is True, lambda p: f"it is {str(p.get(key, False)).lower()}"
    )


REQUIREMENTS = (
    Requirement(
        f"MinimumPasswordLength is at least {MIN_LENGTH}",
        lambda p: int(p.get("MinimumPasswordLength") or 0) >= MIN_LENGTH,
        lambda p: f"it is {p.get('MinimumPasswordLength', 'unset')}",
    ),
    _flag("RequireUppercaseCharacters"),
    _flag("RequireLowercaseCharacters"),
    _flag("RequireNumbers"),
    _flag("RequireSymbols"),
    Requirement(
        f"PasswordReusePrevention is at least {MIN_REUSE}",
        lambda p: int(p.get("PasswordReusePrevention") or 0) >= MIN_REUSE,
        lambda p: f"it is {p.get('PasswordReusePrevention', 'unset')}",
    ),
    Requirement(
        f"MaxPasswordAge is set to at most {MAX_AGE_DAYS} days",
        lambda p: 0 < int(p.get("MaxPasswordAge") or 0) <= MAX_AGE_DAYS,
        lambda p: f"it is {p.get('MaxPasswordAge') or 'unset (passwords never expire)'}",
    ),
)


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """One account-level failure per unmet requirement (or for a missing policy), else a single pass."""
    policy = snapshot.password_policy
    if policy is None:
        yield fail(ACCOUNT, "The account has no password policy, so IAM's default (8 characters, no rules) applies.")
        return
    unmet = [r for r in REQUIREMENTS if not r.met(policy)]
    for requirement in unmet:
        yield fail(ACCOUNT, f"Password policy: {requirement.wanted}, but {requirement.actual(policy)}.")
    if not unmet:
        yield ok(
            ACCOUNT,
            f"The password policy requires {policy['MinimumPasswordLength']}+ characters of all four classes, "
            f"blocks reuse of the last {policy['PasswordReusePrevention']} and expires passwords after "
            f"{policy['MaxPasswordAge']} days.",
        )


CHECK = Check(
    id="password_policy_strong",
    title="Weak account password policy",
    severity=Severity.MEDIUM,
    rationale=(
        "The password policy is the floor for every IAM user's console password. Long passwords with mixed "
        "character classes resist guessing and cracking; blocking reuse stops users cycling back to a password "
        "that has leaked; a maximum age bounds how long a stolen password stays valid."
    ),
    remediation=(
        "`aws iam update-account-password-policy --minimum-password-length 14 --require-uppercase-characters "
        "--require-lowercase-characters --require-numbers --require-symbols --password-reuse-prevention 24 "
        "--max-password-age 90 --allow-users-to-change-password` (or IAM > Account settings > Password policy)."
    ),
    needs=("password_policy",),
    evaluate=evaluate,
    mappings={
        "CIS AWS Foundations v5": ("1.7", "1.8"),
        "Security Hub": ("IAM.7", "IAM.11", "IAM.12", "IAM.13", "IAM.14", "IAM.15", "IAM.16", "IAM.17"),
    },
)
