"""guardrail_removed online, against moto: a detached policy and a new boundary are judged by their documents."""

from __future__ import annotations

import json

import boto3
import pytest

from aws.lookups import IamLookups
from aws.sessions import AwsSessions
from detections.engine import evaluate
from detections.samples import ALLOW_ALL, READ_ONLY, iam_call, policy
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
