"""The snapshot collector (aws/collector.py) against moto, and against botocore stubs for what moto lacks.

moto has no Access Advisor and no Access Analyzer, its credential report has no `<root_account>` row, and it
never reports root MFA: those are answered by botocore's Stubber on real clients (whole sequences, in order)
or by `Answers`, a thread-safe before-call responder on moto's clients for the concurrent Access Advisor jobs.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from aws.collector import FAILED, SKIPPED, collect, parse_credential_report
from aws.permissions import action_name, check_call
from aws.sessions import AwsSessions
from checks.base import Check, ok
from checks.engine import run_checks
from core.severity import Severity

ACCOUNT = "123456789012"
BUCKET = "warden-trail-logs"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
LIFECYCLE = action_name("s3", "GetBucketLifecycleConfiguration")  # its IAM action, s3:GetLifecycleConfiguration
NOW = datetime(2026, 1, 1, tzinfo=UTC)
REPORT = (
    "user,arn,user_creation_time,password_enabled,mfa_active,access_key_1_active\n"
    f"<root_account>,arn:aws:iam::{ACCOUNT}:root,2020-01-01T00:00:00+00:00,not_supported,true,false\n"
    f"alice,arn:aws:iam::{ACCOUNT}:user/alice,2024-05-01T10:00:00+00:00,true,false,true\n"
)


def document(actions: list[str]) -> str:
    """An identity policy allowing `actions` on every resource, as JSON."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def role_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


def no_sleep(_: float) -> None:
    """Stand-in for time.sleep: polls go round at once."""


@pytest.fixture
def sessions(aws: boto3.Session) -> AwsSessions:
    """AwsSessions over the moto session."""
    return AwsSessions(aws)


def build_account(session: boto3.Session, *, password_policy: bool = True, trail: bool = True) -> dict[str, str]:
    """Users, a group, a role, policies, keys, a password policy and a trail logging to a bucket with a
    lifecycle rule; returns the ARNs of the customer policies by name."""
    iam = session.client("iam")
    policies = {
        name: iam.create_policy(PolicyName=name, PolicyDocument=document(actions))["Policy"]["Arn"]
        for name, actions in {"everything": ["*"], "read-bucket": ["s3:GetObject"], "unused": ["sqs:*"]}.items()
    }
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=policies["everything"])
    iam.create_user(UserName="alice")
    iam.add_user_to_group(GroupName="admins", UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-Staple-1")
    iam.create_access_key(UserName="alice")
    iam.create_user(UserName="bob")
    iam.attach_user_policy(UserName="bob", PolicyArn=READ_ONLY)
    iam.put_user_policy(UserName="bob", PolicyName="queues", PolicyDocument=document(["sqs:SendMessage"]))
    ec2 = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    iam.create_role(
        RoleName="deployer", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [ec2]})
    )
    iam.attach_role_policy(RoleName="deployer", PolicyArn=policies["read-bucket"])
    if password_policy:
        iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True)
    if trail:
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_lifecycle_configuration(
            Bucket=BUCKET,
            LifecycleConfiguration={
                "Rules": [{"ID": "keep-a-year", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 365}}]
            },
        )
        cloudtrail = session.client("cloudtrail")
        cloudtrail.create_trail(Name="main-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True)
        cloudtrail.start_logging(Name="main-trail")
    return policies


def deny(client: Any, operation: str) -> None:
    """Make `client` fail `operation` with AccessDenied, as an IAM policy without it would."""

    def refuse(model: Any, **_: Any) -> None:
        if model.name == operation:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, operation)

    client.meta.events.register("before-call.*.*", refuse)


class Answers:
    """Answers chosen operations of a real client from Python, thread-safely (botocore's Stubber wants calls in
    a fixed order, which concurrent jobs do not keep); every other operation goes through to moto."""

    def __init__(self, client: Any, answers: dict[str, Callable[[dict], dict]]) -> None:
        self.answers = answers
        client.meta.events.register("before-call.*.*", self.answer)

    def answer(self, model: Any, params: dict, **_: Any) -> tuple[AWSResponse, dict] | None:
        reply_to = self.answers.get(model.name)
        if reply_to is None:
            return None
        reply = reply_to(params["body"])  # the query protocol's form fields
        status = 400 if "Error" in reply else 200
        return AWSResponse("https://iam.amazonaws.com/", status, {}, None), reply


class FakeSessions:
    """Hands out the given (stubbed) clients by service and region, and moto's for everything else."""

    def __init__(self, fallback: AwsSessions, clients: dict[tuple[str, str], Any]) -> None:
        self.fallback = fallback
        self.clients = clients

    def own_account(self) -> str:
        return ACCOUNT

    def client(self, service: str, account: str | None = None, region: str = "us-east-1") -> Any:
        return self.clients.get((service, region)) or self.fallback.client(service, account, region=region)


def stubbed(service: str, region: str = "us-east-1") -> tuple[Any, Stubber]:
    """A real client refusing undeclared calls like AwsSessions' do, with an activated Stubber."""
    client = boto3.client(service, region_name=region)
    client.meta.events.register("before-call.*.*", check_call)
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


# --- moto ------------------------------------------------------------------------------------------------


def test_a_moto_account_is_collected_whole_but_for_what_moto_lacks(aws: boto3.Session, sessions: AwsSessions):
    policies = build_account(aws)
    sleeps: list[float] = []

    snap = collect(sessions, regions=("us-east-1", "eu-west-1"), sleep=sleeps.append)

    assert snap.account == ACCOUNT
    assert {u["UserName"] for u in snap.users} == {"alice", "bob"}
    assert [g["GroupName"] for g in snap.groups] == ["admins"]
    assert [r["RoleName"] for r in snap.roles] == ["deployer"]
    assert snap.roles[0]["MaxSessionDuration"] == 3600  # from ListRoles: the authorization details lack it
    # Every customer-managed policy, attached or not; of the AWS-managed ones only those attached.
    assert {p["Arn"] for p in snap.policies} == {*policies.values(), READ_ONLY}
    read_only = next(p for p in snap.policies if p["Arn"] == READ_ONLY)
    assert [v["IsDefaultVersion"] for v in read_only["PolicyVersionList"]] == [True]
    assert snap.managed_documents[READ_ONLY]["Statement"]
    assert snap.admins() == {user_arn("alice"): snap.power[user_arn("alice")]}

    rows = {row["user"]: row for row in snap.credential_report}
    assert set(rows) == {"alice", "bob"}  # moto's report has no <root_account> row (see the stubbed test)
    assert rows["alice"]["password_enabled"] == "true"
    assert rows["alice"]["access_key_1_active"] == "true"
    assert sleeps == [1.0]  # moto's report is STARTED on the first request and COMPLETE on the next

    assert snap.password_policy["MinimumPasswordLength"] == 14
    assert snap.account_summary["Users"] == 2
    assert snap.account_summary["RootVirtualMFA"] == 0

    (trail,) = snap.trails  # seen from both regions (shadow trail), kept once
    assert trail["Name"] == "main-trail"
    assert trail["Status"]["IsLogging"] is True
    assert "ResponseMetadata" not in trail["Status"]
    assert trail["EventSelectors"] == [] and trail["AdvancedEventSelectors"] == []
    assert [rule["Expiration"]["Days"] for rule in trail["S3Lifecycle"]] == [365]
    assert "S3LifecycleError" not in trail

    assert snap.access_advisor is None and snap.analyzers is None
    assert snap.errors == {
        "access_advisor": "NotImplemented on iam:GenerateServiceLastAccessedDetails",
        "access_analyzer": "404 on access-analyzer:ListAnalyzers",
        "organization_features": "NotImplemented on iam:ListOrganizationsFeatures",  # moto lacks it too
    }
    assert snap.api_calls == {
        "access-analyzer:ListAnalyzers": 1,  # moto answers 404 on the first region; the part stops there
        "cloudtrail:DescribeTrails": 2,
        "cloudtrail:GetEventSelectors": 1,
        "cloudtrail:GetTrailStatus": 1,
        "iam:GenerateCredentialReport": 2,
        "iam:GenerateServiceLastAccessedDetails": 1,  # the probe fails: no other principal is tried
        "iam:GetAccountAuthorizationDetails": 1,
        "iam:ListRoles": 1,
        "iam:GetAccountPasswordPolicy": 1,
        "iam:GetAccountSummary": 1,
        "iam:GetCredentialReport": 1,
        "iam:GetPolicy": 1,
        "iam:GetPolicyVersion": 1,
        LIFECYCLE: 1,
        # the parts of issue 13 part 2: one call each on an account this small
        "iam:ListOrganizationsFeatures": 1,
        "iam:ListSAMLProviders": 1,
        "iam:ListServerCertificates": 1,
        "iam:ListVirtualMFADevices": 1,
        # moto has an Identity Center instance in every region (AWS: one, in its home region), each empty here
        "identitystore:ListGroups": 2,
        "identitystore:ListUsers": 2,
        "sso:ListInstances": 2,
        "sso:ListPermissionSets": 2,
    }


def test_a_check_needing_a_missing_part_could_not_check(aws: boto3.Session, sessions: AwsSessions):
    build_account(aws, trail=False)
    snap = collect(sessions, sleep=no_sleep)
    probe = Check(
        id="needs_advisor",
        title="t",
        severity=Severity.LOW,
        rationale="r",
        remediation="m",
        needs=("authorization", "access_advisor"),
        evaluate=lambda s: [ok("account", "fine")],
    )

    audit = run_checks(snap, (probe,))

    assert audit.results == []
    assert audit.errors == [
        f"{ACCOUNT}: could not check needs_advisor "
        "(access_advisor: NotImplemented on iam:GenerateServiceLastAccessedDetails)"
    ]


def test_no_password_policy_and_no_trail_are_facts_not_errors(aws: boto3.Session, sessions: AwsSessions):
    build_account(aws, password_policy=False, trail=False)
    snap = collect(sessions, sleep=no_sleep)
    assert snap.password_policy is None
    assert snap.trails == []
    assert "password_policy" not in snap.errors and "trails" not in snap.errors


def test_a_denied_call_leaves_a_partial_snapshot(aws: boto3.Session, sessions: AwsSessions):
    build_account(aws)
    deny(sessions.client("iam"), "GetAccountPasswordPolicy")
    deny(sessions.client("s3"), "GetBucketLifecycleConfiguration")

    snap = collect(sessions, sleep=no_sleep)

    assert snap.password_policy is None
    assert snap.errors["password_policy"] == "AccessDenied on iam:GetAccountPasswordPolicy"
    # A bucket the role cannot read (often in a logging account) is noted on the trail, not a failed part.
    (trail,) = snap.trails
    assert trail["S3Lifecycle"] is None
    assert trail["S3LifecycleError"] == f"AccessDenied on {LIFECYCLE}"
    assert "trails" not in snap.errors
    assert snap.users and snap.credential_report and snap.account_summary
    assert set(snap.errors) == {"password_policy", "access_advisor", "access_analyzer", "organization_features"}


def test_denied_authorization_details_leave_the_rest(aws: boto3.Session, sessions: AwsSessions):
    build_account(aws, trail=False)
    deny(sessions.client("iam"), "GetAccountAuthorizationDetails")

    snap = collect(sessions, sleep=no_sleep)

    assert snap.users is None and snap.policies is None
    assert snap.errors["authorization"] == "AccessDenied on iam:GetAccountAuthorizationDetails"
    assert snap.errors["access_advisor"] == "AccessDenied on iam:GetAccountAuthorizationDetails"
    assert "iam:GenerateServiceLastAccessedDetails" not in snap.api_calls
    assert snap.credential_report and snap.password_policy and snap.account_summary


def test_a_credential_report_that_never_completes_times_out(aws: boto3.Session, sessions: AwsSessions):
    build_account(aws, trail=False)
    Answers(sessions.client("iam"), {"GenerateCredentialReport": lambda _: {"State": "INPROGRESS"}})
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    snap = collect(sessions, sleep=sleep, clock=lambda: now[0])

    assert snap.credential_report is None
    assert snap.errors["credential_report"] == "Timeout on iam:GenerateCredentialReport"
    assert 30 <= now[0] <= 34  # bounded: about REPORT_WAIT seconds of polling
    assert snap.api_calls["iam:GenerateCredentialReport"] <= 10
    assert "iam:GetCredentialReport" not in snap.api_calls
    assert snap.users is not None


def test_counting_stops_with_the_collection(aws: boto3.Session, sessions: AwsSessions):
    build_account(aws, trail=False)
    first = collect(sessions, sleep=no_sleep)
    sessions.client("iam").get_account_summary()  # outside any collection: nobody counts it
    second = collect(sessions, sleep=no_sleep)
    assert first.api_calls["iam:GetAccountSummary"] == second.api_calls["iam:GetAccountSummary"] == 1


# --- the credential report ---------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [REPORT.encode(), base64.b64encode(REPORT.encode()), REPORT])
def test_credential_report_parsed_raw_or_base64(content: bytes | str):
    rows = parse_credential_report(content)
    assert [r["user"] for r in rows] == ["<root_account>", "alice"]
    assert rows[0]["mfa_active"] == "true"
    assert rows[1]["arn"] == user_arn("alice")


# --- Access Advisor and Access Analyzer, stubbed ----------------------------------------------------------


def managed(name: str, actions: list[str]) -> dict:
    """A customer-managed policy as GetAccountAuthorizationDetails lists it."""
    return {
        "PolicyName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
        "DefaultVersionId": "v1",
        "AttachmentCount": 1,
        "PolicyVersionList": [{"Document": document(actions), "VersionId": "v1", "IsDefaultVersion": True}],
    }


def user(name: str, policy: str) -> dict:
    return {
        "UserName": name,
        "Arn": user_arn(name),
        "Path": "/",
        "AttachedManagedPolicies": [{"PolicyName": policy, "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/{policy}"}],
    }


def role(name: str, actions: list[str], path: str = "/") -> dict:
    return {
        "RoleName": name,
        "Arn": role_arn(name, path),
        "Path": path,
        "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": document(actions)}],
    }


def analyzer(name: str, kind: str, region: str) -> dict:
    return {
        "arn": f"arn:aws:access-analyzer:{region}:{ACCOUNT}:analyzer/{name}",
        "name": name,
        "type": kind,
        "createdAt": NOW,
        "status": "ACTIVE",
    }


def services(*names: str) -> list[dict]:
    return [{"ServiceName": n, "ServiceNamespace": n, "TotalAuthenticatedEntities": 1} for n in names]


def expect_job(stubber: Stubber, arn: str, job: str, replies: list[dict]) -> None:
    """One Access Advisor job: its start, then each GetServiceLastAccessedDetails reply in turn."""
    stubber.add_response(
        "generate_service_last_accessed_details", {"JobId": job}, {"Arn": arn, "Granularity": "SERVICE_LEVEL"}
    )
    marker = None
    for reply in replies:
        params = {"JobId": job, "MaxItems": 1000, **({"Marker": marker} if marker else {})}
        body = {
            "JobStatus": "IN_PROGRESS",
            "JobCreationDate": NOW,
            "JobCompletionDate": NOW,
            "ServicesLastAccessed": [],
            **reply,
        }
        stubber.add_response("get_service_last_accessed_details", body, params)
        marker = reply.get("Marker") if reply.get("JobStatus") == "COMPLETED" else None


def test_stubbed_account_advisor_priority_and_analyzers(aws: boto3.Session, sessions: AwsSessions):
    iam, stub = stubbed("iam")
    east, east_stub = stubbed("accessanalyzer", "us-east-1")
    west, west_stub = stubbed("accessanalyzer", "eu-west-1")
    fake = FakeSessions(sessions, {("iam", "us-east-1"): iam, ("accessanalyzer", "us-east-1"): east})
    fake.clients["accessanalyzer", "eu-west-1"] = west

    stub.add_response("generate_credential_report", {"State": "STARTED"}, {})
    page_1 = {
        "UserDetailList": [user("narrow", "s3-read"), user("admin", "everything"), user("multi", "three")],
        "Policies": [managed("everything", ["*"]), managed("s3-read", ["s3:GetObject"])],
        "IsTruncated": True,
        "Marker": "page-2",
    }
    page_2 = {
        "RoleDetailList": [
            role("escalator", ["iam:CreatePolicyVersion"]),
            role("AWSServiceRoleForSupport", ["*"], "/aws-service-role/support.amazonaws.com/"),
        ],
        "Policies": [managed("three", ["s3:GetObject", "ec2:DescribeInstances", "sqs:SendMessage"])],
        "IsTruncated": False,
    }
    filters = {"Filter": ["User", "Role", "Group", "LocalManagedPolicy"], "MaxItems": 1000}
    stub.add_response("get_account_authorization_details", page_1, filters)
    stub.add_response("get_account_authorization_details", page_2, {**filters, "Marker": "page-2"})
    escalator = page_2["RoleDetailList"][0]
    listed = {
        "Path": escalator["Path"],
        "RoleName": escalator["RoleName"],
        "RoleId": "AROAEXAMPLEESCALATOR",
        "Arn": escalator["Arn"],
        "CreateDate": datetime(2024, 1, 1, tzinfo=UTC),
        "MaxSessionDuration": 43200,
    }
    stub.add_response("list_roles", {"Roles": [listed], "IsTruncated": False}, {"MaxItems": 1000})
    stub.add_client_error("get_account_password_policy", "NoSuchEntity", http_status_code=404)
    stub.add_response("get_account_summary", {"SummaryMap": {"AccountMFAEnabled": 1, "Users": 3}})
    root_device = {"SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/root", "User": {"Arn": f"arn:aws:iam::{ACCOUNT}:root"}}
    root_device["User"].update({"Path": "/", "UserName": "root", "UserId": "AIDAROOTROOTROOTROOT", "CreateDate": NOW})
    stub.add_response(
        "list_virtual_mfa_devices",
        {"VirtualMFADevices": [root_device]},
        {"AssignmentStatus": "Assigned", "MaxItems": 1000},
    )
    east_stub.add_response(
        "list_analyzers",
        {
            "analyzers": [
                analyzer("account", "ACCOUNT", "us-east-1"),
                # Not ACTIVE yet, so Access Advisor answers (an active one is read: see the unused-access tests).
                {**analyzer("unused", "ACCOUNT_UNUSED_ACCESS", "x"), "status": "CREATING"},
            ]
        },
    )
    west_stub.add_response("list_analyzers", {"analyzers": [analyzer("org", "ORGANIZATION", "eu-west-1")]})
    stub.add_response("generate_credential_report", {"State": "COMPLETE"}, {})
    stub.add_response("get_credential_report", {"Content": REPORT.encode(), "ReportFormat": "text/csv"}, {})
    # Strongest first: the admin user, the role that can escalate, then by services granted; limit 3.
    expect_job(
        stub,
        user_arn("admin"),
        "a" * 36,
        [
            {},
            {"JobStatus": "COMPLETED", "ServicesLastAccessed": services("s3"), "IsTruncated": True, "Marker": "m"},
            {"JobStatus": "COMPLETED", "ServicesLastAccessed": services("ec2")},
        ],
    )
    expect_job(stub, role_arn("escalator"), "e" * 36, [{"JobStatus": "COMPLETED", "ServicesLastAccessed": []}])
    expect_job(stub, user_arn("multi"), "m" * 36, [{"JobStatus": "COMPLETED", "ServicesLastAccessed": services("sqs")}])
    # The parts of issue 13 part 2, after the advisor: organization features, virtual MFA, SAML, certificates.
    features = {"OrganizationId": "o-abcdefghij", "EnabledFeatures": ["RootCredentialsManagement"]}
    stub.add_response("list_organizations_features", features, {})
    devices = {"VirtualMFADevices": [root_device]}
    stub.add_response("list_virtual_mfa_devices", devices, {"AssignmentStatus": "Assigned", "MaxItems": 1000})
    saml = {"Arn": f"arn:aws:iam::{ACCOUNT}:saml-provider/okta", "ValidUntil": NOW, "CreateDate": NOW}
    stub.add_response("list_saml_providers", {"SAMLProviderList": [saml]}, {})
    stub.add_response("list_server_certificates", {"ServerCertificateMetadataList": []}, {"MaxItems": 1000})
    sleeps: list[float] = []

    snap = collect(
        fake,  # type: ignore[arg-type]
        regions=("us-east-1", "eu-west-1"),
        advisor_limit=3,
        advisor_concurrency=1,  # one worker: the Stubber's queue is consumed in order
        sleep=sleeps.append,
    )
    assert {r["RoleName"]: r.get("MaxSessionDuration") for r in snap.roles} == {
        "escalator": 43200,
        "AWSServiceRoleForSupport": None,
    }

    for stubber in (stub, east_stub, west_stub):
        stubber.assert_no_pending_responses()
    assert snap.errors == {}
    assert {row["user"] for row in snap.credential_report} == {"<root_account>", "alice"}
    assert snap.credential("<root_account>")["mfa_active"] == "true"
    assert snap.password_policy is None
    assert snap.account_summary == {"AccountMFAEnabled": 1, "Users": 3, "RootVirtualMFA": 1}
    assert [(a["name"], a["region"]) for a in snap.analyzers] == [("account", "us-east-1"), ("org", "eu-west-1")]
    assert snap.trails == []
    assert list(snap.access_advisor) == [user_arn("admin"), role_arn("escalator"), user_arn("multi")]
    assert [s["ServiceName"] for s in snap.access_advisor[user_arn("admin")]] == ["s3", "ec2"]
    assert sleeps == [1.0, 1.0, 2.0, 1.0, 1.0]  # report, then admin's job twice, then one poll per job
    assert snap.api_calls == {
        SKIPPED: 2,  # the narrow user and the service-linked role
        "access-analyzer:ListAnalyzers": 2,
        "cloudtrail:DescribeTrails": 2,
        "iam:GenerateCredentialReport": 2,
        "iam:GenerateServiceLastAccessedDetails": 3,
        "iam:GetAccountAuthorizationDetails": 2,
        "iam:ListRoles": 1,
        "iam:GetAccountPasswordPolicy": 1,
        "iam:GetAccountSummary": 1,
        "iam:GetCredentialReport": 1,
        "iam:GetServiceLastAccessedDetails": 5,
        "iam:ListVirtualMFADevices": 2,  # once for root's MFA kind, once more for every user's (virtual_mfa_devices)
        "iam:ListOrganizationsFeatures": 1,
        "iam:ListSAMLProviders": 1,
        "iam:ListServerCertificates": 1,
        # Identity Center falls through to moto's empty instances, one per region
        "identitystore:ListGroups": 2,
        "identitystore:ListUsers": 2,
        "sso:ListInstances": 2,
        "sso:ListPermissionSets": 2,
    }
    assert snap.organization_features == {
        "Role": "management",
        "OrganizationId": "o-abcdefghij",
        "EnabledFeatures": ["RootCredentialsManagement"],
        "Source": "this account",
        "Note": "",
    }
    assert [d["SerialNumber"] for d in snap.virtual_mfa_devices] == [root_device["SerialNumber"]]
    assert [p["Arn"] for p in snap.saml_providers] == [saml["Arn"]] and snap.server_certificates == []


def test_a_denied_first_advisor_job_stops_the_advisor(aws: boto3.Session, sessions: AwsSessions):
    build_account(aws, trail=False)
    denied = {"Error": {"Code": "AccessDenied", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
    Answers(sessions.client("iam"), {"GenerateServiceLastAccessedDetails": lambda _: denied})

    snap = collect(sessions, sleep=no_sleep)

    assert snap.errors["access_advisor"] == "AccessDenied on iam:GenerateServiceLastAccessedDetails"
    assert snap.api_calls["iam:GenerateServiceLastAccessedDetails"] == 1  # three principals, one try


def test_advisor_jobs_bounded_limited_and_failing_one_by_one(aws: boto3.Session, sessions: AwsSessions):
    iam = aws.client("iam")
    for n in range(12):
        iam.create_user(UserName=f"user-{n:02d}")
    lock = threading.Lock()
    running: dict[str, str] = {}  # job -> principal ARN, from its start until it reports COMPLETED
    polls: dict[str, int] = {}
    peak = [0]

    def start(body: dict) -> dict:
        assert body["Granularity"] == "SERVICE_LEVEL"
        time.sleep(0.02)  # a real job start takes a while: give the other workers time to overlap
        with lock:
            job = f"{len(polls):036d}"  # JobId is 36 characters long
            polls[job] = 0
            running[job] = body["Arn"]
            peak[0] = max(peak[0], len(running))
        return {"JobId": job}

    def poll(body: dict) -> dict:
        time.sleep(0.01)
        with lock:
            polls[body["JobId"]] += 1
            if polls[body["JobId"]] < 2:
                return {"JobStatus": "IN_PROGRESS", "JobCreationDate": NOW, "ServicesLastAccessed": []}
            arn = running.pop(body["JobId"])
        if arn == user_arn("user-05"):
            return {"JobStatus": "FAILED", "JobCreationDate": NOW, "ServicesLastAccessed": [], "Error": {}}
        return {"JobStatus": "COMPLETED", "JobCreationDate": NOW, "ServicesLastAccessed": services("s3")}

    Answers(
        sessions.client("iam"),
        {"GenerateServiceLastAccessedDetails": start, "GetServiceLastAccessedDetails": poll},
    )

    snap = collect(sessions, advisor_limit=9, advisor_concurrency=3, sleep=no_sleep)

    assert 2 <= peak[0] <= 3
    assert "access_advisor" not in snap.errors
    assert len(snap.access_advisor) == 8 and user_arn("user-05") not in snap.access_advisor
    assert snap.api_calls[SKIPPED] == 3
    assert snap.api_calls[FAILED] == 1
    assert snap.api_calls["iam:GenerateServiceLastAccessedDetails"] == 9
    assert snap.api_calls["iam:GetServiceLastAccessedDetails"] == 18


def test_advisor_is_an_error_only_when_every_job_failed(aws: boto3.Session, sessions: AwsSessions):
    build_account(aws, trail=False)
    gone = {"Error": {"Code": "NoSuchEntity", "Message": "gone"}, "ResponseMetadata": {"HTTPStatusCode": 404}}
    Answers(sessions.client("iam"), {"GenerateServiceLastAccessedDetails": lambda _: gone})

    snap = collect(sessions, sleep=no_sleep)

    # A deleted principal says nothing about the API, so the others are still tried; all of them fail here.
    assert snap.api_calls["iam:GenerateServiceLastAccessedDetails"] == 3
    assert snap.api_calls[FAILED] == 3
    assert snap.errors["access_advisor"] == "NoSuchEntity on iam:GenerateServiceLastAccessedDetails"
