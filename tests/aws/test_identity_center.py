"""The Identity Center part of the snapshot (aws/identity_center.py) against moto, and botocore's Stubber for
what moto lacks (GetPermissionsBoundaryForPermissionSet)."""

from __future__ import annotations

import boto3
import pytest

from aws.collector import collect
from aws.sessions import AwsSessions
from iam.policy import Power
from tests.aws.test_collector import FakeSessions, deny, no_sleep, stubbed
from tests.identity_center import ADMINISTRATOR_ACCESS, READ_ONLY_ACCESS, IdentityCenterBuilder

ACCOUNT = "123456789012"
OTHER = "210987654321"
INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111"
STUB_SET = f"{INSTANCE}/ps-2222222222222222"


@pytest.fixture
def sessions(aws: boto3.Session) -> AwsSessions:
    return AwsSessions(aws)


@pytest.fixture
def center(aws: boto3.Session) -> IdentityCenterBuilder:
    return IdentityCenterBuilder(aws)


def test_permission_sets_assignments_and_people_are_collected(sessions: AwsSessions, center: IdentityCenterBuilder):
    alice, bob = center.user("alice"), center.user("bob")
    admins = center.group("Admins", [alice, bob])
    admin = center.permission_set("Admin", managed=[ADMINISTRATOR_ACCESS], duration="PT8H")
    read = center.permission_set("Read", managed=[READ_ONLY_ACCESS], inline=["s3:GetObject"], customer=["deploy"])
    center.assign(admin, admins, ACCOUNT, "GROUP")
    center.assign(admin, alice, ACCOUNT)

    snap = collect(sessions, sleep=no_sleep)

    assert "identity_center" not in snap.errors
    ic = snap.identity_center
    assert [i["InstanceArn"] for i in ic.instances] == [center.instance]
    assert {p.name for p in ic.permission_sets.values()} == {"Admin", "Read"}
    assert ic.permission_sets[admin].session_seconds == 8 * 3600
    assert ic.permission_sets[admin].managed_policies == (ADMINISTRATOR_ACCESS,)
    assert ic.permission_sets[read].inline_policy["Statement"][0]["Action"] == ["s3:GetObject"]
    assert ic.permission_sets[read].customer_policies == ("/deploy",)
    # moto lacks the boundary API: the set is judged without it and says so, the part still stands.
    assert ic.permission_sets[admin].boundary_unknown == "NotImplemented on sso:GetPermissionsBoundaryForPermissionSet"
    assert sorted((a.principal_type, a.principal_id) for a in ic.assignments) == sorted(
        [("GROUP", admins), ("USER", alice)]
    )
    assert set(ic.members[admins]) == {alice, bob}
    assert ic.principal_name("GROUP", admins) == "group Admins"
    assert ic.principal_name("USER", alice) == "user alice"
    # The AWS managed policies are read as for the authorization part (GetPolicy + GetPolicyVersion).
    assert set(ic.policy_documents) == {ADMINISTRATOR_ACCESS, READ_ONLY_ACCESS}
    verdict = snap.permission_set_power(admin, ACCOUNT)
    assert verdict.power is Power.ADMIN
    assert not snap.permission_set_power(read, ACCOUNT).admin_equivalent
    assert (
        "customer-managed policy /deploy in account 123456789012 was not read"
        in snap.permission_set_power(read, ACCOUNT).reasons
    )
    calls = {k: v for k, v in snap.api_calls.items() if k.startswith(("sso:", "identitystore:"))}
    assert calls == {
        "identitystore:ListGroupMemberships": 1,  # only the assigned group
        "identitystore:ListGroups": 1,
        "identitystore:ListUsers": 1,
        "sso:DescribePermissionSet": 2,
        "sso:GetInlinePolicyForPermissionSet": 2,
        "sso:GetPermissionsBoundaryForPermissionSet": 2,
        "sso:ListAccountAssignments": 2,  # two (permission set, account) pairs: fewer than three principals
        "sso:ListAccountsForProvisionedPermissionSet": 2,
        "sso:ListCustomerManagedPolicyReferencesInPermissionSet": 2,
        "sso:ListInstances": 1,
        "sso:ListManagedPoliciesInPermissionSet": 2,
        "sso:ListPermissionSets": 1,
    }


def test_customer_managed_reference_is_resolved_by_name_in_the_snapshot_account(
    aws: boto3.Session, sessions: AwsSessions, center: IdentityCenterBuilder
):
    iam = aws.client("iam")
    doc = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    iam.create_policy(PolicyName="break-glass", PolicyDocument=doc)
    pset = center.permission_set("BreakGlass", customer=["break-glass"])

    snap = collect(sessions, sleep=no_sleep)

    assert snap.permission_set_power(pset, ACCOUNT).power is Power.ADMIN  # resolved in this account
    elsewhere = snap.permission_set_power(pset, OTHER)  # another account's policy of that name is not known here
    assert not elsewhere.admin_equivalent
    assert f"customer-managed policy /break-glass in account {OTHER} was not read" in elsewhere.reasons


def test_assignments_are_listed_per_principal_when_that_costs_fewer_calls(
    sessions: AwsSessions, center: IdentityCenterBuilder
):
    alice = center.user("alice")
    sets = [center.permission_set(f"Set{n}", managed=[READ_ONLY_ACCESS]) for n in range(3)]
    center.assign(sets[0], alice, OTHER)  # in an account moto never reports as provisioned

    snap = collect(sessions, sleep=no_sleep)

    assert [(a.account, a.permission_set_arn) for a in snap.identity_center.assignments] == [(OTHER, sets[0])]
    assert snap.api_calls["sso:ListAccountAssignmentsForPrincipal"] == 1  # one principal against three pairs
    assert "sso:ListAccountAssignments" not in snap.api_calls


def test_no_identity_center_is_an_empty_part_not_an_error(aws: boto3.Session, sessions: AwsSessions):
    snap = collect(sessions, sleep=no_sleep)
    assert "identity_center" not in snap.errors
    assert snap.identity_center.permission_sets == {} and snap.identity_center.assignments == []


def test_denied_identity_center_could_not_check_and_leaves_the_rest(aws: boto3.Session, sessions: AwsSessions):
    deny(sessions.client("sso-admin"), "ListInstances")

    snap = collect(sessions, sleep=no_sleep)

    assert snap.identity_center is None
    assert snap.errors["identity_center"] == "AccessDenied on sso:ListInstances"
    assert snap.users is not None and snap.credential_report is not None


def _stub_one_set(stub, boundary: dict | None, inline: str = "") -> None:
    key = {"InstanceArn": INSTANCE, "PermissionSetArn": STUB_SET}
    stub.add_response(
        "list_instances",
        {"Instances": [{"InstanceArn": INSTANCE, "IdentityStoreId": "d-1234567890", "Status": "ACTIVE"}]},
        {"MaxResults": 100},
    )
    stub.add_response(
        "list_permission_sets", {"PermissionSets": [STUB_SET]}, {"InstanceArn": INSTANCE, "MaxResults": 100}
    )
    stub.add_response(
        "describe_permission_set",
        {"PermissionSet": {"Name": "Capped", "PermissionSetArn": STUB_SET, "SessionDuration": "PT2H"}},
        key,
    )
    stub.add_response(
        "list_managed_policies_in_permission_set",
        {"AttachedManagedPolicies": [{"Name": "AdministratorAccess", "Arn": ADMINISTRATOR_ACCESS}]},
        {**key, "MaxResults": 100},
    )
    stub.add_response(
        "list_customer_managed_policy_references_in_permission_set",
        {"CustomerManagedPolicyReferences": []},
        {**key, "MaxResults": 100},
    )
    stub.add_response("get_inline_policy_for_permission_set", {"InlinePolicy": inline} if inline else {}, key)
    if boundary is None:
        stub.add_client_error(
            "get_permissions_boundary_for_permission_set", "ResourceNotFoundException", http_status_code=404
        )
    else:
        stub.add_response("get_permissions_boundary_for_permission_set", {"PermissionsBoundary": boundary}, key)
    stub.add_response("list_accounts_for_provisioned_permission_set", {"AccountIds": []}, {**key, "MaxResults": 100})


def test_a_permissions_boundary_caps_the_permission_set(aws: boto3.Session, sessions: AwsSessions):
    sso, stub = stubbed("sso-admin")
    _stub_one_set(stub, {"ManagedPolicyArn": READ_ONLY_ACCESS})
    fake = FakeSessions(sessions, {("sso-admin", "us-east-1"): sso})

    snap = collect(fake, sleep=no_sleep)  # type: ignore[arg-type]

    stub.assert_no_pending_responses()
    pset = snap.identity_center.permission_sets[STUB_SET]
    assert pset.boundary == {"ManagedPolicyArn": READ_ONLY_ACCESS} and pset.boundary_unknown == ""
    assert pset.session_seconds == 7200
    verdict = snap.permission_set_power(STUB_SET, ACCOUNT)
    assert verdict.power is Power.NONE
    assert verdict.summary.startswith("capped by its permissions boundary")


def test_no_boundary_is_a_fact_not_an_unknown(aws: boto3.Session, sessions: AwsSessions):
    sso, stub = stubbed("sso-admin")
    _stub_one_set(stub, None)
    fake = FakeSessions(sessions, {("sso-admin", "us-east-1"): sso})

    snap = collect(fake, sleep=no_sleep)  # type: ignore[arg-type]

    pset = snap.identity_center.permission_sets[STUB_SET]
    assert pset.boundary is None and pset.boundary_unknown == ""
    verdict = snap.permission_set_power(STUB_SET, ACCOUNT)
    assert verdict.power is Power.ADMIN
    assert verdict.reasons == ("grants every action on every resource",)
