"""A role's trust policy was written so that someone nobody vouches for may assume the role."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import ACCOUNT, iam_call, policy_json, role_session
from detections.references import aws_api, elastic, panther
from iam.trust import Problem, opened_to

# The request field holding the new trust policy, per event.
TRUST_FIELD = {"CreateRole": "assumeRolePolicyDocument", "UpdateAssumeRolePolicy": "policyDocument"}


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful CreateRole or UpdateAssumeRolePolicy whose trust admits everyone, an account outside the
    organization and IAMBOT_TRUSTED_ACCOUNTS, or an identity provider's users without a condition."""
    name = str(record.get("eventName") or "")
    field = TRUST_FIELD.get(name)
    if field is None or ct.failed(record):
        return None
    req = ct.request(record)
    role = req.get("roleName")
    raw = req.get(field)
    text = raw if isinstance(raw, str) and len(raw) <= _CACHED_CHARS else None
    document = _document(text) if text is not None else ct.policy_document(raw)
    if not isinstance(role, str) or not role or document is None:
        return None
    account = ct.account_id(record)
    vouched = ctx.trusted_accounts(account)
    if text is not None and isinstance(vouched, frozenset):
        problems: Sequence[Problem] = _opened_text(text, account, vouched)
    else:
        problems = opened_to(document, account, vouched)
    if not problems:
        return None
    arn = ct.iam_arn(account, "role", role)
    shown = "; ".join(p.text for p in problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
    title = f"Role {role} created with an open trust policy" if name == "CreateRole" else f"Role {role}'s trust opened"
    return Match(title=title, target=arn, facts={"Role": arn, "Trust": shown})


# Trust policies are judged once per text, account and vouched accounts (Terraform writes the same trusts again and
# again); up to IAM's largest trust policy, so the cache stays small whatever the input holds.
_CACHED_CHARS = 4096


@lru_cache(maxsize=512)
def _document(text: str) -> dict | None:
    return ct.policy_document(text)  # shared by the callers: read, never changed


@lru_cache(maxsize=512)
def _opened_text(text: str, account: str, vouched: frozenset[str]) -> tuple[Problem, ...]:
    document = _document(text)
    return tuple(opened_to(document, account, vouched)) if document is not None else ()


_OTHER = "999988887777"  # outside the organization
_MEMBER = "444455556666"  # an account of the organization
_GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
_OKTA = f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"
_INTRUDER = role_session("OpsAdmin", "mallory")


def _allow(principal: object, condition: dict | None = None, action: str = "sts:AssumeRole") -> dict:
    statement = {"Effect": "Allow", "Principal": principal, "Action": action}
    return statement | {"Condition": condition} if condition else statement


def _created(role: str, trust: str) -> dict:
    """CreateRole's responseElements: the role, its trust policy URL-encoded as IAM returns it."""
    return {
        "role": {
            "path": "/",
            "roleName": role,
            "roleId": "AROAYZ6LNQ4G2EXAMPLE",
            "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
            "createDate": "May 14, 2024, 9:12:45 AM",
            "assumeRolePolicyDocument": quote(trust, safe=""),
        }
    }


def _create(role: str, *statements: dict, event_id: str, **kwargs: Any) -> dict:
    trust = policy_json(*statements)
    request = {"roleName": role, "assumeRolePolicyDocument": trust, "maxSessionDuration": 3600}
    return iam_call("CreateRole", request, _created(role, trust), event_id=event_id, **kwargs)


def _update(role: str, *statements: dict, event_id: str, **kwargs: Any) -> dict:
    request = {"roleName": role, "policyDocument": policy_json(*statements)}
    return iam_call("UpdateAssumeRolePolicy", request, None, event_id=event_id, **kwargs)


RULE = Rule(
    id="role_trust_opened",
    severity=Severity.CRITICAL,
    title="Role trust policy opened",
    rationale=(
        "A role's trust policy decides who may become the role, with no password, key or IAM user needed. "
        "Adding an outside account, every AWS principal, or an identity provider's users without a condition "
        "is a quiet backdoor that survives the removal of every credential the attacker used to plant it. "
        "Trusts are judged as the audit's role_trust_open check judges them; accounts of the organization "
        "and IAMBOT_TRUSTED_ACCOUNTS are vouched for, services always are."
    ),
    response=(
        "Ask the caller why the role must trust that principal. If nobody planned it, restore the previous trust "
        "policy (`aws iam update-assume-role-policy`), then look for AssumeRole calls on the role from the new "
        "principal since the change and review the caller's other activity."
    ),
    event_names=frozenset(TRUST_FIELD),
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    reports={"MITRE ATT&CK": ("T1098", "T1098.003", "T1199")},
    references=(
        aws_api("iam.amazonaws.com", "UpdateAssumeRolePolicy"),
        aws_api("iam.amazonaws.com", "CreateRole"),
        panther("aws_iam_backdoor_role"),
        elastic("privilege_escalation_iam_update_assume_role_policy"),
    ),
    examples=(
        Example(
            "trust changed to an outside account's root",
            _update(
                "ci-deploy",
                _allow({"AWS": f"arn:aws:iam::{_OTHER}:root"}),
                event_id="3f0c6f1e-8d2a-4a47-9a43-0d7c1e5b9a01",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "role created trusting every AWS principal",
            _create("support-bridge", _allow("*"), event_id="6b1d2f0e-0c57-4d7e-8f0b-6a3e2c1d9b02"),
            expect=True,
        ),
        Example(
            "outside account trusted with an external id it chose itself",
            _update(
                "data-export",
                _allow({"AWS": _OTHER}, {"StringEquals": {"sts:ExternalId": "c0ffee-42"}}),
                event_id="a9e4c3b2-1f0d-4e8c-9b7a-5d6c4b3a2e03",
            ),
            expect=True,
        ),
        Example(
            "GitHub Actions trusted with no subject condition",
            _update(
                "gha-deploy",
                _allow(
                    {"Federated": _GITHUB},
                    {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
                    "sts:AssumeRoleWithWebIdentity",
                ),
                event_id="c2b7d8e9-3a4f-4b1c-8d0e-7f6a5b4c3d04",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "SAML provider trusted with no condition",
            _create(
                "okta-admins",
                _allow({"Federated": _OKTA}, action="sts:AssumeRoleWithSAML"),
                event_id="e5f6a7b8-9c0d-4e1f-a2b3-c4d5e6f7a805",
            ),
            expect=True,
        ),
        Example(
            "every principal, pinned by its condition to an outside account",
            _update(
                "ci-deploy",
                _allow("*", {"StringEquals": {"aws:PrincipalAccount": _OTHER}}),
                event_id="5e6f7a8b-9c0d-4e1f-8a2b-4c5d6e7f8a11",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "every principal, pinned by its condition to a role of this account",
            _update(
                "ci-deploy",
                _allow("*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/deployers/*"}}),
                event_id="6f7a8b9c-0d1e-4f2a-9b3c-5d6e7f8a9b12",
            ),
            expect=False,
        ),
        Example(
            "Lambda role created trusting the Lambda service",
            _create(
                "orders-handler",
                _allow({"Service": "lambda.amazonaws.com"}),
                event_id="0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f06",
            ),
            expect=False,
        ),
        Example(
            "trust given to an account of the organization",
            _update(
                "audit-reader",
                _allow({"AWS": f"arn:aws:iam::{_MEMBER}:role/SecurityAudit"}),
                event_id="1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c07",
            ),
            expect=False,
            context={"organization": [_MEMBER]},
        ),
        Example(
            "every principal of the organization, pinned by aws:PrincipalOrgID",
            _update(
                "shared-artifacts",
                _allow("*", {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
                event_id="2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d08",
            ),
            expect=False,
        ),
        Example(
            "SAML provider trusted for the AWS sign-in audience",
            _create(
                "okta-readonly",
                _allow(
                    {"Federated": _OKTA},
                    {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
                    "sts:AssumeRoleWithSAML",
                ),
                event_id="3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e09",
            ),
            expect=False,
        ),
        Example(
            "outside account trust refused",
            _update(
                "ci-deploy",
                _allow({"AWS": f"arn:aws:iam::{_OTHER}:root"}),
                event_id="4d5e6f7a-8b9c-4d0e-9f1a-3b4c5d6e7f10",
                error="AccessDenied",
                actor=_INTRUDER,
            ),
            expect=False,
        ),
    ),
)
