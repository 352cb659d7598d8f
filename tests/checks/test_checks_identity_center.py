"""The IAM Identity Center checks, each failing and passing on a moto account snapshotted by the real collector.

moto's Identity Center has no permissions-boundary API (each set then says its boundary was not read) and only
reports a permission set as provisioned to its own account, so assignments here are in the snapshot's account.
"""

from __future__ import annotations

import dataclasses

import boto3
import pytest

from checks.base import Status
from iam.snapshot import PermissionSet
from tests.checks.accounts import Account, failing, load_only_used_aws_policies, passing, run
from tests.identity_center import ADMINISTRATOR_ACCESS, READ_ONLY_ACCESS, IdentityCenterBuilder

ACCOUNT_ID = "123456789012"


@pytest.fixture(autouse=True)
def few_aws_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    load_only_used_aws_policies(monkeypatch)


@pytest.fixture
def account(aws: boto3.Session) -> Account:
    return Account(aws)


@pytest.fixture
def center(aws: boto3.Session) -> IdentityCenterBuilder:
    return IdentityCenterBuilder(aws)


# --- identity_center_admin_permission_sets --------------------------------------------------------------------


def test_admin_permission_sets_fail_naming_their_reach(account: Account, center: IdentityCenterBuilder) -> None:
    alice, bob, carol = center.user("alice"), center.user("bob"), center.user("carol")
    ops = center.group("Ops", [bob, carol])
    admin = center.permission_set("Admin", managed=[ADMINISTRATOR_ACCESS])
    iam_admin = center.permission_set("IamAdmin", inline=["iam:*"])
    read = center.permission_set("Read", managed=[READ_ONLY_ACCESS])
    center.assign(admin, alice, ACCOUNT_ID)
    center.assign(admin, ops, ACCOUNT_ID, "GROUP")
    center.assign(read, alice, ACCOUNT_ID)

    results = run("identity_center_admin_permission_sets", account.snapshot())

    found = failing(results)
    assert set(found) == {admin, iam_admin}
    assert "grants every action on every resource" in found[admin].detail
    assert "assigned to 2 principals (3 people) in 1 account" in found[admin].detail
    assert "grants iam:* (full IAM control)" in found[iam_admin].detail
    assert "not assigned to anyone yet" in found[iam_admin].detail
    assert passing(results) == {}


def test_admin_permission_sets_pass_without_one(account: Account, center: IdentityCenterBuilder) -> None:
    read = center.permission_set("Read", managed=[READ_ONLY_ACCESS], inline=["s3:GetObject"])
    center.assign(read, center.user("alice"), ACCOUNT_ID)

    results = run("identity_center_admin_permission_sets", account.snapshot())

    assert failing(results) == {}
    assert passing(results)["account"].detail == "None of the 1 IAM Identity Center permission set is admin-equivalent."


# --- identity_center_multiple_admins -----------------------------------------------------------------------------


def test_multiple_admins_fails_when_a_group_reaches_two_people(account: Account, center: IdentityCenterBuilder) -> None:
    admin = center.permission_set("Admin", managed=[ADMINISTRATOR_ACCESS])
    center.assign(admin, center.group("Admins", [center.user("alice"), center.user("bob")]), ACCOUNT_ID, "GROUP")

    results = run("identity_center_multiple_admins", account.snapshot())

    (result,) = failing(results).values()
    assert result.resource == f"account/{ACCOUNT_ID}"
    assert result.detail == (
        f"2 people hold an admin-equivalent permission set in account {ACCOUNT_ID}: group Admins (Admin)."
    )


def test_multiple_admins_passes_with_one_person(account: Account, center: IdentityCenterBuilder) -> None:
    alice = center.user("alice")
    admin = center.permission_set("Admin", managed=[ADMINISTRATOR_ACCESS])
    read = center.permission_set("Read", managed=[READ_ONLY_ACCESS])
    center.assign(admin, alice, ACCOUNT_ID)
    center.assign(admin, center.group("Admins", [alice]), ACCOUNT_ID, "GROUP")  # the same person twice
    center.assign(read, center.user("bob"), ACCOUNT_ID)

    results = run("identity_center_multiple_admins", account.snapshot())

    assert failing(results) == {}
    assert "Only one person holds admin power" in passing(results)[f"account/{ACCOUNT_ID}"].detail


# --- identity_center_admin_session_duration ----------------------------------------------------------------------


def test_admin_session_duration_fails_above_one_hour(account: Account, center: IdentityCenterBuilder) -> None:
    long = center.permission_set("Admin", managed=[ADMINISTRATOR_ACCESS], duration="PT8H")
    short = center.permission_set("ShortAdmin", inline=["*"], duration="PT1H")
    center.permission_set("LongRead", managed=[READ_ONLY_ACCESS], duration="PT12H")  # not admin: not listed

    results = run("identity_center_admin_session_duration", account.snapshot())

    assert list(failing(results)) == [long]
    assert "gives sessions of 8 hours" in failing(results)[long].detail
    assert list(passing(results)) == [short]


def test_admin_session_duration_passes_without_admin_sets(account: Account, center: IdentityCenterBuilder) -> None:
    center.permission_set("LongRead", managed=[READ_ONLY_ACCESS], duration="PT12H")
    results = run("identity_center_admin_session_duration", account.snapshot())
    assert failing(results) == {} and list(passing(results)) == ["account"]


def test_admin_session_duration_cannot_guess_an_unreadable_duration(account: Account, center: IdentityCenterBuilder):
    arn = center.permission_set("Admin", managed=[ADMINISTRATOR_ACCESS])
    snapshot = account.snapshot()
    pset = snapshot.identity_center.permission_sets[arn]
    snapshot.identity_center.permission_sets[arn] = dataclasses.replace(pset, session_duration="P1D")
    from checks import check
    from checks.engine import run_checks

    audit = run_checks(snapshot, (check("identity_center_admin_session_duration"),))
    assert audit.results == []
    assert audit.errors == [
        f"{ACCOUNT_ID}: could not check identity_center_admin_session_duration (error: SessionDurationUnreadable)"
    ]


def test_session_seconds_reads_iso_durations() -> None:
    def seconds(value: str | None) -> int | None:
        return PermissionSet(arn="a", name="n", instance_arn="i", session_duration=value).session_seconds

    assert [seconds(v) for v in ("PT1H", "PT12H", "PT1H30M", "PT900S", None, "P1D", "PT")] == [
        3600,
        43200,
        5400,
        900,
        3600,
        None,
        None,
    ]


# --- identity_center_direct_user_assignments ---------------------------------------------------------------------


def test_direct_user_assignments_fail(account: Account, center: IdentityCenterBuilder) -> None:
    read = center.permission_set("Read", managed=[READ_ONLY_ACCESS])
    grouped = center.permission_set("Grouped", managed=[READ_ONLY_ACCESS])
    center.assign(read, center.user("alice"), ACCOUNT_ID)
    center.assign(grouped, center.group("Readers", [center.user("bob")]), ACCOUNT_ID, "GROUP")

    results = run("identity_center_direct_user_assignments", account.snapshot())

    assert failing(results)[read].detail == (
        "Permission set Read is assigned directly to 1 user (alice) in 1 account, not through a group."
    )
    assert passing(results)[grouped].detail == "Permission set Grouped is assigned only to groups."


def test_direct_user_assignments_pass_without_assignments(account: Account, center: IdentityCenterBuilder) -> None:
    center.permission_set("Read", managed=[READ_ONLY_ACCESS])
    results = run("identity_center_direct_user_assignments", account.snapshot())
    assert [(r.resource, r.status) for r in results] == [("account", Status.PASS)]


# --- individual_users_exist accepts Identity Center users --------------------------------------------------------


def test_individual_users_exist_passes_with_identity_center_users(account: Account, center: IdentityCenterBuilder):
    assert list(failing(run("individual_users_exist", account.snapshot()))) == ["account"]
    center.user("alice")
    results = run("individual_users_exist", account.snapshot())
    assert [r.status for r in results] == [Status.PASS]
    assert results[0].detail == "People have their own identities in IAM Identity Center (1 IAM Identity Center user)."


def test_the_identity_center_checks_could_not_check_when_the_part_is_denied(account: Account, aws: boto3.Session):
    from aws.collector import collect
    from aws.sessions import AwsSessions
    from checks import check
    from checks.engine import run_checks
    from tests.aws.test_collector import deny

    sessions = AwsSessions(aws)
    deny(sessions.client("sso-admin"), "ListInstances")
    snapshot = collect(sessions, sleep=lambda _: None)
    ids = [
        "identity_center_admin_permission_sets",
        "identity_center_multiple_admins",
        "identity_center_admin_session_duration",
        "identity_center_direct_user_assignments",
    ]
    audit = run_checks(snapshot, tuple(check(i) for i in ids))
    assert audit.errors == [
        f"{ACCOUNT_ID}: could not check {i} (identity_center: AccessDenied on sso:ListInstances)" for i in ids
    ]
