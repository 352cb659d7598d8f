"""guardrail_removed online, against moto: a detached policy and a new boundary are judged by their documents, a
detached organization policy by the type Organizations gives it."""

from __future__ import annotations

import json

import boto3
import pytest

from aws.lookups import IamLookups
from aws.sessions import AwsSessions
from detections.engine import evaluate
from detections.example_records import ALLOW_ALL, READ_ONLY, event, iam_call, policy
from ingest.context import PipelineContext
from storage import Store

ACCOUNT_ID = "123456789012"  # moto's account
DENY_OUTSIDE_EU = {
    "Effect": "Deny",
    "Action": "*",
    "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}},
}


def _fired(aws: boto3.Session | None, record: dict) -> set[str]:
    store = Store(":memory:")
    ctx = PipelineContext(store, IamLookups(AwsSessions(aws)) if aws else None)
    return {a.rule for a in evaluate(record, ctx)}


def _managed(aws: boto3.Session, name: str, document: dict) -> str:
    return aws.client("iam").create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]


@pytest.mark.parametrize(
    ("name", "document", "alerts"),
    [
        ("eu-only", policy(DENY_OUTSIDE_EU), True),  # an ordinary name, but every statement denies
        ("boundary-tools", policy(READ_ONLY), False),  # a guard-like name, but the document allows
    ],
)
def test_detached_policy_is_judged_by_its_document(aws: boto3.Session, name: str, document: dict, alerts: bool) -> None:
    arn = _managed(aws, name, document)
    record = iam_call(
        "DetachRolePolicy",
        {"roleName": "analytics", "policyArn": arn},
        None,
        event_id=f"t-guard-{name}",
        recipientAccountId=ACCOUNT_ID,
    )
    assert ("guardrail_removed" in _fired(aws, record)) is alerts


def test_boundary_replaced_by_a_customer_policy_that_allows_everything(aws: boto3.Session) -> None:
    arn = _managed(aws, "wide-boundary", policy(ALLOW_ALL))
    record = iam_call(
        "PutRolePermissionsBoundary",
        {"roleName": "ci-deploy", "permissionsBoundary": arn},
        None,
        event_id="t-guard-boundary",
        recipientAccountId=ACCOUNT_ID,
    )
    assert "guardrail_removed" in _fired(aws, record)
    assert "guardrail_removed" not in _fired(None, record)  # offline the boundary cannot be read: no guess


@pytest.mark.parametrize(("policy_type", "alerts"), [("SERVICE_CONTROL_POLICY", True), ("TAG_POLICY", False)])
def test_detached_organization_policy_is_judged_by_its_type(aws: boto3.Session, policy_type: str, alerts: bool) -> None:
    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    content = policy({"Effect": "Deny", "Action": "iam:*", "Resource": "*"}) if alerts else {"tags": {}}
    created = org.create_policy(
        Content=json.dumps(content), Description="guard", Name=f"guard-{policy_type}", Type=policy_type
    )
    policy_id = created["Policy"]["PolicySummary"]["Id"]
    record = event(
        "DetachPolicy",
        "organizations.amazonaws.com",
        event_id=f"t-guard-{policy_type}",
        request={"policyId": policy_id, "targetId": root},
        recipientAccountId=ACCOUNT_ID,
    )
    found = {a.rule: a for a in evaluate(record, PipelineContext(Store(":memory:"), IamLookups(AwsSessions(aws))))}
    assert ("guardrail_removed" in found) is alerts
    if alerts:
        assert found["guardrail_removed"].facts["Policy type"] == "service control"
    assert "guardrail_removed" in _fired(None, record)  # offline the type is unknown: reported
