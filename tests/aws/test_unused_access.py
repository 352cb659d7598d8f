"""Last access from IAM Access Analyzer's unused-access findings, and the fall back to Access Advisor.

IAM is moto's (which has no Access Advisor: a fall back to it fails with NotImplemented, one probe call). moto
has no Access Analyzer at all, so ListAnalyzers, ListFindingsV2 and GetFindingV2 are answered by botocore
Stubbers on the real clients AwsSessions hands the collector, which count and check calls as always.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from aws.collector import DETAILS_FAILED, DETAILS_SKIPPED, collect
from aws.sessions import AwsSessions
from checks.base import Status
from checks.catalog.unused_service_permissions import trimmed_policy_without
from iam.snapshot import ACCESS_ADVISOR, ACCESS_ANALYZER, Snapshot
from tests.checks.accounts import failing, passing, run

ACCOUNT = "123456789012"
ANALYZER = f"arn:aws:access-analyzer:us-east-1:{ACCOUNT}:analyzer/unused"
ADVISOR_PROBE = "iam:GenerateServiceLastAccessedDetails"
CRITERIA = {
    "status": {"eq": ["ACTIVE"]},
    "resourceOwnerAccount": {"eq": [ACCOUNT]},
    "findingType": {"eq": ["UnusedIAMRole", "UnusedIAMUserAccessKey", "UnusedIAMUserPassword", "UnusedPermission"]},
}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def unused_analyzer(kind: str = "ACCOUNT_UNUSED_ACCESS", status: str = "ACTIVE", age: int = 90) -> dict:
    """One ListAnalyzers entry of an unused-access analyzer."""
    return {
        "arn": ANALYZER,
        "name": "unused",
        "type": kind,
        "createdAt": datetime(2025, 1, 1, tzinfo=UTC),
        "status": status,
        "configuration": {"unusedAccess": {"unusedAccessAge": age}},
    }


def external_analyzer() -> dict:
    return {**unused_analyzer(), "arn": ANALYZER.replace("unused", "external"), "name": "external", "type": "ACCOUNT"}


def finding(arn: str, kind: str, ident: str) -> dict:
    """One ListFindingsV2 entry."""
    now = datetime.now(UTC)
    return {
        "id": ident,
        "resource": arn,
        "resourceType": "AWS::IAM::Role" if ":role/" in arn else "AWS::IAM::User",
        "resourceOwnerAccount": ACCOUNT,
        "status": "ACTIVE",
        "findingType": kind,
        "analyzedAt": now,
        "createdAt": now,
        "updatedAt": now,
    }


def unused_service(namespace: str, last: datetime | None) -> dict:
    """One GetFindingV2 findingDetails entry of an UnusedPermission finding."""
    details: dict[str, Any] = {"serviceNamespace": namespace, "actions": []}
    if last is not None:
        details["lastAccessed"] = last
    return {"unusedPermissionDetails": details}


def details_reply(arn: str, ident: str, details: list[dict], token: str | None = None) -> dict:
    now = datetime.now(UTC)
    reply = {
        "id": ident,
        "resource": arn,
        "resourceType": "AWS::IAM::Role",
        "resourceOwnerAccount": ACCOUNT,
        "status": "ACTIVE",
        "findingType": "UnusedPermission",
        "analyzedAt": now,
        "createdAt": now,
        "updatedAt": now,
        "findingDetails": details,
    }
    return {**reply, "nextToken": token} if token else reply


def policy(*actions: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


@pytest.fixture
def account(aws: boto3.Session) -> dict[str, str]:
    """A moto account: an admin role (`*`), a narrow role, and a user with a key."""
    iam = aws.client("iam")
    iam.create_role(RoleName="admin", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="admin", PolicyName="all", PolicyDocument=policy("*"))
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="app", PolicyName="work", PolicyDocument=policy("s3:GetObject", "sqs:SendMessage"))
    iam.create_user(UserName="carol")
    iam.create_access_key(UserName="carol")
    return {"admin": role_arn("admin"), "app": role_arn("app"), "carol": user_arn("carol")}


@pytest.fixture
def analyzer_stub(aws: boto3.Session) -> Iterator[tuple[AwsSessions, Stubber]]:
    """AwsSessions whose us-east-1 Access Analyzer client answers from a Stubber (all queued replies used)."""
    sessions = AwsSessions(aws)
    stubber = Stubber(sessions.client("accessanalyzer", region="us-east-1"))
    stubber.activate()
    yield sessions, stubber
    stubber.assert_no_pending_responses()
    stubber.deactivate()


def snapshot_of(sessions: AwsSessions, **options: Any) -> Snapshot:
    return collect(sessions, sleep=lambda _: None, advisor_concurrency=1, **options)


# --- the collector ----------------------------------------------------------------------------------------


def test_an_active_analyzer_answers_for_every_principal_and_access_advisor_is_not_called(
    account: dict[str, str], analyzer_stub: tuple[AwsSessions, Stubber]
) -> None:
    sessions, stubber = analyzer_stub
    stubber.add_response("list_analyzers", {"analyzers": [external_analyzer(), unused_analyzer()]}, {})
    listed = [
        finding(account["admin"], "UnusedPermission", "f-admin"),
        finding(account["app"], "UnusedIAMRole", "f-app-role"),
        finding(account["carol"], "UnusedIAMUserAccessKey", "f-carol-key"),
    ]
    stubber.add_response("list_findings_v2", {"findings": listed}, {"analyzerArn": ANALYZER, "filter": CRITERIA})
    details = [unused_service("dynamodb", None)]
    stubber.add_response(
        "get_finding_v2",
        details_reply(account["admin"], "f-admin", details),
        {"analyzerArn": ANALYZER, "id": "f-admin"},
    )

    snap = snapshot_of(sessions)

    assert snap.last_access_source == ACCESS_ANALYZER
    assert snap.last_access_note is None
    assert snap.unused_analyzer["name"] == "unused" and snap.unused_analyzer["region"] == "us-east-1"
    assert [a["name"] for a in snap.analyzers] == ["external"]  # the external-access check's list is unchanged
    assert {f["id"] for f in snap.unused_access} == {"f-admin", "f-app-role", "f-carol-key"}
    admin = next(f for f in snap.unused_access if f["id"] == "f-admin")
    assert admin["findingDetails"] == details
    assert "access_advisor" not in snap.errors and snap.access_advisor is None
    assert ADVISOR_PROBE not in snap.api_calls and "iam:GetServiceLastAccessedDetails" not in snap.api_calls
    assert snap.api_calls["access-analyzer:ListAnalyzers"] == 1
    assert snap.api_calls["access-analyzer:ListFindings"] == 1  # ListFindingsV2, as IAM names it
    assert snap.api_calls["access-analyzer:GetFinding"] == 1  # GetFindingV2: only the UnusedPermission finding


def test_findings_and_details_are_read_page_by_page_and_details_only_for_the_most_powerful(
    account: dict[str, str], analyzer_stub: tuple[AwsSessions, Stubber]
) -> None:
    sessions, stubber = analyzer_stub
    stubber.add_response("list_analyzers", {"analyzers": [unused_analyzer()]}, {})
    first = [finding(account["app"], "UnusedPermission", "f-app")]
    second = [finding(account["admin"], "UnusedPermission", "f-admin")]
    params = {"analyzerArn": ANALYZER, "filter": CRITERIA}
    stubber.add_response("list_findings_v2", {"findings": first, "nextToken": "page-2"}, params)
    stubber.add_response("list_findings_v2", {"findings": second}, {**params, "nextToken": "page-2"})
    # detail_limit=1: the admin role (admin-equivalent) is read, the narrow one is not; its details take 2 pages
    ask = {"analyzerArn": ANALYZER, "id": "f-admin"}
    page_1 = details_reply(account["admin"], "f-admin", [unused_service("ec2", None)], token="d-2")
    stubber.add_response("get_finding_v2", page_1, ask)
    page_2 = details_reply(account["admin"], "f-admin", [unused_service("kms", None)])
    stubber.add_response("get_finding_v2", page_2, {**ask, "nextToken": "d-2"})

    snap = snapshot_of(sessions, detail_limit=1)

    by_id = {f["id"]: f for f in snap.unused_access}
    assert [d["unusedPermissionDetails"]["serviceNamespace"] for d in by_id["f-admin"]["findingDetails"]] == [
        "ec2",
        "kms",
    ]
    assert "findingDetails" not in by_id["f-app"]
    assert snap.api_calls["access-analyzer:ListFindings"] == 2
    assert snap.api_calls["access-analyzer:GetFinding"] == 2
    assert snap.api_calls[DETAILS_SKIPPED] == 1


def test_without_an_unused_access_analyzer_access_advisor_answers_and_the_snapshot_says_why(
    account: dict[str, str], analyzer_stub: tuple[AwsSessions, Stubber]
) -> None:
    sessions, stubber = analyzer_stub
    not_ready = unused_analyzer(status="CREATING")  # only an ACTIVE analyzer has findings to trust
    stubber.add_response("list_analyzers", {"analyzers": [external_analyzer(), not_ready]}, {})

    snap = snapshot_of(sessions)

    assert snap.last_access_source is None  # moto has no Access Advisor either: neither answered
    assert snap.last_access_note == "no active unused-access analyzer in us-east-1"
    assert snap.errors["access_advisor"] == f"NotImplemented on {ADVISOR_PROBE}"
    assert "access-analyzer:ListFindings" not in snap.api_calls
    assert snap.api_calls[ADVISOR_PROBE] == 1  # the fall back was tried


def test_a_denied_list_of_findings_falls_back_to_access_advisor_and_says_so(
    account: dict[str, str], analyzer_stub: tuple[AwsSessions, Stubber]
) -> None:
    sessions, stubber = analyzer_stub
    stubber.add_response("list_analyzers", {"analyzers": [unused_analyzer()]}, {})
    stubber.add_client_error("list_findings_v2", "AccessDeniedException", "not authorized", 403)

    snap = snapshot_of(sessions)

    assert snap.last_access_note == (
        "IAM Access Analyzer did not answer (AccessDeniedException on access-analyzer:ListFindings)"
    )
    assert snap.unused_access is None and snap.unused_analyzer is None
    assert snap.api_calls[ADVISOR_PROBE] == 1
    assert snap.errors["access_advisor"] == f"NotImplemented on {ADVISOR_PROBE}"


def test_access_advisor_is_named_as_the_source_when_it_answers(
    account: dict[str, str], analyzer_stub: tuple[AwsSessions, Stubber]
) -> None:
    sessions, stubber = analyzer_stub
    stubber.add_response("list_analyzers", {"analyzers": []}, {})
    iam = sessions.client("iam")
    now = datetime.now(UTC)

    def start(model: Any, params: dict, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        if model.name == "GenerateServiceLastAccessedDetails":
            return AWSResponse("https://iam.amazonaws.com/", 200, {}, None), {"JobId": "j" * 36}
        if model.name == "GetServiceLastAccessedDetails":
            reply = {"JobStatus": "COMPLETED", "JobCreationDate": now, "JobCompletionDate": now}
            return AWSResponse("https://iam.amazonaws.com/", 200, {}, None), {**reply, "ServicesLastAccessed": []}
        return None

    iam.meta.events.register("before-call.iam.*", start)

    snap = snapshot_of(sessions)

    assert snap.last_access_source == ACCESS_ADVISOR
    assert snap.last_access_note == "no active unused-access analyzer in us-east-1"
    assert "access_advisor" not in snap.errors
    assert set(snap.access_advisor) == set(account.values())


def test_an_organization_analyzer_is_read_for_this_account_only(
    account: dict[str, str], analyzer_stub: tuple[AwsSessions, Stubber]
) -> None:
    sessions, stubber = analyzer_stub
    org = unused_analyzer(kind="ORGANIZATION_UNUSED_ACCESS")
    other = {**org, "arn": ANALYZER.replace("unused", "other"), "name": "other"}
    other["configuration"] = {"unusedAccess": {"analysisRule": {"exclusions": [{"accountIds": [ACCOUNT]}]}}}
    stubber.add_response("list_analyzers", {"analyzers": [other, org]}, {})  # `other` leaves this account out
    stubber.add_response("list_findings_v2", {"findings": []}, {"analyzerArn": ANALYZER, "filter": CRITERIA})

    snap = snapshot_of(sessions)

    assert snap.last_access_source == ACCESS_ANALYZER
    assert snap.unused_analyzer["type"] == "ORGANIZATION_UNUSED_ACCESS" and snap.unused_access == []


# --- the checks over the analyzer's findings -----------------------------------------------------------------


def later(snapshot: Snapshot, days: int) -> Snapshot:
    import dataclasses

    return dataclasses.replace(snapshot, collected_at=snapshot.collected_at + timedelta(days=days))


def test_unused_service_permissions_from_the_analyzer_covers_every_principal(
    account: dict[str, str], analyzer_stub: tuple[AwsSessions, Stubber]
) -> None:
    sessions, stubber = analyzer_stub
    stubber.add_response("list_analyzers", {"analyzers": [unused_analyzer()]}, {})
    listed = [
        finding(account["admin"], "UnusedPermission", "f-admin"),
        finding(account["app"], "UnusedPermission", "f-app"),
    ]
    stubber.add_response("list_findings_v2", {"findings": listed}, {"analyzerArn": ANALYZER, "filter": CRITERIA})
    audit_day = datetime.now(UTC) + timedelta(days=100)
    details = [unused_service("dynamodb", None), unused_service("ec2", audit_day - timedelta(days=30))]
    stubber.add_response(
        "get_finding_v2",
        details_reply(account["admin"], "f-admin", details),
        {"analyzerArn": ANALYZER, "id": "f-admin"},
    )

    snap = snapshot_of(sessions, detail_limit=1)  # the app role's finding is listed but its details not read
    results = run("unused_service_permissions", later(snap, 100))

    found = failing(results)
    assert set(found) == {account["admin"], account["app"]}
    admin = found[account["admin"]].detail
    # ec2 was used 30 days before the audit: only dynamodb counts as unused
    assert admin.startswith("Role admin has not used 1 service it is granted in 90 days: dynamodb.")
    assert "Source: IAM Access Analyzer (analyzer unused in us-east-1)." in admin
    trimmed = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"dynamodb:*","Resource":"*"}]}'
    assert admin.endswith(f"Without them: {trimmed}")
    assert "details were not read in this audit" in found[account["app"]].detail
    assert "finding f-app" in found[account["app"]].detail
    # the user has no finding: the analyzer vouches for it (Access Advisor would not have looked at it at all)
    assert passing(results)[account["carol"]].detail == (
        "User carol has no unused-permission finding: it used what it is granted in 90 days. "
        "Source: IAM Access Analyzer (analyzer unused in us-east-1)."
    )


def test_a_longer_analyzer_age_is_the_threshold_and_a_recent_principal_is_too_new(
    account: dict[str, str], analyzer_stub: tuple[AwsSessions, Stubber]
) -> None:
    sessions, stubber = analyzer_stub
    stubber.add_response("list_analyzers", {"analyzers": [unused_analyzer(age=180)]}, {})
    listed = [finding(account["app"], "UnusedPermission", "f-app")]
    stubber.add_response("list_findings_v2", {"findings": listed}, {"analyzerArn": ANALYZER, "filter": CRITERIA})
    details = [unused_service("sqs", None)]
    stubber.add_response(
        "get_finding_v2", details_reply(account["app"], "f-app", details), {"analyzerArn": ANALYZER, "id": "f-app"}
    )
    snap = snapshot_of(sessions)

    young = failing(run("unused_service_permissions", later(snap, 10)))
    assert young == {}
    assert "too new to judge" in passing(run("unused_service_permissions", later(snap, 10)))[account["app"]].detail
    old = failing(run("unused_service_permissions", later(snap, 200)))[account["app"]].detail
    assert old.startswith("Role app has not used 1 service it is granted in 180 days: sqs.")
    assert '"Action":"s3:GetObject"' in old and "sqs" not in old.split("Without them: ", 1)[1]


def test_unused_roles_and_credentials_name_their_source_and_the_analyzer_finding(
    account: dict[str, str], analyzer_stub: tuple[AwsSessions, Stubber]
) -> None:
    sessions, stubber = analyzer_stub
    stubber.add_response("list_analyzers", {"analyzers": [unused_analyzer()]}, {})
    listed = [
        finding(account["app"], "UnusedIAMRole", "f-role"),
        finding(account["carol"], "UnusedIAMUserAccessKey", "f-key"),
    ]
    stubber.add_response("list_findings_v2", {"findings": listed}, {"analyzerArn": ANALYZER, "filter": CRITERIA})
    snap = later(snapshot_of(sessions), 120)

    roles = failing(run("unused_roles", snap))
    assert roles[account["app"]].detail.endswith(
        "IAM Access Analyzer (analyzer unused in us-east-1) reports it unused too (UnusedIAMRole finding f-role)."
        " Source: RoleLastUsed (IAM authorization details)."
    )
    assert "reports it unused too" not in roles[account["admin"]].detail  # no finding about it
    credentials = run("unused_credentials", snap)
    (carol,) = credentials
    assert carol.status is Status.FAIL
    assert "(UnusedIAMUserAccessKey finding f-key). Source: credential report." in carol.detail


def test_access_advisor_failures_name_their_source(account: dict[str, str], aws: boto3.Session) -> None:
    snap = later(snapshot_of(AwsSessions(aws)), 120)  # moto: no analyzer, no Access Advisor
    detail = failing(run("unused_credentials", snap))[account["carol"]].detail
    assert detail.endswith("days ago. Source: credential report.")
    assert "reports it unused too" not in detail


def test_trimmed_policy_without_takes_the_unused_services_out() -> None:
    documents = [
        {"Statement": {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}},
        {
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "sqs:SendMessage", "s*:List*"], "Resource": "*"},
                {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},  # only an unused service: dropped
                {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*", "Condition": {"Bool": {"x": "1"}}},
                {"Effect": "Deny", "Action": ["sqs:DeleteQueue", "s3:DeleteBucket"], "Resource": "*"},
                {"Effect": "Deny", "NotAction": "s3:Get*", "NotResource": "arn:aws:s3:::public/*"},  # kept whole
            ]
        },
    ]
    assert trimmed_policy_without(documents, ["SQS", "kms"])["Statement"] == [
        {"Effect": "Allow", "NotAction": ["kms:*", "sqs:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s*:List*"], "Resource": "*"},  # a wildcard service stays
        {
            "Effect": "Allow",
            "NotAction": ["iam:*", "kms:*", "sqs:*"],
            "Resource": "*",
            "Condition": {"Bool": {"x": "1"}},
        },
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "s3:Get*", "NotResource": "arn:aws:s3:::public/*"},
    ]


def test_a_failed_detail_read_leaves_that_finding_without_details_and_counts_it(
    account: dict[str, str], analyzer_stub: tuple[AwsSessions, Stubber]
) -> None:
    sessions, stubber = analyzer_stub
    stubber.add_response("list_analyzers", {"analyzers": [unused_analyzer()]}, {})
    listed = [finding(account["admin"], "UnusedPermission", "f-admin")]
    stubber.add_response("list_findings_v2", {"findings": listed}, {"analyzerArn": ANALYZER, "filter": CRITERIA})
    stubber.add_client_error("get_finding_v2", "AccessDeniedException", "no GetFinding", 403)

    snap = snapshot_of(sessions)

    assert snap.last_access_source == ACCESS_ANALYZER  # the list answered: the analyzer is still the source
    assert "findingDetails" not in snap.unused_access[0]
    assert snap.api_calls[DETAILS_FAILED] == 1
    detail = failing(run("unused_service_permissions", later(snap, 100)))[account["admin"]].detail
    assert "its details could not be read (AccessDeniedException on access-analyzer:GetFinding)" in detail
