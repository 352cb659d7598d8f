"""The checks of issue 13 part 2 (what the reference scanner checks and the audit lacked), each failing and passing
on a moto account snapshotted by the real collector.

moto has no ListOrganizationsFeatures: its answers (per account) come from a before-call hook on the real,
moto-backed IAM clients the collector uses, so every other call still reaches moto and is counted. Facts moto
cannot produce are layered on the snapshot with `dataclasses.replace`, each place saying which: it never reports
root MFA or root credentials in GetAccountSummary, cannot assign an MFA device to root, cannot record a
credential's use, and dates every server certificate to expire in 2012 and every SAML metadata in 2032.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import moto.iam.models
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from aws.collector import collect
from aws.sessions import AwsSessions
from checks import all_checks, check
from checks.base import Status
from checks.engine import run_checks
from iam.snapshot import Snapshot
from iam.trust import unguarded_services
from tests.checks.accounts import Account, failing, passing, run

ACCOUNT_ID = "123456789012"  # moto's account
MEMBER = "210987654321"
OTHER_ACCOUNT = "999988887777"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT_ID}:root"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SECURITY_AUDIT = "arn:aws:iam::aws:policy/SecurityAudit"
CLOUDSHELL = "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"
AWS_POLICIES = ("AdministratorAccess", "ReadOnlyAccess", "SecurityAudit", "AWSCloudShellFullAccess")

MINE = (
    "root_credentials_management_enabled",
    "member_root_credentials_present",
    "root_hardware_mfa",
    "admin_hardware_mfa",
    "initial_access_keys_unused",
    "long_lived_keys_in_use",
    "policy_full_cloudtrail_access",
    "policy_full_kms_access",
    "policy_assume_any_role",
    "cloudshell_full_access_attached",
    "role_service_confused_deputy",
    "cross_account_readonly_role",
    "security_audit_role_exists",
    "saml_providers_present",
    "expired_server_certificates",
)

ENABLED = {"OrganizationId": "o-abcdefghij", "EnabledFeatures": ["RootCredentialsManagement", "RootSessions"]}
NO_FEATURES = {"OrganizationId": "o-abcdefghij", "EnabledFeatures": []}


def error(code: str) -> dict:
    """An IAM error reply, as the hook hands it to botocore."""
    return {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": 400}}


class FeatureSessions(AwsSessions):
    """AwsSessions whose IAM clients answer ListOrganizationsFeatures with `answers[account]` (None = the bot's
    own), as moto cannot; every other call goes to moto."""

    def __init__(self, session: boto3.Session, answers: dict[str | None, dict]) -> None:
        super().__init__(session)
        self.answers = answers
        self.asked: list[str | None] = []

    def client(self, service: str, account: str | None = None, region: str = "us-east-1") -> Any:
        real = super().client(service, account, region)
        if service == "iam":
            key = None if account in (None, ACCOUNT_ID) else account

            def answer(model: Any, **_: Any) -> tuple[AWSResponse, dict] | None:
                if model.name != "ListOrganizationsFeatures":
                    return None
                self.asked.append(key)
                reply = self.answers[key]
                return AWSResponse("https://iam.amazonaws.com/", 400 if "Error" in reply else 200, {}, None), reply

            real.meta.events.register("before-call.iam.ListOrganizationsFeatures", answer, unique_id="features")
        return real


@pytest.fixture(autouse=True)
def few_aws_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto loads only the AWS managed policies used here, with their real documents (see accounts.py)."""
    every = json.loads(moto.iam.models.aws_managed_policies_data)
    monkeypatch.setattr(moto.iam.models, "aws_managed_policies_data", json.dumps({n: every[n] for n in AWS_POLICIES}))


@pytest.fixture
def account(aws: boto3.Session) -> Account:
    """An empty moto account to build on."""
    return Account(aws)


def snap(account: Account, features: dict | None = None, *, member: bool = False, own: dict | None = None) -> Snapshot:
    """The account through the real collector; ListOrganizationsFeatures answers `features` (enabled by default).
    `member`: audit MEMBER (reached through the member role, as moto allows), the bot's own account answering `own`."""
    answers = {MEMBER if member else None: features if features is not None else ENABLED}
    if member:
        answers[None] = own if own is not None else ENABLED
    return collect(FeatureSessions(account.session, answers), MEMBER if member else None, sleep=lambda _: None)


def with_summary(snapshot: Snapshot, **values: int) -> Snapshot:
    """Override account summary values (moto never reports root MFA or root credentials)."""
    return dataclasses.replace(snapshot, account_summary={**(snapshot.account_summary or {}), **values})


def with_row(snapshot: Snapshot, user: str, **cells: str) -> Snapshot:
    """Change cells of one user's credential report row (moto cannot record a credential's use)."""
    rows = [{**r, **cells} if r.get("user") == user else r for r in snapshot.credential_report or []]
    return dataclasses.replace(snapshot, credential_report=rows)


def at(snapshot: Snapshot, when: datetime) -> Snapshot:
    """The same snapshot, as if collected at `when`."""
    return dataclasses.replace(snapshot, collected_at=when)


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"


def trusting(principal: dict, condition: dict | None = None) -> dict:
    """A trust policy admitting `principal` to sts:AssumeRole."""
    statement: dict = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


# --- root ----------------------------------------------------------------------------------------------------


def test_root_credentials_management_fails_when_off_and_passes_when_on(account: Account) -> None:
    off = run("root_credentials_management_enabled", snap(account, NO_FEATURES))
    assert [r.status for r in off] == [Status.FAIL]
    assert "Centralized root access is off" in off[0].detail
    on = run("root_credentials_management_enabled", snap(account, ENABLED))
    assert [(r.resource, r.status) for r in on] == [("account", Status.PASS)]
    assert "also RootSessions" in on[0].detail


def test_root_credentials_management_fails_when_iam_trusted_access_is_off(account: Account) -> None:
    snapshot = snap(account, error("ServiceAccessNotEnabledException"))
    assert snapshot.organization_features["Role"] == "management"
    results = run("root_credentials_management_enabled", snapshot)
    assert [r.status for r in results] == [Status.FAIL]
    assert "ServiceAccessNotEnabledException" in results[0].detail


def test_root_credentials_management_passes_a_standalone_account(account: Account) -> None:
    results = run("root_credentials_management_enabled", snap(account, error("OrganizationNotFoundException")))
    assert [r.status for r in results] == [Status.PASS]
    assert "in no organization" in results[0].detail


def test_a_member_account_is_answered_by_the_bots_account(account: Account) -> None:
    sessions = FeatureSessions(
        account.session, {MEMBER: error("AccountNotManagementOrDelegatedAdministratorException"), None: NO_FEATURES}
    )
    snapshot = collect(sessions, MEMBER, sleep=lambda _: None)
    assert sessions.asked == [MEMBER, None]
    assert snapshot.account == MEMBER and "organization_features" not in snapshot.errors
    assert snapshot.organization_features["Role"] == "member"
    assert snapshot.organization_features["Source"] == "the bot's account"
    assert snapshot.api_calls["iam:ListOrganizationsFeatures"] == 2
    results = run("root_credentials_management_enabled", snapshot)
    assert [r.status for r in results] == [Status.PASS] and "(off)" in results[0].detail


def test_a_denied_features_call_is_could_not_check(account: Account) -> None:
    snapshot = snap(account, error("AccessDenied"))
    assert snapshot.errors["organization_features"] == "AccessDenied on iam:ListOrganizationsFeatures"
    audit = run_checks(
        snapshot, (check("root_credentials_management_enabled"), check("member_root_credentials_present"))
    )
    assert audit.ran == set() and len(audit.errors) == 2
    assert all("could not check" in line and "AccessDenied" in line for line in audit.errors)


MEMBER_ERROR = error("AccountNotManagementOrDelegatedAdministratorException")


def test_member_root_credentials_fail_while_centralized_root_access_is_on(account: Account) -> None:
    snapshot = snap(account, MEMBER_ERROR, member=True, own=ENABLED)
    # moto's summary says nothing of root's credentials: the member's root still has a password and an MFA device.
    held = with_summary(snapshot, AccountPasswordPresent=1, AccountMFAEnabled=1, AccountAccessKeysPresent=0)
    results = run("member_root_credentials_present", held)
    assert list(failing(results)) == [f"arn:aws:iam::{MEMBER}:root"]
    assert "a password, an MFA device" in results[0].detail


def test_member_root_credentials_pass_once_deleted_or_while_the_feature_is_off(account: Account) -> None:
    snapshot = snap(account, MEMBER_ERROR, member=True, own=ENABLED)
    cleared = with_summary(snapshot, AccountPasswordPresent=0, AccountMFAEnabled=0, AccountAccessKeysPresent=0)
    assert [r.status for r in run("member_root_credentials_present", cleared)] == [Status.PASS]
    off = snap(account, MEMBER_ERROR, member=True, own=NO_FEATURES)
    results = run("member_root_credentials_present", with_summary(off, AccountPasswordPresent=1))
    assert [r.status for r in results] == [Status.PASS] and "is off" in results[0].detail
    management = run("member_root_credentials_present", with_summary(snap(account), AccountPasswordPresent=1))
    assert [r.status for r in management] == [Status.PASS] and "Not a member account" in management[0].detail


def root_virtual_device() -> dict:
    """An assigned virtual MFA device of root, as ListVirtualMFADevices gives it (moto cannot assign one)."""
    return {
        "SerialNumber": f"arn:aws:iam::{ACCOUNT_ID}:mfa/root-account-mfa-device",
        "User": {"Arn": ROOT_ARN, "UserName": "root", "UserId": ACCOUNT_ID, "Path": "/", "CreateDate": "2024"},
        "EnableDate": "2024-01-01T00:00:00Z",
    }


def test_root_hardware_mfa_fails_on_a_virtual_device_or_none(account: Account) -> None:
    snapshot = with_summary(snap(account), AccountMFAEnabled=1)
    virtual = run("root_hardware_mfa", dataclasses.replace(snapshot, virtual_mfa_devices=[root_virtual_device()]))
    assert list(failing(virtual)) == [ROOT_ARN] and "virtual authenticator" in virtual[0].detail
    none = run("root_hardware_mfa", with_summary(snapshot, AccountMFAEnabled=0, AccountPasswordPresent=1))
    assert list(failing(none)) == [ROOT_ARN] and "no MFA device at all" in none[0].detail


def test_root_hardware_mfa_passes_when_the_device_is_not_virtual(account: Account) -> None:
    account.user("alice", console=True, mfa=True)  # a user's virtual device is not root's
    snapshot = snap(account)
    assert len(snapshot.virtual_mfa_devices) == 1
    results = run("root_hardware_mfa", with_summary(snapshot, AccountMFAEnabled=1))
    assert list(passing(results)) == [ROOT_ARN] and "hardware" in results[0].detail


# --- users ---------------------------------------------------------------------------------------------------


def test_admin_hardware_mfa_fails_on_virtual_or_no_mfa_and_passes_on_hardware(account: Account) -> None:
    account.user("virtual", console=True, mfa=True, managed=[ADMINISTRATOR_ACCESS])
    account.user("nomfa", console=True, managed=[ADMINISTRATOR_ACCESS])
    account.user("hardware", console=True, managed=[ADMINISTRATOR_ACCESS])
    account.iam.enable_mfa_device(
        UserName="hardware", SerialNumber="GAHT12345678", AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    account.user("reader", console=True, mfa=True, managed=[READ_ONLY_ACCESS])  # not an admin: not judged
    results = run("admin_hardware_mfa", snap(account))
    assert set(failing(results)) == {user_arn("virtual"), user_arn("nomfa")}
    assert list(passing(results)) == [user_arn("hardware")]
    assert "virtual MFA device" in failing(results)[user_arn("virtual")].detail
    assert "no MFA device at all" in failing(results)[user_arn("nomfa")].detail


def test_initial_access_keys_unused_fails_on_a_console_users_never_used_key(account: Account) -> None:
    account.user("alice", console=True, keys=1)
    account.user("bob", console=True)
    account.user("ci", keys=1)  # no console password: unused_credentials judges it, not this check
    results = run("initial_access_keys_unused", snap(account))
    assert list(failing(results)) == [user_arn("alice")]
    assert "access key 1 (made with the user on" in failing(results)[user_arn("alice")].detail
    assert list(passing(results)) == [user_arn("bob")]


def test_initial_access_keys_unused_passes_once_the_key_is_used(account: Account) -> None:
    account.user("alice", console=True, keys=1)
    used = with_row(snap(account), "alice", access_key_1_last_used_date="2026-01-02T03:04:05+00:00")
    assert list(passing(run("initial_access_keys_unused", used))) == [user_arn("alice")]


def test_long_lived_keys_in_use_fails_on_direct_service_use(account: Account) -> None:
    account.user("app", keys=1)
    account.user("human", keys=1)
    snapshot = snap(account)
    used = "2026-01-02T03:04:05+00:00"
    snapshot = with_row(snapshot, "app", access_key_1_last_used_date=used, access_key_1_last_used_service="s3")
    snapshot = with_row(snapshot, "human", access_key_1_last_used_date=used, access_key_1_last_used_service="sts")
    results = run("long_lived_keys_in_use", snapshot)
    assert list(failing(results)) == [user_arn("app")]
    assert "access key 1 last used on s3" in failing(results)[user_arn("app")].detail
    assert list(passing(results)) == [user_arn("human")]  # its key only obtains temporary credentials


def test_long_lived_keys_in_use_reads_access_advisor_where_it_looked(account: Account) -> None:
    account.user("human", keys=1)
    snapshot = with_row(
        snap(account), "human", access_key_1_last_used_date="2026-01-02T03:04:05Z", access_key_1_last_used_service="sts"
    )
    # moto has no Access Advisor: the services the user reached, as the advisor part would hold them.
    advisor = {user_arn("human"): [{"ServiceNamespace": "ec2", "LastAuthenticated": datetime(2026, 1, 1, tzinfo=UTC)}]}
    results = run("long_lived_keys_in_use", dataclasses.replace(snapshot, access_advisor=advisor))
    assert list(failing(results)) == [user_arn("human")] and "Access Advisor shows ec2 used" in results[0].detail


# --- policies ------------------------------------------------------------------------------------------------


def test_full_cloudtrail_and_kms_policies_fail_and_scoped_ones_pass(account: Account) -> None:
    trail_admin = account.policy("trail-admin", ["cloudtrail:*"])
    key_admin = account.policy("key-admin", ["KMS:*"])
    reader = account.policy("reader", ["cloudtrail:Describe*", "kms:Decrypt"])
    account.role("ops", inline={"logs": ["CloudTrail:*"]})
    snapshot = snap(account)
    trail = run("policy_full_cloudtrail_access", snapshot)
    assert set(failing(trail)) == {trail_admin, role_arn("ops")}
    assert (
        "inline policy logs of role ops allows CloudTrail:* on every resource" in failing(trail)[role_arn("ops")].detail
    )
    assert "not attached" in failing(trail)[trail_admin].detail
    assert set(passing(trail)) == {key_admin, reader}
    kms = run("policy_full_kms_access", snapshot)
    assert list(failing(kms)) == [key_admin]
    assert set(passing(kms)) == {trail_admin, reader, role_arn("ops")}


def test_admin_star_is_left_to_the_full_admin_check(account: Account) -> None:
    star = account.policy("everything", ["*"])
    snapshot = snap(account)
    for check_id in ("policy_full_cloudtrail_access", "policy_full_kms_access", "policy_assume_any_role"):
        assert list(passing(run(check_id, snapshot))) == [star]


def test_policy_assume_any_role_fails_on_star_and_passes_on_named_roles(account: Account) -> None:
    hopper = account.policy("hopper", ["sts:AssumeRole"])
    account.user("dev", inline={"jump": ["sts:*"]})
    named = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn("deploy")}
    scoped = account.iam.create_policy(
        PolicyName="scoped", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [named]})
    )["Policy"]["Arn"]
    account.iam.attach_user_policy(UserName="dev", PolicyArn=hopper)
    results = run("policy_assume_any_role", snap(account))
    assert set(failing(results)) == {hopper, user_arn("dev")}
    assert "sts:AssumeRole on *, attached to 1 principal" in failing(results)[hopper].detail
    assert "sts:* on *" in failing(results)[user_arn("dev")].detail
    assert list(passing(results)) == [scoped]


def test_cloudshell_full_access_fails_per_holder_and_passes_without(account: Account) -> None:
    assert [r.resource for r in run("cloudshell_full_access_attached", snap(account))] == ["account"]
    account.user("alice", managed=[CLOUDSHELL])
    account.group("ops", managed=[CLOUDSHELL])
    results = run("cloudshell_full_access_attached", snap(account))
    assert set(failing(results)) == {user_arn("alice"), f"arn:aws:iam::{ACCOUNT_ID}:group/ops"}
    assert not passing(results)


# --- roles ---------------------------------------------------------------------------------------------------


def test_service_trust_without_source_condition_fails(account: Account) -> None:
    account.role("notify", trust=trusting({"Service": "sns.amazonaws.com"}))
    account.role(
        "pinned",
        trust=trusting({"Service": "sns.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}),
    )
    account.role("cluster", trust=trusting({"Service": "eks.amazonaws.com"}))  # EKS acts only in its own account
    account.role("people")  # trusts the account, no service: no finding
    results = run("role_service_confused_deputy", snap(account))
    assert list(failing(results)) == [role_arn("notify")]
    assert "trusts sns.amazonaws.com with no aws:SourceAccount" in failing(results)[role_arn("notify")].detail
    assert set(passing(results)) == {role_arn("pinned"), role_arn("cluster")}


def test_unguarded_services_is_judged_by_the_trust_module() -> None:
    arn_like = {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic"}}
    assert unguarded_services(trusting({"Service": ["sns.amazonaws.com", "events.amazonaws.com"]}), ACCOUNT_ID) == [
        "sns.amazonaws.com",
        "events.amazonaws.com",
    ]
    assert unguarded_services(trusting({"Service": "sns.amazonaws.com"}, arn_like), ACCOUNT_ID) == []
    wildcard_only = {"StringLike": {"aws:SourceArn": "*"}}  # a pattern matching everything pins nothing
    assert unguarded_services(trusting({"Service": "sns.amazonaws.com"}, wildcard_only), ACCOUNT_ID) == [
        "sns.amazonaws.com"
    ]


def test_cross_account_readonly_role_fails_and_own_account_passes(account: Account) -> None:
    account.role("vendor", managed=[READ_ONLY_ACCESS], trust=trusting({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}))
    account.role("internal", managed=[READ_ONLY_ACCESS])
    account.role("vendor-audit", managed=[SECURITY_AUDIT], trust=trusting({"AWS": OTHER_ACCOUNT}))
    results = run("cross_account_readonly_role", snap(account))
    assert list(failing(results)) == [role_arn("vendor")]
    assert f"can be assumed from account {OTHER_ACCOUNT}" in failing(results)[role_arn("vendor")].detail
    assert list(passing(results)) == [role_arn("internal")]


def test_security_audit_role_fails_without_and_passes_with(account: Account) -> None:
    account.user("auditor", managed=[SECURITY_AUDIT])  # a user, not a role
    missing = run("security_audit_role_exists", snap(account))
    assert [r.status for r in missing] == [Status.FAIL]
    account.role("security-audit", managed=[SECURITY_AUDIT])
    present = run("security_audit_role_exists", snap(account))
    assert [r.status for r in present] == [Status.PASS] and "role security-audit" in present[0].detail


# --- federation and certificates -----------------------------------------------------------------------------


def test_saml_providers_listed_with_expiry_and_expired_metadata_fails(account: Account) -> None:
    arn = account.iam.create_saml_provider(Name="okta", SAMLMetadataDocument="<md/>" * 200)["SAMLProviderArn"]
    snapshot = snap(account)
    results = run("saml_providers_present", snapshot)
    assert list(passing(results)) == [arn] and "valid until 2032-05-09" in results[0].detail  # moto's date
    expired = run("saml_providers_present", at(snapshot, datetime(2033, 1, 1, tzinfo=UTC)))
    assert list(failing(expired)) == [arn] and "expired on 2032-05-09" in expired[0].detail


def test_no_saml_provider_fails_unless_identity_center_roles_exist(account: Account) -> None:
    assert [r.status for r in run("saml_providers_present", snap(account))] == [Status.FAIL]
    account.iam.create_role(
        RoleName="AWSReservedSSO_Admin_0123456789abcdef",
        Path="/aws-reserved/sso.amazonaws.com/",
        AssumeRolePolicyDocument=json.dumps(trusting({"Federated": f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/x"})),
    )
    results = run("saml_providers_present", snap(account))
    assert [r.status for r in results] == [Status.PASS] and "Identity Center" in results[0].detail


def test_expired_server_certificates_fail_and_valid_ones_pass(account: Account) -> None:
    assert [r.resource for r in run("expired_server_certificates", snap(account))] == ["account"]
    account.iam.upload_server_certificate(ServerCertificateName="www", CertificateBody="cert", PrivateKey="key")
    snapshot = snap(account)
    arn = f"arn:aws:iam::{ACCOUNT_ID}:server-certificate/www"
    expired = run("expired_server_certificates", snapshot)  # moto dates every certificate to expire in 2012
    assert list(failing(expired)) == [arn] and "expired on 2012-05-08" in expired[0].detail
    before = run("expired_server_certificates", at(snapshot, datetime(2011, 1, 1, tzinfo=UTC)))
    assert list(passing(before)) == [arn] and "valid until 2012-05-08" in before[0].detail


def test_a_denied_listing_is_could_not_check_for_its_checks_only(account: Account) -> None:
    sessions = FeatureSessions(account.session, {None: ENABLED})

    def refuse(model: Any, **_: Any) -> None:
        if model.name in ("ListSAMLProviders", "ListServerCertificates", "ListVirtualMFADevices"):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, model.name)

    sessions.client("iam").meta.events.register("before-call.iam.*", refuse)
    snapshot = collect(sessions, sleep=lambda _: None)
    assert snapshot.errors["saml_providers"] == "AccessDenied on iam:ListSAMLProviders"
    assert snapshot.errors["server_certificates"] == "AccessDenied on iam:ListServerCertificates"
    assert snapshot.errors["virtual_mfa_devices"] == "AccessDenied on iam:ListVirtualMFADevices"
    audit = run_checks(snapshot, tuple(check(c) for c in MINE))
    skipped = {line.split("could not check ")[1].split(" ")[0] for line in audit.errors}
    assert skipped == {
        "saml_providers_present",
        "expired_server_certificates",
        "root_hardware_mfa",
        "admin_hardware_mfa",
    }
    assert set(MINE) - skipped == audit.ran


# --- registry --------------------------------------------------------------------------------------------------


def test_these_checks_are_registered_with_their_mappings() -> None:
    registered = {c.id: c for c in all_checks()}
    assert set(MINE) <= set(registered)
    assert registered["root_hardware_mfa"].mappings == {"CIS AWS Foundations v5": ("1.5",), "Security Hub": ("IAM.6",)}
    assert registered["initial_access_keys_unused"].mappings == {"CIS AWS Foundations v5": ("1.10",)}
    assert registered["expired_server_certificates"].mappings["Security Hub"] == ("IAM.26",)
    assert registered["cloudshell_full_access_attached"].mappings == {
        "CIS AWS Foundations v5": ("1.21",),
        "Security Hub": ("IAM.27",),
    }
    assert registered["saml_providers_present"].mappings == {"CIS AWS Foundations v5": ("1.20",)}
    for check_id in MINE:
        assert "aws " in registered[check_id].remediation  # every remediation gives the fix as a command
