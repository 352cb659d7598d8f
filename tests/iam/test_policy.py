"""Policy semantics: what a document lets its holder do."""

from __future__ import annotations

import pytest

from iam import policy
from iam.policy import (
    KNOWN_MANAGED,
    Power,
    Verdict,
    judge_document,
    judge_documents,
    judge_managed_arn,
    name_looks_privileged,
)

ACCOUNT = "111122223333"


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: object, resource: object = "*", **extra: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: object, resource: object = "*", **extra: object) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


POWER_USER = doc(
    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
    allow(["account:GetAccountInformation", "iam:CreateServiceLinkedRole", "iam:ListRoles"]),
)


@pytest.mark.parametrize(
    ("document", "power"),
    [
        pytest.param(doc(allow("*")), Power.ADMIN, id="allow-everything"),
        pytest.param(doc(allow(["*"], ["*"])), Power.ADMIN, id="lists"),
        pytest.param(doc(allow("*"), deny("iam:CreateUser")), Power.ADMIN, id="tiny-deny"),
        pytest.param(
            doc({"Effect": "Allow", "NotAction": ["organizations:*", "account:*"], "Resource": "*"}),
            Power.ADMIN,
            id="notaction-tiny-exclusions",
        ),
        pytest.param(
            doc({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::vault/*"}),
            Power.ADMIN,
            id="notresource",
        ),
        pytest.param(doc(allow("iam:*")), Power.IAM_ADMIN, id="iam-star"),
        pytest.param(doc(allow("iam:*", f"arn:aws:iam::{ACCOUNT}:*")), Power.IAM_ADMIN, id="iam-star-account-wide"),
        pytest.param(
            doc(allow("*"), {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}),
            Power.IAM_ADMIN,
            id="deny-all-but-iam",
        ),
        pytest.param(doc(allow("iam:CreatePolicyVersion")), Power.ESCALATION, id="create-policy-version"),
        pytest.param(doc(allow("iam:attachuserpolicy")), Power.ESCALATION, id="lowercase-action"),
        pytest.param(
            doc(allow("iam:AttachUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/*")),
            Power.ESCALATION,
            id="every-user",
        ),
        pytest.param(
            doc(allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/*"), allow(["ec2:RunInstances"])),
            Power.ESCALATION,
            id="passrole-plus-ec2",
        ),
        pytest.param(doc(allow("iam:*", f"arn:aws:iam::{ACCOUNT}:user/bob")), Power.ESCALATION, id="iam-star-one-user"),
        pytest.param(
            doc(allow("iam:*", f"arn:aws:iam::{ACCOUNT}:role/deployer")),
            Power.ESCALATION,
            id="iam-star-one-role",
        ),
        pytest.param(doc(deny("*")), Power.NONE, id="deny-only"),
        pytest.param(doc(allow("*"), deny("*")), Power.NONE, id="allow-all-deny-all"),
        pytest.param(doc(allow("*"), deny("iam:*")), Power.NONE, id="everything-but-iam"),
        pytest.param(POWER_USER, Power.NONE, id="power-user"),
        pytest.param(doc(allow(["s3:Get*", "s3:List*", "iam:Get*", "iam:List*"])), Power.NONE, id="read-only"),
        pytest.param(doc(allow("*", "arn:aws:s3:::reports/*")), Power.NONE, id="everything-on-one-bucket"),
        pytest.param(doc(allow("iam:Get*", f"arn:aws:iam::{ACCOUNT}:user/bob")), Power.NONE, id="read-one-user"),
        pytest.param(
            doc(allow("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/app")),
            Power.NONE,
            id="one-policy",
        ),
        pytest.param(
            doc(allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/app"), allow(["ec2:RunInstances"])),
            Power.NONE,
            id="passrole-one-role",
        ),
        pytest.param(doc(allow("iam:*"), deny("iam:*")), Power.NONE, id="iam-cancelled"),
    ],
)
def test_judge_document(document: dict, power: Power) -> None:
    assert judge_document(document).power is power


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"Statement": None},
        {"Statement": "nope"},
        {"Statement": [None, 3, "x"]},
        {"Statement": [{"Action": "*"}]},
        {"Statement": {"Effect": "Allow", "Action": 7, "Resource": None}},
        {"Statement": [{"Effect": "Allow"}]},
    ],
)
def test_malformed_documents_grant_nothing(document: dict) -> None:
    assert judge_document(document).power is Power.NONE


def test_single_statement_object_is_read() -> None:
    assert judge_document({"Statement": allow("*")}).power is Power.ADMIN


def test_summaries_are_human() -> None:
    assert judge_document(doc(allow("*"))).summary == "grants every action on every resource"
    assert judge_document(doc(allow("iam:*"))).summary == "grants iam:* (full IAM control)"
    assert "CreatePolicyVersion" in judge_document(doc(allow("iam:CreatePolicyVersion"))).summary
    assert judge_document(doc(allow("*"), deny("iam:CreateUser"))).summary.endswith("except iam:CreateUser")
    partial = judge_document(doc({"Effect": "Allow", "NotAction": ["organizations:*", "account:*"], "Resource": "*"}))
    assert partial.summary.endswith("except account:*, organizations:*")
    assert Verdict(Power.NONE).summary == "grants no admin-equivalent power"


def test_conditions_do_not_reduce_power_but_are_noted() -> None:
    mfa_only = allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    verdict = judge_document(doc(mfa_only))
    assert verdict.power is Power.ADMIN
    assert any("aws:MultiFactorAuthPresent" in r for r in verdict.reasons)


def test_conditional_deny_does_not_subtract_but_is_noted() -> None:
    outside_office = deny("*", Condition={"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
    verdict = judge_document(doc(allow("*"), outside_office))
    assert verdict.power is Power.ADMIN
    assert any("aws:SourceIp" in r for r in verdict.reasons)


def test_takeover_of_a_named_user_is_explained() -> None:
    verdict = judge_document(doc(allow("iam:*", f"arn:aws:iam::{ACCOUNT}:user/bob")))
    assert verdict.admin_equivalent
    assert f"arn:aws:iam::{ACCOUNT}:user/bob" in verdict.summary


def test_verdicts_are_cached_by_canonical_json() -> None:
    first = judge_document(
        {"Statement": [{"Resource": "*", "Action": "*", "Effect": "Allow"}], "Version": "2012-10-17"}
    )
    second = judge_document(doc(allow("*")))
    assert first is second


def test_judge_documents_combines_statements() -> None:
    passrole = doc(allow("iam:PassRole"))
    lambdas = doc(allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))
    assert judge_document(passrole).power is Power.NONE
    assert judge_document(lambdas).power is Power.NONE
    assert judge_documents([passrole, lambdas]).power is Power.ESCALATION


def test_judge_documents_strongest_wins_and_deny_applies_across() -> None:
    assert judge_documents([doc(allow("s3:*")), doc(allow("iam:*")), doc(allow("*"))]).power is Power.ADMIN
    assert judge_documents([doc(allow("*")), doc(deny("*"))]).power is Power.NONE
    assert judge_documents([]).power is Power.NONE


def test_known_managed_policies() -> None:
    assert KNOWN_MANAGED["arn:aws:iam::aws:policy/AdministratorAccess"] is Power.ADMIN
    assert KNOWN_MANAGED["arn:aws:iam::aws:policy/IAMFullAccess"] is Power.IAM_ADMIN
    admin = judge_managed_arn("arn:aws:iam::aws:policy/AdministratorAccess")
    assert admin is not None and admin.power is Power.ADMIN
    gov = judge_managed_arn("arn:aws-us-gov:iam::aws:policy/IAMFullAccess")
    assert gov is not None and gov.power is Power.IAM_ADMIN
    assert judge_managed_arn("arn:aws:iam::aws:policy/ReadOnlyAccess") is None
    assert judge_managed_arn(f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess") is None
    assert judge_managed_arn(None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("arn:aws:iam::aws:policy/AdministratorAccess", True),
        (f"arn:aws:iam::{ACCOUNT}:policy/BreakGlassAdmin", True),
        ("SysAdmin", True),
        ("ops_admins", True),
        ("PowerUserAccess", True),
        ("AmazonS3FullAccess", True),
        ("super-user", True),
        ("root-access", True),
        ("S3Reader", False),
        ("badminton-club-booking", False),
        (f"arn:aws:iam::{ACCOUNT}:policy/admin/S3Reader", False),
        ("arn:aws:iam::012345678901:policy/ci-deployer", False),
        ("", False),
    ],
)
def test_name_looks_privileged(name: str, expected: bool) -> None:
    assert name_looks_privileged(name) is expected


def test_nearly_all_is_told_at_the_tolerance_whichever_way_it_is_reached() -> None:
    # Every action but whole services, excluded one by one from the biggest: ADMIN while what is missing stays
    # within _ADMIN_TOLERANCE of the catalog, IAM_ADMIN (iam:* is still there) from the first service past it.
    catalog = policy._catalog()
    tolerated = policy._ADMIN_TOLERANCE * len(catalog.everything)
    sizes = sorted(((len(a), s) for s, a in catalog.by_service.items() if s != "iam"), reverse=True)
    excluded: list[str] = []
    missing = 0
    for size, service in sizes:
        if missing + size > tolerated:
            break
        excluded.append(service)
        missing += size
    within = doc({"Effect": "Allow", "NotAction": [f"{s}:*" for s in excluded], "Resource": "*"})
    past = doc({"Effect": "Allow", "NotAction": [f"{s}:*" for s in [*excluded, service]], "Resource": "*"})
    assert excluded and judge_document(within).power is Power.ADMIN
    assert judge_document(past).power is Power.IAM_ADMIN
