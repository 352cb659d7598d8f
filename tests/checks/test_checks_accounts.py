"""Every account check against a failing and a passing account built in moto, plus the registry's rules.

Accounts are snapshotted with the real collector. Facts moto cannot express are layered on the snapshot
with `dataclasses.replace`, each place saying which: moto's credential report has no `<root_account>` row,
its account summary never reports root MFA or root keys, and it cannot record a credential's last use.
Time-based checks move `collected_at` forward instead of sleeping.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from datetime import UTC, datetime, timedelta

import boto3
import pytest

import checks.catalog as catalog_pkg
from checks import all_checks, helpers
from checks.base import Status
from checks.engine import run_checks
from core.severity import Severity
from iam.snapshot import PARTS, Snapshot
from tests.checks.accounts import (
    ADMINISTRATOR_ACCESS,
    IAM_FULL_ACCESS,
    READ_ONLY_ACCESS,
    Account,
    failing,
    load_only_used_aws_policies,
    passing,
    run,
)

ACCOUNT_ID = "123456789012"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT_ID}:root"


# --- helpers -----------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def few_aws_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto loads only the AWS managed policies used here (see accounts.py), which keeps each test fast."""
    load_only_used_aws_policies(monkeypatch)


@pytest.fixture
def account(aws: boto3.Session) -> Account:
    """An empty moto account to build on."""
    return Account(aws)


def later(snapshot: Snapshot, days: int) -> Snapshot:
    """The same snapshot, as if collected `days` later."""
    return dataclasses.replace(snapshot, collected_at=snapshot.collected_at + timedelta(days=days))


def cell(when: datetime) -> str:
    """A date as the credential report writes it."""
    return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def with_root(snapshot: Snapshot, **cells: str) -> Snapshot:
    """Add a `<root_account>` row to the credential report (moto's report has none)."""
    row = {
        "user": "<root_account>",
        "arn": ROOT_ARN,
        "user_creation_time": cell(snapshot.collected_at - timedelta(days=900)),
        "password_enabled": "not_supported",
        "password_last_used": "no_information",
        "password_last_changed": "not_supported",
        "password_next_rotation": "not_supported",
        "mfa_active": "true",
        "access_key_1_active": "false",
        "access_key_1_last_rotated": "N/A",
        "access_key_1_last_used_date": "N/A",
        "access_key_2_active": "false",
        "access_key_2_last_rotated": "N/A",
        "access_key_2_last_used_date": "N/A",
    }
    row.update(cells)
    rows = [r for r in snapshot.credential_report or [] if r.get("user") != "<root_account>"]
    return dataclasses.replace(snapshot, credential_report=[row, *rows])


def with_summary(snapshot: Snapshot, **values: int) -> Snapshot:
    """Override account summary values (moto never reports root MFA, root keys or RootVirtualMFA)."""
    return dataclasses.replace(snapshot, account_summary={**(snapshot.account_summary or {}), **values})


def with_row(snapshot: Snapshot, user: str, **cells: str) -> Snapshot:
    """Change cells of one user's credential report row (moto cannot record a credential's use)."""
    rows = [{**r, **cells} if r.get("user") == user else r for r in snapshot.credential_report or []]
    return dataclasses.replace(snapshot, credential_report=rows)


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"


# --- root ----------------------------------------------------------------------------------------------------


def test_root_mfa_enabled_fails_without_mfa(account: Account) -> None:
    results = run("root_mfa_enabled", account.snapshot())  # moto: AccountMFAEnabled is 0
    assert list(failing(results)) == [ROOT_ARN]
    assert "AccountMFAEnabled is 0" in results[0].detail


def test_root_mfa_enabled_passes_and_names_the_device_kind(account: Account) -> None:
    snapshot = account.snapshot()
    virtual = run("root_mfa_enabled", with_summary(snapshot, AccountMFAEnabled=1, RootVirtualMFA=1))
    hardware = run("root_mfa_enabled", with_summary(snapshot, AccountMFAEnabled=1, RootVirtualMFA=0))
    assert [r.status for r in virtual + hardware] == [Status.PASS, Status.PASS]
    assert "virtual device" in virtual[0].detail and "hardware" in virtual[0].detail
    assert "hardware device" in hardware[0].detail


def test_root_access_keys_fails_on_an_active_root_key(account: Account) -> None:
    snapshot = account.snapshot()
    rotated = snapshot.collected_at - timedelta(days=400)
    keyed = with_root(snapshot, access_key_1_active="true", access_key_1_last_rotated=cell(rotated))
    results = run("root_access_keys", with_summary(keyed, AccountAccessKeysPresent=1))
    assert list(failing(results)) == [ROOT_ARN]
    assert results[0].severity == "critical"
    assert f"access key 1 created {rotated:%Y-%m-%d}" in results[0].detail


def test_root_access_keys_inactive_key_fails_at_low_severity(account: Account) -> None:
    results = run("root_access_keys", with_summary(with_root(account.snapshot()), AccountAccessKeysPresent=1))
    assert [(r.status, r.severity) for r in results] == [(Status.FAIL, "low")]


def test_root_access_keys_passes_without_keys(account: Account) -> None:
    snapshot = account.snapshot()
    for variant in (snapshot, with_root(snapshot)):
        assert list(passing(run("root_access_keys", variant))) == [ROOT_ARN]


def test_root_recently_used_fails_within_30_days(account: Account) -> None:
    snapshot = account.snapshot()
    used = snapshot.collected_at - timedelta(days=3)
    results = run("root_recently_used", with_root(snapshot, password_last_used=cell(used)))
    assert list(failing(results)) == [ROOT_ARN]
    assert f"{used:%Y-%m-%d} (3 days ago) through its password" in results[0].detail


def test_root_recently_used_counts_key_use_and_passes_when_old(account: Account) -> None:
    snapshot = account.snapshot()
    old = snapshot.collected_at - timedelta(days=200)
    recent_key = with_root(snapshot, password_last_used=cell(old), access_key_2_last_used_date=cell(old))
    assert list(passing(run("root_recently_used", recent_key))) == [ROOT_ARN]
    never = run("root_recently_used", with_root(snapshot))
    assert never[0].status is Status.PASS and "no use" in never[0].detail
    # A key used yesterday fails even when the password is old: the report's dates are judged together.
    key_used = with_root(recent_key, access_key_2_last_used_date=cell(snapshot.collected_at - timedelta(days=1)))
    assert "access key 2" in failing(run("root_recently_used", key_used))[ROOT_ARN].detail


# --- identities and admins -------------------------------------------------------------------------------------


def test_individual_users_exist_fails_for_an_empty_account(account: Account) -> None:
    results = run("individual_users_exist", account.snapshot())
    assert list(failing(results)) == ["account"]


def test_individual_users_exist_passes_with_users_or_identity_center(account: Account) -> None:
    account.role(
        "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
        trust={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/AWSSSO_0123_DO_NOT_DELETE"},
                    "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                }
            ],
        },
    )
    sso = run("individual_users_exist", account.snapshot())
    assert list(passing(sso)) == ["account"] and "IAM Identity Center" in sso[0].detail
    account.user("alice")
    users = run("individual_users_exist", account.snapshot())
    assert users[0].status is Status.PASS and "1 IAM user" in users[0].detail


def test_admin_principals_lists_each_admin_and_how(account: Account) -> None:
    account.group("admins", managed=[ADMINISTRATOR_ACCESS])
    account.user("alice", groups=["admins"])
    account.role("deployer", inline={"everything": ["*"]})
    account.user("reader", managed=[READ_ONLY_ACCESS])
    results = run("admin_principals", account.snapshot())
    found = failing(results)
    assert set(found) == {
        f"arn:aws:iam::{ACCOUNT_ID}:group/admins",
        user_arn("alice"),
        f"arn:aws:iam::{ACCOUNT_ID}:role/deployer",
    }
    assert all(r.severity == "info" for r in results)
    assert "granted by group admins: managed policy AdministratorAccess" in found[user_arn("alice")].detail
    assert "granted by inline policy everything" in found[f"arn:aws:iam::{ACCOUNT_ID}:role/deployer"].detail


def test_admin_principals_passes_once_without_admins(account: Account) -> None:
    account.user("reader", managed=[READ_ONLY_ACCESS])
    results = run("admin_principals", account.snapshot())
    assert [(r.resource, r.status) for r in results] == [("account", Status.PASS)]


def test_multiple_admin_users_fails_with_two(account: Account) -> None:
    account.user("alice", managed=[ADMINISTRATOR_ACCESS])
    account.user("bob", inline={"iam": ["iam:*"]})
    account.role("admin", managed=[ADMINISTRATOR_ACCESS])  # roles do not count
    results = run("multiple_admin_users", account.snapshot())
    assert failing(results)["account"].detail == "2 IAM users hold admin-equivalent power: alice, bob."


def test_multiple_admin_users_passes_with_one(account: Account) -> None:
    account.user("alice", managed=[ADMINISTRATOR_ACCESS])
    account.user("reader", managed=[READ_ONLY_ACCESS])
    account.role("admin", managed=[ADMINISTRATOR_ACCESS])
    results = run("multiple_admin_users", account.snapshot())
    assert passing(results)["account"].detail.endswith(": alice.")


def test_admin_without_mfa_fails_critical(account: Account) -> None:
    account.user("alice", console=True, keys=1, managed=[ADMINISTRATOR_ACCESS])
    results = run("admin_without_mfa", account.snapshot())
    result = failing(results)[user_arn("alice")]
    assert result.severity == "critical"
    assert "a console password and 1 active access key." in result.detail


def test_admin_without_mfa_is_low_for_an_admin_without_credentials(account: Account) -> None:
    account.user("dormant", managed=[ADMINISTRATOR_ACCESS])
    result = failing(run("admin_without_mfa", account.snapshot()))[user_arn("dormant")]
    assert result.severity == "low" and "no password or active access key yet" in result.detail


def test_admin_without_mfa_passes_with_mfa(account: Account) -> None:
    account.user("alice", console=True, mfa=True, managed=[ADMINISTRATOR_ACCESS])
    account.user("bob", console=True)  # not an admin: not this check's business
    results = run("admin_without_mfa", account.snapshot())
    assert [(r.resource, r.status) for r in results] == [(user_arn("alice"), Status.PASS)]


def test_iam_duty_separation_fails_when_one_principal_holds_both_duties(account: Account) -> None:
    account.user("alice", managed=[ADMINISTRATOR_ACCESS])  # a full admin is set aside
    account.role("iam-operator", managed=[IAM_FULL_ACCESS])
    results = run("iam_duty_separation", account.snapshot())
    assert "grant them policies: iam-operator." in failing(results)["account"].detail


def test_iam_duty_separation_fails_when_only_admins_do_iam(account: Account) -> None:
    account.user("alice", managed=[ADMINISTRATOR_ACCESS])
    results = run("iam_duty_separation", account.snapshot())
    detail = failing(results)["account"].detail
    assert detail == (
        "No dedicated principal can create IAM principals or grant them policies: "
        "only the full administrators (alice) can, so the duties are not split."
    )


def test_iam_duty_separation_passes_with_master_and_manager_roles(account: Account) -> None:
    account.user("alice", managed=[ADMINISTRATOR_ACCESS])
    account.role("iam-master", inline={"create": ["iam:CreateUser", "iam:CreateGroup", "iam:CreateRole"]})
    account.role(
        "iam-manager",
        inline={"assign": ["iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:AddUserToGroup"]},
    )
    results = run("iam_duty_separation", account.snapshot())
    assert "(iam-master) and granting policies (iam-manager)" in passing(results)["account"].detail


# --- policies ----------------------------------------------------------------------------------------------------


def test_customer_policy_full_admin_fails_attached_and_unattached(account: Account) -> None:
    attached = account.policy("Everything", ["*"])
    spare = account.policy("SpareEverything", ["*:*"])
    account.role("ops", managed=[attached])
    found = failing(run("customer_policy_full_admin", account.snapshot()))
    assert set(found) == {attached, spare}
    assert found[attached].severity == "high" and "attached to 1 principal" in found[attached].detail
    assert found[spare].severity == "medium" and "not attached" in found[spare].detail


def test_customer_policy_full_admin_passes_scoped_policies_and_ignores_aws_ones(account: Account) -> None:
    scoped = account.policy("ReadBuckets", ["s3:GetObject", "s3:ListBucket"])
    account.role("ops", managed=[scoped, ADMINISTRATOR_ACCESS])
    results = run("customer_policy_full_admin", account.snapshot())
    assert [(r.resource, r.status) for r in results] == [(scoped, Status.PASS)]


def test_privilege_escalation_fails_with_the_path(account: Account) -> None:
    account.user("builder", inline={"versions": ["iam:CreatePolicyVersion", "s3:GetObject"]})
    account.user("alice", managed=[ADMINISTRATOR_ACCESS])  # already an admin: not reported here
    results = run("privilege_escalation", account.snapshot())
    assert list(failing(results)) == [user_arn("builder")]
    assert "iam:CreatePolicyVersion" in results[0].detail and "granted by inline policy versions" in results[0].detail
    assert user_arn("alice") not in {r.resource for r in results}


def test_privilege_escalation_passes_harmless_principals(account: Account) -> None:
    account.user("reader", inline={"read": ["s3:GetObject"]})
    account.group("readers", managed=[READ_ONLY_ACCESS])
    results = run("privilege_escalation", account.snapshot())
    assert failing(results) == {}
    assert set(passing(results)) == {user_arn("reader"), f"arn:aws:iam::{ACCOUNT_ID}:group/readers"}


def test_user_attached_policies_fails_for_own_policies(account: Account) -> None:
    account.user("alice", managed=[READ_ONLY_ACCESS], inline={"extra": ["s3:GetObject"]})
    result = failing(run("user_attached_policies", account.snapshot()))[user_arn("alice")]
    assert result.detail == "User alice has 2 policies of its own: managed ReadOnlyAccess; inline extra."


def test_user_attached_policies_passes_through_groups(account: Account) -> None:
    account.group("readers", managed=[READ_ONLY_ACCESS])
    account.user("alice", groups=["readers"])
    assert list(passing(run("user_attached_policies", account.snapshot()))) == [user_arn("alice")]


# --- credentials -------------------------------------------------------------------------------------------------


def test_console_user_without_mfa_fails(account: Account) -> None:
    account.user("alice", console=True)
    result = failing(run("console_user_without_mfa", account.snapshot()))[user_arn("alice")]
    assert result.detail == "User alice has a console password (never used) and no MFA device."


def test_console_user_without_mfa_passes(account: Account) -> None:
    account.user("alice", console=True, mfa=True)
    account.user("robot", keys=1)  # no console password: not in scope
    results = run("console_user_without_mfa", account.snapshot())
    assert [(r.resource, r.status) for r in results] == [(user_arn("alice"), Status.PASS)]


def test_console_user_without_mfa_passes_without_console_users(account: Account) -> None:
    account.user("robot", keys=1)
    assert list(passing(run("console_user_without_mfa", account.snapshot()))) == ["account"]


def test_unused_credentials_fails_after_45_days(account: Account) -> None:
    account.user("alice", console=True, keys=1)
    snapshot = later(account.snapshot(), 60)
    detail = failing(run("unused_credentials", snapshot))[user_arn("alice")].detail
    assert "password never used since" in detail and "60 days ago" in detail
    assert "access key 1 never used since" in detail


def test_unused_credentials_counts_from_last_use(account: Account) -> None:
    account.user("alice", console=True, keys=1)
    snapshot = later(account.snapshot(), 60)
    used = cell(snapshot.collected_at - timedelta(days=2))
    fresh = with_row(snapshot, "alice", password_last_used=used, access_key_1_last_used_date=used)
    assert list(passing(run("unused_credentials", fresh))) == [user_arn("alice")]
    stale = with_row(fresh, "alice", access_key_1_last_used_date=cell(snapshot.collected_at - timedelta(days=50)))
    detail = failing(run("unused_credentials", stale))[user_arn("alice")].detail
    assert detail.startswith("User alice: access key 1 last used") and "50 days ago" in detail


def test_unused_credentials_passes_fresh_credentials(account: Account) -> None:
    account.user("alice", console=True, keys=1)
    account.user("nobody")
    assert set(passing(run("unused_credentials", later(account.snapshot(), 44)))) == {
        user_arn("alice"),
        user_arn("nobody"),
    }


def test_multiple_active_keys_fails_with_two(account: Account) -> None:
    account.user("alice", keys=2)
    detail = failing(run("multiple_active_keys", account.snapshot()))[user_arn("alice")].detail
    assert "2 active access keys (access key 1 created" in detail and "access key 2 created" in detail


def test_multiple_active_keys_passes_with_one(account: Account) -> None:
    account.user("alice", keys=1)
    account.user("bob")
    assert set(passing(run("multiple_active_keys", account.snapshot()))) == {user_arn("alice"), user_arn("bob")}


def test_old_access_keys_fails_after_90_days(account: Account) -> None:
    account.user("alice", keys=1)
    detail = failing(run("old_access_keys", later(account.snapshot(), 91)))[user_arn("alice")].detail
    assert "access key 1 created" in detail and "91 days ago" in detail


def test_old_access_keys_passes_young_keys(account: Account) -> None:
    account.user("alice", keys=1)
    account.user("nokeys")  # nothing to rotate: no finding
    results = run("old_access_keys", later(account.snapshot(), 89))
    assert [(r.resource, r.status) for r in results] == [(user_arn("alice"), Status.PASS)]


def test_inactive_users_fails_for_an_old_never_used_user(account: Account) -> None:
    account.user("ghost", console=True, keys=1)
    detail = failing(run("inactive_users", later(account.snapshot(), 100)))[user_arn("ghost")].detail
    assert "(100 days ago) and has never signed in or used an access key" in detail


def test_inactive_users_passes_recent_or_used_users(account: Account) -> None:
    account.user("newcomer")
    account.user("worker", keys=1)
    snapshot = later(account.snapshot(), 100)
    snapshot = with_row(
        snapshot, "worker", access_key_1_last_used_date=cell(snapshot.collected_at - timedelta(days=80))
    )
    results = run("inactive_users", snapshot)
    assert list(passing(results)) == [user_arn("worker")]
    assert list(failing(results)) == [user_arn("newcomer")]
    assert list(passing(run("inactive_users", later(account.snapshot(), 30)))) == [
        user_arn("newcomer"),
        user_arn("worker"),
    ]


# --- password policy -----------------------------------------------------------------------------------------------

STRONG = {
    "MinimumPasswordLength": 16,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "MaxPasswordAge": 90,
    "PasswordReusePrevention": 24,
}


def test_password_policy_strong_fails_without_a_policy(account: Account) -> None:
    results = run("password_policy_strong", account.snapshot())
    assert [(r.resource, r.status) for r in results] == [("account", Status.FAIL)]
    assert "no password policy" in results[0].detail


def test_password_policy_strong_fails_once_per_unmet_requirement(account: Account) -> None:
    weak = {**STRONG, "MinimumPasswordLength": 8, "RequireSymbols": False}
    del weak["MaxPasswordAge"]
    account.password_policy(**weak)
    details = [r.detail for r in run("password_policy_strong", account.snapshot()) if r.status is Status.FAIL]
    assert details == [
        "Password policy: MinimumPasswordLength is at least 14, but it is 8.",
        "Password policy: RequireSymbols is true, but it is false.",
        "Password policy: MaxPasswordAge is set to at most 90 days, but it is unset (passwords never expire).",
    ]


def test_password_policy_strong_passes_once(account: Account) -> None:
    account.password_policy(**STRONG)
    results = run("password_policy_strong", account.snapshot())
    assert [(r.resource, r.status) for r in results] == [("account", Status.PASS)]


def test_password_hard_expiry_lockout_fails_with_one_console_admin(account: Account) -> None:
    account.password_policy(**STRONG, HardExpiry=True)
    account.user("alice", console=True, mfa=True, managed=[ADMINISTRATOR_ACCESS])
    account.user("robot", keys=1, managed=[ADMINISTRATOR_ACCESS])  # no console: cannot reset anyone's password
    results = run("password_hard_expiry_lockout", account.snapshot())
    assert "only alice remains" in failing(results)["account"].detail


def test_password_hard_expiry_lockout_passes_with_two_console_admins_or_soft_expiry(account: Account) -> None:
    account.password_policy(**STRONG, HardExpiry=True)
    account.group("admins", managed=[ADMINISTRATOR_ACCESS])
    account.user("alice", console=True, groups=["admins"])
    account.user("bob", console=True, groups=["admins"])
    assert (
        "(alice, bob) can reset each other"
        in passing(run("password_hard_expiry_lockout", account.snapshot()))["account"].detail
    )
    account.password_policy(**STRONG, HardExpiry=False)
    account.iam.remove_user_from_group(GroupName="admins", UserName="bob")
    assert list(passing(run("password_hard_expiry_lockout", account.snapshot()))) == ["account"]


# --- shared helpers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["N/A", "no_information", "not_supported", "", None, "garbage"])
def test_report_date_reads_markers_as_no_date(value: str | None) -> None:
    assert helpers.report_date(value) is None


def test_report_date_parses_the_report_format() -> None:
    assert helpers.report_date("2024-05-01T10:20:30+00:00") == datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)
    assert helpers.report_date("2024-05-01T10:20:30Z") == datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)


def test_allowed_actions_honours_wildcards_not_action_and_unconditional_denies() -> None:
    wanted = ("iam:CreateUser", "iam:AttachUserPolicy")
    allow = {"Statement": [{"Effect": "Allow", "Action": "iam:Create*", "Resource": "*"}]}
    assert helpers.allowed_actions([allow], wanted) == {"iam:CreateUser"}
    not_action = {"Statement": {"Effect": "Allow", "NotAction": "iam:Attach*", "Resource": "*"}}
    assert helpers.allowed_actions([not_action], wanted) == {"iam:CreateUser"}
    deny = {"Statement": [{"Effect": "Deny", "Action": "iam:createuser", "Resource": "*"}]}
    assert helpers.allowed_actions([allow, deny], wanted) == set()
    conditional = {
        "Statement": [{**deny["Statement"][0], "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}]
    }
    assert helpers.allowed_actions([allow, conditional], wanted) == {"iam:CreateUser"}


# --- the registry and the engine ----------------------------------------------------------------------------------


def test_registry_ids_match_file_names_and_metadata_is_complete() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(catalog_pkg.__path__))
    declared = {}
    for name in modules:
        chk = getattr(importlib.import_module(f"checks.catalog.{name}"), "CHECK", None)
        if chk is not None:
            declared[name] = chk
    assert [c.id for c in all_checks()] == list(declared)
    for name, chk in declared.items():
        assert chk.id == name
        assert chk.title.strip() and chk.rationale.strip() and chk.remediation.strip()
        assert isinstance(chk.severity, Severity)
        assert chk.needs and set(chk.needs) <= set(PARTS)
        for framework, ids in chk.mappings.items():
            assert framework in {"CIS AWS Foundations v5", "Security Hub", "Conformity"}
            assert ids and all(isinstance(i, str) and i for i in ids)


MINE = (
    "root_mfa_enabled",
    "root_access_keys",
    "root_recently_used",
    "individual_users_exist",
    "admin_principals",
    "multiple_admin_users",
    "admin_without_mfa",
    "iam_duty_separation",
    "customer_policy_full_admin",
    "privilege_escalation",
    "console_user_without_mfa",
    "unused_credentials",
    "multiple_active_keys",
    "old_access_keys",
    "user_attached_policies",
    "inactive_users",
    "password_policy_strong",
    "password_hard_expiry_lockout",
)


def test_this_files_checks_are_all_registered() -> None:
    assert set(MINE) <= {c.id for c in all_checks()}


@pytest.mark.parametrize("part", PARTS)
def test_a_missing_part_turns_exactly_its_checks_into_could_not_check(account: Account, part: str) -> None:
    account.user("alice", console=True, keys=1, managed=[ADMINISTRATOR_ACCESS])
    snapshot = account.snapshot()
    # moto has neither Access Analyzer nor Access Advisor: start from a snapshot with every part present.
    complete = dataclasses.replace(snapshot, errors={}, analyzers=[], access_advisor={})
    field = {"authorization": "users", "access_analyzer": "analyzers"}.get(part, part)
    broken = dataclasses.replace(complete, errors={part: "AccessDenied on iam:Something"}, **{field: None})
    audit = run_checks(broken, all_checks())
    skipped = [line for line in audit.errors if "(error: " not in line]  # checks that raised are another matter
    expected = {c.id for c in all_checks() if part in c.needs}
    assert skipped == [
        f"{ACCOUNT_ID}: could not check {c.id} ({part}: AccessDenied on iam:Something)"
        for c in all_checks()
        if c.id in expected
    ]
    assert not expected & audit.ran
    assert {r.check for r in audit.results} <= audit.ran
    assert set(MINE) - expected <= audit.ran  # this file's other checks all ran


def test_allowed_actions_memo_judges_a_shared_document_once_and_never_confuses_two() -> None:
    wanted = ("iam:CreateUser", "iam:AttachUserPolicy")
    shared = {"Statement": [{"Effect": "Allow", "Action": "iam:Create*", "Resource": "*"}]}
    memo: dict = {}
    assert helpers.allowed_actions([shared], wanted, memo) == {"iam:CreateUser"}
    shared["Statement"][0]["Action"] = "iam:*"  # judged once: the memo answers for the same object
    assert helpers.allowed_actions([shared], wanted, memo) == {"iam:CreateUser"}
    for _ in range(50):  # fresh inline documents: a memo answer must never leak to another object
        inline = {"Statement": [{"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": "*"}]}
        assert helpers.allowed_actions([inline], wanted, memo) == {"iam:AttachUserPolicy"}
