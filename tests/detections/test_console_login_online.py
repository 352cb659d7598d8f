"""console_login_without_mfa online: whether the user is admin-equivalent comes from IAM (moto), through the
pipeline's context and the authorization owner; offline it says it does not know."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from aws.lookups import IamLookups
from aws.sessions import AwsSessions
from core.severity import Severity
from detections import example_records as s
from detections.engine import evaluate
from ingest.context import PipelineContext
from storage import Store

MOTO_ACCOUNT = "123456789012"
READ_ONLY = {"Version": "2012-10-17", "Statement": [s.READ_ONLY]}


def _sign_in(user: str, event_id: str) -> dict:
    record = s.console_login(s.iam_user(user), event_id=event_id)
    record["recipientAccountId"] = MOTO_ACCOUNT
    record["userIdentity"] |= {"accountId": MOTO_ACCOUNT, "arn": f"arn:aws:iam::{MOTO_ACCOUNT}:user/{user}"}
    return record


@pytest.fixture
def account(aws: boto3.Session) -> boto3.Session:
    iam = aws.client("iam")
    iam.create_user(UserName="admin-carol")
    iam.attach_user_policy(UserName="admin-carol", PolicyArn=s.ADMINISTRATOR_ACCESS)
    iam.create_group(GroupName="Admins")
    iam.put_group_policy(GroupName="Admins", PolicyName="all", PolicyDocument=json.dumps(s.policy(s.ALLOW_ALL)))
    iam.create_user(UserName="dana")
    iam.add_user_to_group(GroupName="Admins", UserName="dana")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="read", PolicyDocument=json.dumps(READ_ONLY))
    return aws


def _alert(context: PipelineContext, user: str, event_id: str):
    (alert,) = [a for a in evaluate(_sign_in(user, event_id), context) if a.rule == "console_login_without_mfa"]
    return alert


def test_admin_equivalent_users_sign_in_without_mfa_is_high(account: boto3.Session, tmp_path: Path) -> None:
    context = PipelineContext(Store(tmp_path / "warden.db"), IamLookups(AwsSessions(account)))
    carol = _alert(context, "admin-carol", "t-o-1")  # AdministratorAccess attached to the user
    assert carol.severity is Severity.HIGH and carol.facts["Admin-equivalent"] == "yes"
    assert carol.title == "User admin-carol signed in to the console without MFA (admin-equivalent)"
    dana = _alert(context, "dana", "t-o-2")  # allowed everything through a group's inline policy
    assert dana.severity is Severity.HIGH
    auditor = _alert(context, "auditor", "t-o-3")
    assert auditor.severity is Severity.MEDIUM and auditor.facts["Admin-equivalent"] == "no"


def test_user_documents_are_the_users_own_and_its_groups(account: boto3.Session) -> None:
    lookups = IamLookups(AwsSessions(account))
    assert lookups.user_documents(MOTO_ACCOUNT, "dana") == [s.policy(s.ALLOW_ALL)]
    assert lookups.user_documents(MOTO_ACCOUNT, "auditor") == [READ_ONLY]
    assert lookups.user_documents(MOTO_ACCOUNT, "nobody") is None


def test_offline_the_alert_is_medium_and_says_it_does_not_know(tmp_path: Path) -> None:
    alert = _alert(PipelineContext(Store(tmp_path / "warden.db")), "admin-carol", "t-o-4")
    assert alert.severity is Severity.MEDIUM
    assert alert.facts["Admin-equivalent"] == "unknown (AWS not reachable)"
