"""Who a role's trust policy lets assume the role, and which of those trusts are open: one owner for the audit's
role_trust_open check and the role_trust_opened detection."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from fnmatch import fnmatchcase

from core.severity import Severity

ASSUME_ACTIONS = ("sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml")
ORG_AND_SOURCE_KEYS = (
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
)
# Condition keys that pin who the caller is (its organization, account or source resource).
IDENTITY_KEYS = frozenset(k.lower() for k in (*ORG_AND_SOURCE_KEYS, "aws:PrincipalAccount", "aws:PrincipalArn"))
# For a trusted foreign account: an external id (confused-deputy guard) or an organization / source pin.
CROSS_ACCOUNT_KEYS = frozenset(k.lower() for k in (*ORG_AND_SOURCE_KEYS, "sts:ExternalId"))
KEY_NAMES = {k.lower(): k for k in (*ORG_AND_SOURCE_KEYS, "aws:PrincipalAccount", "aws:PrincipalArn", "sts:ExternalId")}
# Web identity providers shared by everyone: without a condition on these keys, any of their users qualifies.
SHARED_PROVIDERS = {
    "token.actions.githubusercontent.com": "token.actions.githubusercontent.com:sub",
    "cognito-identity.amazonaws.com": "cognito-identity.amazonaws.com:aud",
}
POSITIVE_OPERATORS = frozenset({"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"})
NEGATED_OPERATORS = frozenset(
    {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
)
ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Problem:
    """One way a trust statement lets in someone it should not."""

    severity: Severity
    text: str


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _covers_assume(statement: dict) -> bool:
    """Whether a statement's actions cover one of the AssumeRole actions."""
    if "NotAction" in statement:
        excluded = [p.lower() for p in _as_list(statement["NotAction"]) if isinstance(p, str)]
        return any(not any(fnmatchcase(a, p) for p in excluded) for a in ASSUME_ACTIONS)
    patterns = [p.lower() for p in _as_list(statement.get("Action")) if isinstance(p, str)]
    return any(fnmatchcase(a, p) for a in ASSUME_ACTIONS for p in patterns)


def restricting_keys(condition: object, operators: frozenset[str] = POSITIVE_OPERATORS) -> set[str]:
    """Condition keys (lowercase) that a statement requires to match something specific.

    Only positive string/ARN operators count (negated ones, for a Deny); `...IfExists` and `ForAllValues:`
    pass when the key is absent, and a value made only of wildcards matches everything, so neither restricts.
    """
    keys: set[str] = set()
    if not isinstance(condition, dict):
        return keys
    for operator, block in condition.items():
        op = str(operator)
        if op.startswith("ForAllValues:") or op.endswith("IfExists"):
            continue
        if op.removeprefix("ForAnyValue:") not in operators or not isinstance(block, dict):
            continue
        for key, value in block.items():
            values = _as_list(value)
            if values and all(isinstance(v, str) and v.strip("*?") for v in values):
                keys.add(str(key).lower())
    return keys


def pinned_accounts(condition: object) -> frozenset[str]:
    """Accounts a statement's positive conditions pin the caller to (aws:PrincipalAccount / aws:SourceAccount
    values, the account field of aws:PrincipalArn / aws:SourceArn values), so `Principal: *` admits them."""
    found: set[str] = set()
    if not isinstance(condition, dict):
        return frozenset()
    for operator, block in condition.items():
        op = str(operator)
        if op.startswith("ForAllValues:") or op.endswith("IfExists") or not isinstance(block, dict):
            continue
        if op.removeprefix("ForAnyValue:") not in POSITIVE_OPERATORS:
            continue
        for key, value in block.items():
            name = str(key).lower()
            for item in (v for v in _as_list(value) if isinstance(v, str)):
                if name in ("aws:principalaccount", "aws:sourceaccount") and ACCOUNT_ID.match(item):
                    found.add(item)
                elif name in ("aws:principalarn", "aws:sourcearn") and ACCOUNT_ID.match(_account_of(item)):
                    found.add(_account_of(item))
    return frozenset(found)


def _principals(statement: dict) -> dict[str, list[str]]:
    """Principal type -> values; `NotPrincipal` in an Allow and `Principal: "*"` both mean everyone."""
    if "NotPrincipal" in statement:
        return {"AWS": ["*"]}
    raw = statement.get("Principal")
    if raw == "*":
        return {"AWS": ["*"]}
    if not isinstance(raw, dict):
        return {}
    return {kind: [str(v) for v in _as_list(values)] for kind, values in raw.items()}


def _account_of(value: str) -> str:
    """The account an AWS principal value names: `*` for any, `` for a unique id (a deleted principal)."""
    if "*" in value:
        return "*"
    if ACCOUNT_ID.match(value):
        return value
    fields = value.split(":", 5)
    return fields[4] if value.startswith("arn:") and len(fields) == 6 else ""


def _names(keys: set[str]) -> str:
    """Condition keys as IAM spells them, e.g. `aws:PrincipalOrgID, sts:ExternalId`."""
    return ", ".join(sorted(KEY_NAMES.get(k, k) for k in keys))


def judge(kind: str, value: str, keys: set[str], account: str) -> Problem | str:
    """A problem with trusting one principal under a statement's restricting condition keys, or who it is."""
    if kind == "Service":
        return f"service {value}"
    if kind == "Federated":
        provider = value.split("oidc-provider/", 1)[-1]
        needed = SHARED_PROVIDERS.get(provider)
        if needed and needed not in keys:
            return Problem(Severity.CRITICAL, f"trusts {provider} with no condition on {needed}, so any user of it can")
        return f"identity provider {provider}"
    if kind != "AWS":
        return f"{kind} {value}"
    owner = _account_of(value)
    if owner == "*":
        if keys & IDENTITY_KEYS:
            return f"any principal matching {_names(keys & IDENTITY_KEYS)}"
        guard = " (sts:ExternalId alone is a shared string, not an identity)" if keys else ""
        return Problem(Severity.CRITICAL, f"trusts every AWS principal ({value}){guard}")
    if owner == account:
        return "this account"
    if not owner:
        return f"the unique id {value} (a deleted principal, which nobody can use)"
    if keys & CROSS_ACCOUNT_KEYS:
        return f"account {owner} (with {_names(keys & CROSS_ACCOUNT_KEYS)})"
    return Problem(Severity.HIGH, f"trusts {value} in account {owner} with no sts:ExternalId or organization condition")


def deny_guards(document: dict) -> set[str]:
    """Identity keys that a Deny on everyone enforces for the whole policy, e.g. Deny `*` unless
    aws:PrincipalOrgID equals the organization (StringNotEquals)."""
    keys: set[str] = set()
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Deny" or not _covers_assume(statement):
            continue
        if _principals(statement).get("AWS") == ["*"] and "NotPrincipal" not in statement:
            keys |= restricting_keys(statement.get("Condition"), NEGATED_OPERATORS)
    return keys


@dataclass(frozen=True)
class Trustee:
    """One principal an Allow on sts:AssumeRole* admits, with the condition keys that pin it down."""

    kind: str  # "AWS", "Service", "Federated", ...
    value: str  # as the policy names it
    keys: frozenset[str]  # restricting condition keys (lowercase), the policy's Deny guards included
    verdict: Problem | str  # what `judge` says about it
    pinned: frozenset[str] = frozenset()  # accounts the statement's conditions pin the caller to

    @property
    def account(self) -> str | None:
        """For an AWS principal, the account it names (`*` for any, `` for a unique id); None otherwise."""
        return _account_of(self.value) if self.kind == "AWS" else None


def trustees(document: dict, account: str) -> list[Trustee]:
    """Every principal the trust policy's Allow statements on sts:AssumeRole* admit, judged from `account`."""
    found: list[Trustee] = []
    guards = deny_guards(document)
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow" or not _covers_assume(statement):
            continue
        keys = restricting_keys(statement.get("Condition")) | guards
        pinned = pinned_accounts(statement.get("Condition"))
        for kind, values in _principals(statement).items():
            for value in values:
                found.append(Trustee(kind, value, frozenset(keys), judge(kind, value, keys, account), pinned))
    return found


def review(document: dict, account: str) -> tuple[list[Problem], list[str]]:
    """The problems in a trust policy's Allow statements on sts:AssumeRole*, and whom it trusts otherwise."""
    problems: list[Problem] = []
    trusted: list[str] = []
    for trustee in trustees(document, account):
        if isinstance(trustee.verdict, Problem):
            problems.append(trustee.verdict)
        else:
            trusted.append(trustee.verdict)
    return problems, list(dict.fromkeys(trusted))


def opened_to(document: dict, account: str, vouched: Collection[str]) -> list[Problem]:
    """Who a new trust policy lets in that nobody vouches for, worst first: everyone or a shared identity provider
    without the condition that pins the caller (as `judge` finds), a federated principal with no condition at all,
    or an account outside `vouched` (the organization's and the operator's trusted accounts) whatever the
    condition, since an external id is a string the trusted party itself chooses. Services never count."""
    problems: list[Problem] = []
    allowed = {account, *vouched}
    for trustee in trustees(document, account):
        owner = trustee.account
        if isinstance(trustee.verdict, Problem) and (trustee.kind != "AWS" or owner == "*"):
            problems.append(trustee.verdict)
        elif trustee.kind == "Federated" and not trustee.keys:
            problems.append(Problem(Severity.HIGH, f"trusts {trustee.value} with no condition"))
        elif owner and owner != "*" and owner not in allowed:
            guard = f" (with {_names(set(trustee.keys))})" if trustee.keys else ""
            text = f"trusts account {owner}{guard}, outside the organization and IAMBOT_TRUSTED_ACCOUNTS"
            problems.append(Problem(Severity.HIGH, text))
        elif owner == "*" and (outside := sorted(trustee.pinned - allowed)):
            text = f"trusts every principal of account {', '.join(outside)} (named in its condition), outside the "
            problems.append(Problem(Severity.HIGH, text + "organization and IAMBOT_TRUSTED_ACCOUNTS"))
    problems.sort(key=lambda p: p.severity.rank)
    return problems


# --- cross-service confused deputy (the audit's role_service_confused_deputy check) ------------------------------

# Condition keys that tie a service's use of a role to this account's own resources.
SOURCE_KEYS = frozenset(
    k.lower() for k in ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths")
)
# Services that AWS documents as acting only for resources in the role's own account (Prowler exempts the same).
SAME_ACCOUNT_SERVICES = frozenset({"secretsmanager.amazonaws.com", "eks.amazonaws.com"})


def unguarded_services(document: dict, account: str) -> list[str]:
    """The AWS service principals the trust policy admits with no aws:SourceAccount, aws:SourceArn (or source
    organization) condition, so the service may assume the role on behalf of another customer's resource."""
    found = [
        t.value
        for t in trustees(document, account)
        if t.kind == "Service"
        and (t.value == "*" or t.value.endswith((".amazonaws.com", ".amazon.com")))
        and t.value not in SAME_ACCOUNT_SERVICES
        and not t.keys & SOURCE_KEYS
    ]
    return list(dict.fromkeys(found))
