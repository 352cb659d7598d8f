"""The role, CloudTrail, Access Advisor, Access Analyzer and support-role checks, each against a failing and a
passing account.

Accounts are built in moto and snapshotted by the real collector (aws/collector.py). moto has no Access Advisor
and no IAM Access Analyzer: those replies come from botocore Stubbers on real clients that the collector uses,
every other call still going to moto. Facts moto cannot produce are layered on the snapshot with
`dataclasses.replace`, each place saying which. Time-based checks move `collected_at`; nothing sleeps.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from aws.collector import collect
from aws.permissions import action_name, check_call
from aws.sessions import AwsSessions
from checks import all_checks, check
from checks.base import Status
from checks.catalog.cloudtrail_logs_retained import log_prefix
from checks.catalog.role_trust_open import restricting_keys
from checks.catalog.unused_service_permissions import SUGGESTION_CHARS, trimmed_policy
from checks.engine import run_checks
from checks.helpers_roles_trails import audited_regions, management_coverage
from iam.snapshot import Snapshot
from tests.checks.accounts import failing, passing, run

ACCOUNT_ID = "123456789012"  # moto's account
OTHER_ACCOUNT = "999988887777"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
SUPPORT_ACCESS = "arn:aws:iam::aws:policy/AWSSupportAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
BUCKET = "warden-trail-logs"
GITHUB = "token.actions.githubusercontent.com"
LIFECYCLE_ACTION = action_name("s3", "GetBucketLifecycleConfiguration")  # how the collector names the call

MINE = (
    "unused_roles",
    "privileged_role_session_duration",
    "role_trust_open",
    "unused_service_permissions",
    "cloudtrail_multi_region",
    "cloudtrail_log_validation",
    "cloudtrail_logs_retained",
    "cloudtrail_delivering",
    "access_analyzer_enabled",
    "support_role_exists",
)


# --- building accounts -------------------------------------------------------------------------------------


def trust(*statements: dict) -> dict:
    """A trust policy document."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal: Any, condition: dict | None = None, action: str = "sts:AssumeRole") -> dict:
    """One Allow statement of a trust policy."""
    statement = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return statement


SAME_ACCOUNT = trust(allow({"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}))


class Account:
    """Roles, trails and buckets in the moto account, snapshotted by the real collector."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.iam = session.client("iam")
        self.s3 = session.client("s3")
        self.cloudtrail = session.client("cloudtrail")

    def role(
        self,
        name: str,
        *,
        trusts: dict = SAME_ACCOUNT,
        managed: tuple[str, ...] = (),
        actions: tuple[str, ...] = (),
        max_session: int | None = None,
    ) -> str:
        """A role with managed policies and an inline policy allowing `actions` on `*`; returns its ARN."""
        extra = {"MaxSessionDuration": max_session} if max_session else {}
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trusts), **extra)["Role"]["Arn"]
        for policy in managed:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        if actions:
            document = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
            }
            self.iam.put_role_policy(RoleName=name, PolicyName="work", PolicyDocument=json.dumps(document))
        return arn

    def trail(
        self,
        name: str = "main",
        *,
        multi_region: bool = True,
        validation: bool = True,
        logging: bool = True,
        prefix: str | None = None,
    ) -> str:
        """A trail delivering to BUCKET (created on first use); returns its ARN."""
        if BUCKET not in [b["Name"] for b in self.s3.list_buckets().get("Buckets", [])]:
            self.s3.create_bucket(Bucket=BUCKET)
        extra = {"S3KeyPrefix": prefix} if prefix else {}
        arn = self.cloudtrail.create_trail(
            Name=name,
            S3BucketName=BUCKET,
            IsMultiRegionTrail=multi_region,
            EnableLogFileValidation=validation,
            **extra,
        )["TrailARN"]
        if logging:
            self.cloudtrail.start_logging(Name=name)
        return arn

    def expire_logs(self, days: int, prefix: str = "", rule: str = "expire") -> None:
        """Give BUCKET one lifecycle rule expiring objects under `prefix` after `days`."""
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=BUCKET,
            LifecycleConfiguration={
                "Rules": [{"ID": rule, "Status": "Enabled", "Filter": {"Prefix": prefix}, "Expiration": {"Days": days}}]
            },
        )

    def snapshot(self, sessions: AwsSessions | None = None, **options: Any) -> Snapshot:
        """The account as the audit sees it, through AwsSessions and the real collector (no real sleeping)."""
        return collect(sessions or AwsSessions(self.session), sleep=lambda _: None, **options)


class AdvisorSessions(AwsSessions):
    """AwsSessions whose IAM client sends Access Advisor's two calls to a Stubber-backed IAM client (moto has
    no Access Advisor); every other IAM call still reaches moto."""

    ADVISOR_CALLS = frozenset({"generate_service_last_accessed_details", "get_service_last_accessed_details"})

    def __init__(self, session: boto3.Session) -> None:
        super().__init__(session)
        self.advisor = session.client("iam", region_name="us-east-1")
        self.advisor.meta.events.register("before-call.*.*", check_call)  # the same declared-calls rule
        self.stubber = Stubber(self.advisor)
        self._routed: dict[int, _Routed] = {}

    def expect(self, arn: str, services: list[dict]) -> None:
        """Queue one principal's Access Advisor job, in the order the collector will ask."""
        job = str(uuid.uuid5(uuid.NAMESPACE_URL, arn))  # a job id is a UUID
        now = datetime.now(UTC)
        self.stubber.add_response(
            "generate_service_last_accessed_details", {"JobId": job}, {"Arn": arn, "Granularity": "SERVICE_LEVEL"}
        )
        reply = {
            "JobStatus": "COMPLETED",
            "JobType": "SERVICE_LEVEL",
            "JobCreationDate": now,
            "JobCompletionDate": now,
            "ServicesLastAccessed": services,
            "IsTruncated": False,
        }
        self.stubber.add_response("get_service_last_accessed_details", reply, {"JobId": job, "MaxItems": 1000})

    def client(self, service: str, account: str | None = None, region: str = "us-east-1") -> Any:
        real = super().client(service, account, region)
        if service != "iam":
            return real
        return self._routed.setdefault(id(real), _Routed(real, self.advisor, self.ADVISOR_CALLS))


class _Routed:
    """A client whose named operations go to another client."""

    def __init__(self, real: Any, other: Any, names: frozenset[str]) -> None:
        self._real, self._other, self._names = real, other, names

    def __getattr__(self, name: str) -> Any:
        return getattr(self._other if name in self._names else self._real, name)


def service(namespace: str, last: datetime | None) -> dict:
    """One ServicesLastAccessed entry (no LastAuthenticated when never used)."""
    entry: dict[str, Any] = {"ServiceName": namespace.upper(), "ServiceNamespace": namespace}
    if last is not None:
        entry["LastAuthenticated"] = last
    return entry


@pytest.fixture
def account(aws: boto3.Session) -> Account:
    """An empty moto account to build on."""
    return Account(aws)


# --- running checks ----------------------------------------------------------------------------------------


def later(snapshot: Snapshot, days: float = 0, hours: float = 0) -> Snapshot:
    """The same snapshot, as if collected that much later."""
    return dataclasses.replace(snapshot, collected_at=snapshot.collected_at + timedelta(days=days, hours=hours))


def with_role(snapshot: Snapshot, name: str, **fields: Any) -> Snapshot:
    """Change fields of one role entry (moto cannot record a role's use)."""
    roles = [{**r, **fields} if r["RoleName"] == name else r for r in snapshot.roles or []]
    return dataclasses.replace(snapshot, roles=roles)


def with_trail_status(snapshot: Snapshot, **status: Any) -> Snapshot:
    """Override GetTrailStatus fields of every trail (moto never reports a delivery error)."""
    trails = [{**t, "Status": {**t.get("Status", {}), **status}} for t in snapshot.trails or []]
    return dataclasses.replace(snapshot, trails=trails)


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"


# --- unused_roles --------------------------------------------------------------------------------------------


def test_unused_roles_fails_for_roles_idle_or_never_used_for_90_days(account: Account) -> None:
    account.role("never")
    account.role("idle")
    snapshot = later(account.snapshot(), days=120)
    used = snapshot.collected_at - timedelta(days=100)
    results = run(
        "unused_roles", with_role(snapshot, "idle", RoleLastUsed={"LastUsedDate": used, "Region": "eu-west-1"})
    )
    found = failing(results)
    assert set(found) == {role_arn("never"), role_arn("idle")}
    assert "has no recorded use" in found[role_arn("never")].detail
    assert "(120 days ago)" in found[role_arn("never")].detail
    assert f"last used in eu-west-1 on {used:%Y-%m-%d} (100 days ago)" in found[role_arn("idle")].detail


def test_unused_roles_passes_recent_roles_and_skips_service_linked_ones(account: Account) -> None:
    account.role("fresh")
    account.role("busy")
    account.iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    snapshot = account.snapshot()
    fresh = run("unused_roles", snapshot)
    assert set(passing(fresh)) == {role_arn("fresh"), role_arn("busy")}  # the service-linked role has no finding
    assert "is recent" in passing(fresh)[role_arn("fresh")].detail
    old = later(snapshot, days=200)
    used = with_role(old, "busy", RoleLastUsed={"LastUsedDate": old.collected_at - timedelta(days=3)})
    results = run("unused_roles", used)
    assert list(passing(results)) == [role_arn("busy")]
    assert "(3 days ago)" in results[0].detail


# --- privileged_role_session_duration ------------------------------------------------------------------------


def test_privileged_role_session_duration_fails_for_a_12_hour_admin_role(account: Account) -> None:
    account.role("breakglass", managed=(ADMINISTRATOR_ACCESS,), max_session=43200)
    account.role("reader", managed=(READ_ONLY_ACCESS,), max_session=43200)  # not an admin: no finding
    results = run("privileged_role_session_duration", account.snapshot())
    assert list(failing(results)) == [role_arn("breakglass")]
    assert "up to 12 hours (43200 s)" in results[0].detail
    assert "every action on every resource" in results[0].detail


def test_privileged_role_session_duration_passes_one_hour_admin_roles(account: Account) -> None:
    account.role("admin", managed=(ADMINISTRATOR_ACCESS,))  # IAM's default: 3600 s
    results = run("privileged_role_session_duration", account.snapshot())
    assert list(passing(results)) == [role_arn("admin")]
    assert "1 hour (3600 s)" in results[0].detail


def test_privileged_role_session_duration_without_durations_is_could_not_check(account: Account) -> None:
    account.role("admin", managed=(ADMINISTRATOR_ACCESS,), max_session=7200)
    snapshot = account.snapshot()
    stripped = [{k: v for k, v in r.items() if k != "MaxSessionDuration"} for r in snapshot.roles or []]
    audit = run_checks(dataclasses.replace(snapshot, roles=stripped), (check("privileged_role_session_duration"),))
    assert audit.errors == [
        f"{ACCOUNT_ID}: could not check privileged_role_session_duration (error: SessionDurationUnknown)"
    ]
    assert audit.results == []


# --- role_trust_open -------------------------------------------------------------------------------------------


def test_role_trust_open_fails_public_foreign_and_shared_provider_trusts(account: Account) -> None:
    provider = account.iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]
    account.role("public", trusts=trust(allow({"AWS": "*"})))
    account.role("secret-only", trusts=trust(allow("*", {"StringEquals": {"sts:ExternalId": "x1"}})))
    account.role("vendor", trusts=trust(allow({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})))
    account.role(
        "ci",
        trusts=trust(
            allow(
                {"Federated": provider},
                {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}},
                "sts:AssumeRoleWithWebIdentity",
            )
        ),
    )
    found = failing(run("role_trust_open", account.snapshot()))
    assert set(found) == {role_arn(n) for n in ("public", "secret-only", "vendor", "ci")}
    assert found[role_arn("public")].severity == "critical"
    assert "trusts every AWS principal (*)" in found[role_arn("public")].detail
    assert "sts:ExternalId alone" in found[role_arn("secret-only")].detail
    assert found[role_arn("vendor")].severity == "high"
    assert f"account {OTHER_ACCOUNT} with no sts:ExternalId" in found[role_arn("vendor")].detail
    assert found[role_arn("ci")].severity == "critical"
    assert f"no condition on {GITHUB}:sub" in found[role_arn("ci")].detail


def test_role_trust_open_passes_own_account_services_and_guarded_trusts(account: Account) -> None:
    provider = account.iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]
    account.role("local")
    account.role("lambda", trusts=trust(allow({"Service": "lambda.amazonaws.com"})))
    account.role(
        "vendor",
        trusts=trust(allow({"AWS": OTHER_ACCOUNT}, {"StringEquals": {"sts:ExternalId": "7f3a9c"}})),
    )
    account.role("org", trusts=trust(allow({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})))
    outside_org = {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Condition": outside_org}
    account.role("guarded", trusts=trust(allow({"AWS": "*"}), deny))  # the Deny pins the organization
    account.role(
        "ci",
        trusts=trust(
            allow(
                {"Federated": provider},
                {"StringLike": {f"{GITHUB}:sub": "repo:acme/warden:ref:refs/heads/main"}},
                "sts:AssumeRoleWithWebIdentity",
            )
        ),
    )
    results = run("role_trust_open", account.snapshot())
    found = passing(results)
    assert len(found) == len(results) == 6
    assert found[role_arn("local")].detail == "Role local trusts this account."
    assert "service lambda.amazonaws.com" in found[role_arn("lambda")].detail
    assert f"account {OTHER_ACCOUNT} (with sts:ExternalId)" in found[role_arn("vendor")].detail
    assert "aws:PrincipalOrgID" in found[role_arn("org")].detail
    assert found[role_arn("guarded")].detail == "Role guarded trusts any principal matching aws:PrincipalOrgID."


@pytest.mark.parametrize(
    ("condition", "keys"),
    [
        ({"StringEquals": {"sts:ExternalId": "abc"}}, {"sts:externalid"}),
        ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}, set()),  # passes when the key is absent
        ({"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": ["o-1/"]}}, set()),  # likewise
        ({"StringLike": {"aws:SourceArn": "*"}}, set()),  # matches everything
        ({"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}, set()),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::logs-*"}}, {"aws:sourcearn"}),
        (None, set()),
    ],
)
def test_restricting_keys_only_counts_conditions_that_must_match(condition: dict | None, keys: set[str]) -> None:
    assert restricting_keys(condition) == keys


# --- unused_service_permissions (Access Advisor through a Stubber) --------------------------------------------


def test_unused_service_permissions_fails_with_a_trimmed_policy(account: Account) -> None:
    arn = account.role("app", actions=("s3:GetObject", "s3:PutObject", "dynamodb:*", "sqs:SendMessage"))
    sessions = AdvisorSessions(account.session)
    audit_day = datetime.now(UTC) + timedelta(days=100)  # the role is 100 days old on the audit day
    sessions.expect(
        arn,
        [
            service("s3", audit_day - timedelta(days=5)),
            service("dynamodb", audit_day - timedelta(days=200)),
            service("sqs", None),
        ],
    )
    with sessions.stubber:
        snapshot = account.snapshot(sessions)
    sessions.stubber.assert_no_pending_responses()
    results = run("unused_service_permissions", later(snapshot, days=100))
    assert list(failing(results)) == [arn]
    detail = results[0].detail
    assert "Role app has not used 2 of the 3 services it is granted in 90 days: dynamodb, sqs." in detail
    trimmed = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],'
    assert f"Keeping only s3: {trimmed}" in detail


def test_unused_service_permissions_passes_when_every_service_is_used(account: Account) -> None:
    arn = account.role("app", actions=("s3:GetObject", "sqs:SendMessage"))
    sessions = AdvisorSessions(account.session)
    audit_day = datetime.now(UTC) + timedelta(days=100)
    sessions.expect(arn, [service("s3", audit_day - timedelta(days=1)), service("sqs", audit_day - timedelta(days=89))])
    with sessions.stubber:
        snapshot = account.snapshot(sessions)
    results = run("unused_service_permissions", later(snapshot, days=100))
    assert list(passing(results)) == [arn]
    assert results[0].detail == "Role app used each of the 2 services it is granted in the last 90 days."


def test_unused_service_permissions_ignores_principals_the_limit_skipped(account: Account) -> None:
    wide = account.role("wide", actions=("s3:GetObject", "sqs:SendMessage", "sns:Publish"))
    account.role("narrow", actions=("s3:GetObject",))  # ranks after `wide` (fewer services): skipped at limit 1
    sessions = AdvisorSessions(account.session)
    sessions.expect(wide, [service(ns, None) for ns in ("s3", "sns", "sqs")])
    with sessions.stubber:
        snapshot = account.snapshot(sessions, advisor_limit=1, advisor_concurrency=1)
    sessions.stubber.assert_no_pending_responses()
    results = run("unused_service_permissions", later(snapshot, days=100))
    assert [r.resource for r in results] == [wide]
    assert "It used none of them" in results[0].detail


def test_unused_service_permissions_against_moto_is_could_not_check(account: Account) -> None:
    account.role("app", actions=("s3:GetObject",))
    audit = run_checks(account.snapshot(), (check("unused_service_permissions"),))
    assert len(audit.errors) == 1
    assert audit.errors[0].startswith(f"{ACCOUNT_ID}: could not check unused_service_permissions (access_advisor: ")
    assert audit.results == []


def test_trimmed_policy_keeps_used_services_and_guardrails() -> None:
    documents = [
        {"Statement": {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}},
        {
            "Statement": [
                {"Effect": "Allow", "Action": ["ec2:Describe*", "s*:List*", "iam:PassRole"], "Resource": "*"},
                {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},  # same as the first, once cut
                {"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*", "Condition": {"Bool": {"x": "1"}}},
                {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
                {"Effect": "Deny", "Action": "kms:*", "Resource": "*"},  # about an unused service: dropped
                {"Effect": "Deny", "NotAction": "s3:Get*", "NotResource": "arn:aws:s3:::public/*"},
            ]
        },
    ]
    assert trimmed_policy(documents, ["s3", "ec2"])["Statement"] == [
        {"Effect": "Allow", "Action": ["ec2:*", "s3:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["ec2:Describe*", "s3:List*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*", "Condition": {"Bool": {"x": "1"}}},  # s3 in part: out
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "s3:Get*", "NotResource": "arn:aws:s3:::public/*"},
    ]


def test_unused_service_permissions_cuts_a_long_suggestion(account: Account) -> None:
    used = [f"svc{i:02d}" for i in range(60)]
    arn = account.role("busy", actions=tuple(f"{ns}:Get" for ns in [*used, "unusedsvc"]))
    sessions = AdvisorSessions(account.session)
    audit_day = datetime.now(UTC) + timedelta(days=100)
    sessions.expect(arn, [service(ns, audit_day) for ns in used] + [service("unusedsvc", None)])
    with sessions.stubber:
        snapshot = account.snapshot(sessions)
    detail = run("unused_service_permissions", later(snapshot, days=100))[0].detail
    suggestion = detail.split("svc07 and 52 more: ", 1)[1]
    assert len(suggestion) == SUGGESTION_CHARS and suggestion.endswith("…")


# --- cloudtrail_multi_region ---------------------------------------------------------------------------------


def test_cloudtrail_multi_region_fails_without_any_trail(account: Account) -> None:
    results = run("cloudtrail_multi_region", account.snapshot())
    assert list(failing(results)) == ["account"]
    assert "no CloudTrail trail" in results[0].detail


def test_cloudtrail_multi_region_fails_and_says_what_each_trail_lacks(account: Account) -> None:
    account.trail("regional", multi_region=False)
    account.trail("stopped", logging=False)
    account.trail("writes")
    account.cloudtrail.put_event_selectors(
        TrailName="writes", EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    )
    detail = failing(run("cloudtrail_multi_region", account.snapshot()))["account"].detail
    assert "regional covers only its home region" in detail
    assert "stopped is not logging" in detail
    assert "writes records only write management events, not read" in detail


def test_cloudtrail_multi_region_passes_with_default_or_advanced_selectors(account: Account) -> None:
    account.trail("main")  # selectors never customised: all management events
    results = run("cloudtrail_multi_region", account.snapshot())
    assert list(passing(results)) == ["account"]
    assert "Multi-region trail main is logging" in results[0].detail
    account.cloudtrail.put_event_selectors(
        TrailName="main",
        AdvancedEventSelectors=[
            {"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
        ],
    )
    assert list(passing(run("cloudtrail_multi_region", account.snapshot()))) == ["account"]


@pytest.mark.parametrize(
    ("selectors", "kinds"),
    [
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}, {"read", "write"}),
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False}]}, set()),
        (
            {
                "EventSelectors": [
                    {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True},
                    {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True},
                ]
            },
            {"read", "write"},
        ),
        (
            {
                "AdvancedEventSelectors": [
                    {
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Management"]},
                            {"Field": "readOnly", "Equals": ["true"]},
                        ]
                    }
                ]
            },
            {"read"},
        ),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}]}, set()),
        ({"HasCustomEventSelectors": True}, None),  # selectors not collected: unknown
    ],
)
def test_management_coverage_reads_basic_and_advanced_selectors(selectors: dict, kinds: set[str] | None) -> None:
    assert management_coverage({"HasCustomEventSelectors": True, **selectors}) == kinds


# --- cloudtrail_log_validation -------------------------------------------------------------------------------


def test_cloudtrail_log_validation_fails_without_validation(account: Account) -> None:
    arn = account.trail("main", validation=False)
    results = run("cloudtrail_log_validation", account.snapshot())
    assert list(failing(results)) == [arn]
    assert results[0].detail.startswith("Trail main (us-east-1) has log file validation off")


def test_cloudtrail_log_validation_passes_with_validation(account: Account) -> None:
    arn = account.trail("main")
    assert list(passing(run("cloudtrail_log_validation", account.snapshot()))) == [arn]


# --- cloudtrail_logs_retained --------------------------------------------------------------------------------


def test_cloudtrail_logs_retained_fails_when_logs_expire_within_90_days(account: Account) -> None:
    arn = account.trail("main", prefix="audit")
    account.expire_logs(30, prefix="audit/AWSLogs/", rule="short")
    results = run("cloudtrail_logs_retained", account.snapshot())
    assert list(failing(results)) == [arn]
    assert f"bucket {BUCKET}, whose lifecycle rule short expires objects after 30 days" in results[0].detail


def test_cloudtrail_logs_retained_passes_without_expiry_or_with_long_or_unrelated_rules(account: Account) -> None:
    arn = account.trail("main")
    assert "no expiry rule" in passing(run("cloudtrail_logs_retained", account.snapshot()))[arn].detail
    account.expire_logs(400)
    assert "for 400 days" in passing(run("cloudtrail_logs_retained", account.snapshot()))[arn].detail
    account.expire_logs(7, prefix="tmp/")  # another part of the bucket
    assert arn in passing(run("cloudtrail_logs_retained", account.snapshot()))


def test_cloudtrail_logs_retained_unreadable_lifecycle_fails_low(account: Account) -> None:
    arn = account.trail("main")
    account.s3.delete_bucket(Bucket=BUCKET)  # GetBucketLifecycleConfiguration now answers NoSuchBucket
    results = run("cloudtrail_logs_retained", account.snapshot())
    assert [(r.resource, r.status, r.severity) for r in results] == [(arn, Status.FAIL, "low")]
    assert f"could not be read (NoSuchBucket on {LIFECYCLE_ACTION})" in results[0].detail


def test_log_prefix_follows_the_trail_key_prefix() -> None:
    assert log_prefix({}) == "AWSLogs/"
    assert log_prefix({"S3KeyPrefix": "org/audit/"}) == "org/audit/AWSLogs/"


# --- cloudtrail_delivering -----------------------------------------------------------------------------------


def test_cloudtrail_delivering_passes_a_fresh_delivery(account: Account) -> None:
    arn = account.trail("main")
    results = run("cloudtrail_delivering", account.snapshot())
    assert list(passing(results)) == [arn]
    assert "last delivered a log file less than an hour ago" in results[0].detail


def test_cloudtrail_delivering_fails_silent_stopped_or_erroring_trails(account: Account) -> None:
    arn = account.trail("main")
    snapshot = account.snapshot()
    silent = run("cloudtrail_delivering", later(snapshot, hours=30))
    assert failing(silent)[arn].detail.endswith("last delivered a log file 30 hours ago.")
    erroring = run("cloudtrail_delivering", with_trail_status(snapshot, LatestDeliveryError="AccessDenied"))
    assert failing(erroring)[arn].detail.endswith(f"fails to deliver to bucket {BUCKET}: AccessDenied.")
    account.cloudtrail.stop_logging(Name="main")
    stopped = run("cloudtrail_delivering", later(account.snapshot(), days=3))
    assert failing(stopped)[arn].detail.endswith("is not logging since 3 days ago.")


# --- access_analyzer_enabled (IAM Access Analyzer through Stubbers) ------------------------------------------


def analyzer(name: str, region: str, status: str = "ACTIVE", kind: str = "ACCOUNT") -> dict:
    """One ListAnalyzers entry."""
    return {
        "arn": f"arn:aws:access-analyzer:{region}:{ACCOUNT_ID}:analyzer/{name}",
        "name": name,
        "type": kind,
        "createdAt": datetime(2025, 1, 1, tzinfo=UTC),
        "status": status,
    }


@pytest.fixture
def analyzer_stubs(account: Account) -> Iterator[tuple[AwsSessions, dict[str, Stubber]]]:
    """AwsSessions whose Access Analyzer clients (us-east-1 and eu-west-1) answer from Stubbers."""
    sessions = AwsSessions(account.session)
    stubbers = {
        region: Stubber(sessions.client("accessanalyzer", region=region)) for region in ("us-east-1", "eu-west-1")
    }
    for stubber in stubbers.values():
        stubber.activate()
    yield sessions, stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def test_access_analyzer_enabled_passes_with_an_active_analyzer_per_region(
    account: Account, analyzer_stubs: Any
) -> None:
    sessions, stubbers = analyzer_stubs
    for region, stubber in stubbers.items():
        stubber.add_response("list_analyzers", {"analyzers": [analyzer("external", region)]}, {})
    snapshot = account.snapshot(sessions, regions=("us-east-1", "eu-west-1"))
    results = run("access_analyzer_enabled", snapshot)
    assert list(passing(results)) == ["account"]
    assert "us-east-1 (external), eu-west-1 (external)" in results[0].detail


def test_access_analyzer_enabled_fails_for_a_region_without_an_active_one(
    account: Account, analyzer_stubs: Any
) -> None:
    sessions, stubbers = analyzer_stubs
    stubbers["us-east-1"].add_response("list_analyzers", {"analyzers": [analyzer("old", "us-east-1", "DISABLED")]}, {})
    unused_access = analyzer("unused", "eu-west-1", kind="ACCOUNT_UNUSED_ACCESS")  # does not look for external access
    stubbers["eu-west-1"].add_response(
        "list_analyzers", {"analyzers": [analyzer("external", "eu-west-1"), unused_access]}, {}
    )
    snapshot = account.snapshot(sessions, regions=("us-east-1", "eu-west-1"))
    results = run("access_analyzer_enabled", snapshot)
    assert list(failing(results)) == ["account"]
    assert results[0].detail == (
        "No active external-access analyzer in 1 of 2 audited regions: us-east-1 (old is DISABLED)."
    )


def test_access_analyzer_enabled_against_moto_is_could_not_check(account: Account) -> None:
    audit = run_checks(account.snapshot(), (check("access_analyzer_enabled"),))
    assert len(audit.errors) == 1
    assert audit.errors[0].startswith(f"{ACCOUNT_ID}: could not check access_analyzer_enabled (access_analyzer: ")


def test_audited_regions_are_the_collected_regions_and_an_empty_one_fails() -> None:
    snapshot = Snapshot(
        account=ACCOUNT_ID,
        collected_at=datetime(2026, 1, 1, tzinfo=UTC),
        analyzers=[analyzer("a", "us-east-1")],
        regions=("us-east-1", "ap-south-1", "us-east-1"),
    )
    assert audited_regions(snapshot) == ["us-east-1", "ap-south-1"]
    # a region where nothing was found still counts: that is exactly the gap to report
    detail = failing(run("access_analyzer_enabled", snapshot))["account"].detail
    assert detail == "No active external-access analyzer in 1 of 2 audited regions: ap-south-1."


# --- support_role_exists -------------------------------------------------------------------------------------


def test_support_role_exists_fails_when_only_a_user_has_the_policy(account: Account) -> None:
    account.iam.create_user(UserName="carol")
    account.iam.attach_user_policy(UserName="carol", PolicyArn=SUPPORT_ACCESS)
    results = run("support_role_exists", account.snapshot())
    assert list(failing(results)) == ["account"]
    assert results[0].detail == (
        "No role has the AWSSupportAccess policy attached (it is attached to user carol, but not to a role)."
    )


def test_support_role_exists_passes_with_a_support_role(account: Account) -> None:
    account.role("support", managed=(SUPPORT_ACCESS,))
    results = run("support_role_exists", account.snapshot())
    assert list(passing(results)) == ["account"]
    assert results[0].detail == "AWSSupportAccess is attached to role support."


# --- registry --------------------------------------------------------------------------------------------------


def test_these_checks_are_registered_with_their_mappings() -> None:
    registered = {c.id: c for c in all_checks()}
    assert set(MINE) <= set(registered)
    assert registered["cloudtrail_multi_region"].mappings["Security Hub"] == ("CloudTrail.1",)
    assert registered["support_role_exists"].mappings["CIS AWS Foundations v5"] == ("1.16",)
    assert registered["access_analyzer_enabled"].mappings["CIS AWS Foundations v5"] == ("1.19",)
    assert registered["role_trust_open"].severity.value == "critical"
