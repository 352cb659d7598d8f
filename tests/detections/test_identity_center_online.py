"""identity_center_admin_grant online: the live lookup (aws/lookups.py over moto's Identity Center) names the
permission set's power and reach; offline (no lookup) an assignment is not judged."""

from __future__ import annotations

import boto3
import pytest

from aws.lookups import IamLookups
from aws.sessions import AwsSessions
from detections import rule
from detections.example_records import sso_call
from ingest.context import PipelineContext
from storage import Store
from tests.identity_center import ADMINISTRATOR_ACCESS, READ_ONLY_ACCESS, IdentityCenterBuilder

ACCOUNT = "123456789012"


@pytest.fixture
def center(aws: boto3.Session) -> IdentityCenterBuilder:
    return IdentityCenterBuilder(aws)


def assignment(center: IdentityCenterBuilder, permission_set: str, principal: str) -> dict:
    record = sso_call(
        "CreateAccountAssignment",
        {
            "targetId": ACCOUNT,
            "targetType": "AWS_ACCOUNT",
            "permissionSetArn": permission_set,
            "principalType": "GROUP",
            "principalId": principal,
        },
        event_id="bea150ce-12b4-4417-9983-7be8c28a7a3a",
    )
    return {
        **record,
        "requestParameters": {**record["requestParameters"], "instanceArn": center.instance},
        "recipientAccountId": ACCOUNT,
    }


def test_an_admin_assignment_names_the_sets_reach(aws: boto3.Session, center: IdentityCenterBuilder, tmp_path):
    admins = center.group("Admins", [center.user("alice")])
    admin = center.permission_set("Admin", managed=[ADMINISTRATOR_ACCESS])
    center.assign(admin, admins, ACCOUNT, "GROUP")
    center.assign(admin, center.user("bob"), ACCOUNT)
    store = Store(str(tmp_path / "w.db"))
    online = PipelineContext(store, IamLookups(AwsSessions(aws)))

    found = rule("identity_center_admin_grant").match(assignment(center, admin, admins), online)

    assert found is not None
    assert found.title == f"Admin permission set Admin assigned to group {admins} in {ACCOUNT}"
    assert found.facts["Reach"] == "assigned to 2 principals in 1 account"
    assert found.facts["Power"] == "grants every action on every resource"
    assert found.remediation.sso_permission_set_arn == admin and found.remediation.sso_principal_id == admins
    offline = PipelineContext(store)
    assert rule("identity_center_admin_grant").match(assignment(center, admin, admins), offline) is None
    store.close()


def test_a_read_only_assignment_is_not_alerted_online(aws: boto3.Session, center: IdentityCenterBuilder, tmp_path):
    readers = center.group("Readers")
    read = center.permission_set("Read", managed=[READ_ONLY_ACCESS])
    store = Store(str(tmp_path / "w.db"))
    online = PipelineContext(store, IamLookups(AwsSessions(aws)))
    assert rule("identity_center_admin_grant").match(assignment(center, read, readers), online) is None
    store.close()


def test_an_inline_policy_tipping_the_set_names_its_reach_online(aws, center: IdentityCenterBuilder, tmp_path):
    read = center.permission_set("Ops", managed=[READ_ONLY_ACCESS], inline=["iam:*"])
    center.assign(read, center.user("carol"), ACCOUNT)
    store = Store(str(tmp_path / "w.db"))
    online = PipelineContext(store, IamLookups(AwsSessions(aws)))
    record = sso_call(
        "PutInlinePolicyToPermissionSet",
        {"permissionSetArn": read, "inlinePolicy": "not readable here"},
        event_id="8a3e1f6c-2b9d-4c70-a5e4-1d7f0b3c9e22",
    )
    record = {
        **record,
        "requestParameters": {**record["requestParameters"], "instanceArn": center.instance},
        "recipientAccountId": ACCOUNT,
    }

    found = rule("identity_center_admin_grant").match(record, online)

    assert found is not None and found.title == "Permission set Ops made admin-equivalent by its inline policy"
    assert found.facts["Reach"] == "assigned to 1 principal in 1 account"
    store.close()
