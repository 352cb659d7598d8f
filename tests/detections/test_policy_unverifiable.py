"""policy_unverifiable online, against moto: the omitted document is read back (GetUserPolicy, GetRolePolicy,
GetGroupPolicy, GetPolicyVersion) and judged as privileged_grant judges it; a failed read alerts unverified."""

from __future__ import annotations

import json

import boto3
import pytest

from aws.lookups import IamLookups
from aws.sessions import AwsSessions
from core.alert import Alert
from core.severity import Severity
from detections.engine import evaluate
from detections.example_records import ALLOW_ALL, READ_ONLY, iam_call, policy
from detections.rules.policy_unverifiable import _OMITTED, UNVERIFIED_OMITTED, _created_policy
from ingest.context import PipelineContext
from storage import Store

ACCOUNT_ID = "123456789012"  # moto's account


def _alerts(aws: boto3.Session, record: dict) -> dict[str, Alert]:
    ctx = PipelineContext(Store(":memory:"), IamLookups(AwsSessions(aws)))
    return {a.rule: a for a in evaluate(record, ctx)}


def _put(kind: str, name: str, event_id: str) -> dict:
    """Put{User,Role,Group}Policy omitted as too large, with the names that identify the policy surviving."""
    request = {f"{kind}Name": name, "policyName": "padded"} | _OMITTED
    return iam_call(f"Put{kind.capitalize()}Policy", request, None, event_id=event_id, recipientAccountId=ACCOUNT_ID)


def _principal(iam: object, kind: str, name: str, document: dict) -> None:
    if kind == "role":
        trust = policy({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))  # type: ignore[attr-defined]
    else:
        getattr(iam, f"create_{kind}")(**{f"{kind.capitalize()}Name": name})
    getattr(iam, f"put_{kind}_policy")(
        **{f"{kind.capitalize()}Name": name, "PolicyName": "padded", "PolicyDocument": json.dumps(document)}
    )


@pytest.mark.parametrize("kind", ["user", "role", "group"])
def test_admin_inline_policy_read_back_raises_privileged_grant(aws: boto3.Session, kind: str) -> None:
    _principal(aws.client("iam"), kind, "ops", policy(ALLOW_ALL))
    alerts = _alerts(aws, _put(kind, "ops", f"t-omit-{kind}"))
    assert set(alerts) == {"privileged_grant"}
    grant = alerts["privileged_grant"]
    assert grant.severity is Severity.CRITICAL
    assert grant.target == f"arn:aws:iam::{ACCOUNT_ID}:{kind}/ops"
    assert grant.remediation["inline_policy_name"] == "padded"


def test_harmless_inline_policy_read_back_raises_nothing(aws: boto3.Session) -> None:
    _principal(aws.client("iam"), "user", "bob", policy(READ_ONLY))
    assert _alerts(aws, _put("user", "bob", "t-omit-read")) == {}


def test_failed_read_back_alerts_as_unverified(aws: boto3.Session) -> None:
    alerts = _alerts(aws, _put("user", "ghost", "t-omit-ghost"))  # NoSuchEntity: nothing to read
    assert set(alerts) == {"policy_unverifiable"}
    alert = alerts["policy_unverifiable"]
    assert alert.severity is Severity.HIGH
    assert alert.facts["Power"] == UNVERIFIED_OMITTED
    assert alert.target == f"arn:aws:iam::{ACCOUNT_ID}:user/ghost"
    assert alert.remediation == {
        "principal_type": "user",
        "principal_name": "ghost",
        "inline_policy_name": "padded",
        "key_user": "ghost",
    }


@pytest.mark.parametrize(("document", "alerts"), [(policy(ALLOW_ALL), True), (policy(READ_ONLY), False)])
def test_padded_managed_policy_is_read_back_by_its_arn(aws: boto3.Session, document: dict, alerts: bool) -> None:
    arn = aws.client("iam").create_policy(PolicyName="ops-tooling", PolicyDocument=json.dumps(document))["Policy"][
        "Arn"
    ]
    response = _created_policy("ops-tooling")
    response["policy"]["arn"] = arn
    record = iam_call(
        "CreatePolicy", dict(_OMITTED), response, event_id="t-omit-managed", recipientAccountId=ACCOUNT_ID
    )
    found = _alerts(aws, record)
    assert set(found) == ({"policy_unverifiable"} if alerts else set())
    if alerts:
        assert found["policy_unverifiable"].facts["Power"] != UNVERIFIED_OMITTED
        assert found["policy_unverifiable"].target == arn


def test_padded_default_version_named_in_resources_raises_privileged_grant(aws: boto3.Session) -> None:
    iam = aws.client("iam")
    arn = iam.create_policy(PolicyName="dev-tools", PolicyDocument=json.dumps(policy(READ_ONLY)))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(policy(ALLOW_ALL)), SetAsDefault=True)
    record = iam_call(
        "CreatePolicyVersion",
        dict(_OMITTED),
        {"policyVersion": {"versionId": "v2", "isDefaultVersion": True, "createDate": "May 14, 2024, 9:12:45 AM"}},
        event_id="t-omit-version",
        recipientAccountId=ACCOUNT_ID,
        resources=[{"accountId": ACCOUNT_ID, "type": "AWS::IAM::Policy", "ARN": arn}],
    )
    alerts = _alerts(aws, record)
    assert set(alerts) == {"privileged_grant"}
    assert alerts["privileged_grant"].target == arn
