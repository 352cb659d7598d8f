"""Collect the IAM Identity Center part of a snapshot (iam/snapshot.py's `IdentityCenter`) for aws/collector.py.

There is no bulk read: each permission set costs a call per attribute (description, managed policies, inline
policy, customer-managed references, permissions boundary, accounts it is provisioned to), read a few sets at a
time. Assignments are listed whichever way costs fewer calls: per (permission set, account) pair, or per user
and group of the identity store (ListAccountAssignmentsForPrincipal), decided once the counts are known.

An account that manages no Identity Center instance gets an empty part, not an error; a denied or missing
instance or permission-set API makes the whole part an error ("could not check"); a permissions boundary that
cannot be read is recorded on its permission set, which is then judged without it and says so.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from botocore.exceptions import ClientError

from core.cloudtrail import policy_document
from iam.snapshot import Assignment, IdentityCenter, PermissionSet, PermissionSetReach, Snapshot

log = logging.getLogger(__name__)

SET_FETCHES = 4  # permission sets read at once
ASSIGNMENT_PAGE = {"PageSize": 100}  # the largest page sso-admin's and identitystore's list APIs return
_NOT_SET = ("ResourceNotFoundException",)  # what GetPermissionsBoundaryForPermissionSet says without a boundary


class Collecting(Protocol):
    """What this module needs of the snapshot collector: its counted clients and its way of naming failures."""

    def client(self, service: str, region: str = "us-east-1") -> Any: ...

    def reason(self, err: BaseException) -> str: ...


def collect_identity_center(
    collector: Collecting,
    snapshot: Snapshot,
    regions: tuple[str, ...],
    aws_managed: Callable[[str], dict],
) -> None:
    """Fill `snapshot.identity_center` from every instance visible in `regions`. `aws_managed(arn)` reads an AWS
    managed policy (a GetAccountAuthorizationDetails `Policies` entry) not already in the snapshot."""
    center = IdentityCenter()
    for region in regions:
        sso = collector.client("sso-admin", region)
        for page in sso.get_paginator("list_instances").paginate(PaginationConfig=ASSIGNMENT_PAGE):
            for instance in page.get("Instances", []):
                if all(i["InstanceArn"] != instance["InstanceArn"] for i in center.instances):
                    center.instances.append({**instance, "region": region})
    for instance in center.instances:
        _collect_instance(collector, center, instance)
    known = set(snapshot.managed_documents)
    wanted_arns = {a for p in center.permission_sets.values() for a in p.managed_policies}
    wanted_arns |= {
        p.boundary["ManagedPolicyArn"]
        for p in center.permission_sets.values()
        if (p.boundary or {}).get("ManagedPolicyArn")
    }
    wanted = sorted(wanted_arns - known)
    with ThreadPoolExecutor(max_workers=SET_FETCHES, thread_name_prefix="sso-managed-policy") as pool:
        jobs = [pool.submit(contextvars.copy_context().run, aws_managed, arn) for arn in wanted]
        for arn, job in zip(wanted, jobs, strict=True):
            try:
                entry = job.result()
            except ClientError as err:  # judged by name instead (iam.policy.judge_managed_arn), and said so
                log.warning("Identity Center: AWS managed policy %s not read (%s)", arn, collector.reason(err))
                continue
            version = (entry.get("PolicyVersionList") or [{}])[0]
            doc = policy_document(version.get("Document"))
            if doc is not None:
                center.policy_documents[entry["Arn"]] = doc
    snapshot.identity_center = center


def _collect_instance(collector: Collecting, center: IdentityCenter, instance: dict) -> None:
    region = instance["region"]
    sso = collector.client("sso-admin", region)
    arn = instance["InstanceArn"]
    set_arns = [
        ps
        for page in sso.get_paginator("list_permission_sets").paginate(
            InstanceArn=arn, PaginationConfig=ASSIGNMENT_PAGE
        )
        for ps in page.get("PermissionSets", [])
    ]
    with ThreadPoolExecutor(max_workers=SET_FETCHES, thread_name_prefix="sso-permission-set") as pool:
        jobs = [pool.submit(contextvars.copy_context().run, _permission_set, collector, sso, arn, p) for p in set_arns]
        read = [job.result() for job in jobs]
    accounts: dict[str, list[str]] = {}
    for pset, provisioned in read:
        center.permission_sets[pset.arn] = pset
        accounts[pset.arn] = provisioned
    _identity_store(collector, center, instance)
    pairs = sum(len(a) for a in accounts.values())
    if pairs <= len(center.users) + len(center.groups):
        found = _assignments_by_pair(sso, arn, accounts)
    else:
        found = _assignments_by_principal(sso, arn, center)
    center.assignments += found
    assigned_groups = sorted({a.principal_id for a in found if a.principal_type == "GROUP"})
    store = collector.client("identitystore", region)
    for group in assigned_groups:
        pages = store.get_paginator("list_group_memberships").paginate(
            IdentityStoreId=instance["IdentityStoreId"], GroupId=group, PaginationConfig=ASSIGNMENT_PAGE
        )
        center.members[group] = tuple(
            m["MemberId"]["UserId"]
            for page in pages
            for m in page.get("GroupMemberships", [])
            if "UserId" in m.get("MemberId", {})
        )


def _permission_set(collector: Collecting, sso: Any, instance: str, arn: str) -> tuple[PermissionSet, list[str]]:
    """One permission set with its policies, and the accounts it is provisioned to."""
    key = {"InstanceArn": instance, "PermissionSetArn": arn}
    described = sso.describe_permission_set(**key)["PermissionSet"]
    managed = [
        p["Arn"]
        for page in sso.get_paginator("list_managed_policies_in_permission_set").paginate(
            **key, PaginationConfig=ASSIGNMENT_PAGE
        )
        for p in page.get("AttachedManagedPolicies", [])
    ]
    customer = [
        f"{ref.get('Path') or '/'}{ref['Name']}"
        for page in sso.get_paginator("list_customer_managed_policy_references_in_permission_set").paginate(
            **key, PaginationConfig=ASSIGNMENT_PAGE
        )
        for ref in page.get("CustomerManagedPolicyReferences", [])
    ]
    inline_text = sso.get_inline_policy_for_permission_set(**key).get("InlinePolicy") or ""
    inline = policy_document(inline_text)
    boundary, unknown = _boundary(collector, sso, key)
    provisioned = [
        account
        for page in sso.get_paginator("list_accounts_for_provisioned_permission_set").paginate(
            **key, PaginationConfig=ASSIGNMENT_PAGE
        )
        for account in page.get("AccountIds", [])
    ]
    pset = PermissionSet(
        arn=arn,
        name=described.get("Name", arn.rsplit("/", 1)[-1]),
        instance_arn=instance,
        session_duration=described.get("SessionDuration"),
        managed_policies=tuple(managed),
        inline_policy=inline,
        customer_policies=tuple(customer),
        boundary=boundary,
        boundary_unknown=unknown,
    )
    return pset, provisioned


def _boundary(collector: Collecting, sso: Any, key: dict) -> tuple[dict | None, str]:
    """(the permissions boundary or None, why it could not be read or "")."""
    try:
        return sso.get_permissions_boundary_for_permission_set(**key).get("PermissionsBoundary"), ""
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in _NOT_SET:
            return None, ""
        return None, collector.reason(err)
    except NotImplementedError as err:  # moto in process lacks this API
        return None, collector.reason(err)


def _identity_store(collector: Collecting, center: IdentityCenter, instance: dict) -> None:
    store = collector.client("identitystore", instance["region"])
    ident = {"IdentityStoreId": instance["IdentityStoreId"], "PaginationConfig": ASSIGNMENT_PAGE}
    for page in store.get_paginator("list_users").paginate(**ident):
        for user in page.get("Users", []):
            center.users[user["UserId"]] = {k: user[k] for k in ("UserId", "UserName", "DisplayName") if k in user}
    for page in store.get_paginator("list_groups").paginate(**ident):
        for group in page.get("Groups", []):
            center.groups[group["GroupId"]] = {k: group[k] for k in ("GroupId", "DisplayName") if k in group}


def _assignments_by_pair(sso: Any, instance: str, accounts: dict[str, list[str]]) -> list[Assignment]:
    found = []
    for pset, targets in accounts.items():
        for account in targets:
            pages = sso.get_paginator("list_account_assignments").paginate(
                InstanceArn=instance, AccountId=account, PermissionSetArn=pset, PaginationConfig=ASSIGNMENT_PAGE
            )
            found += [_assignment(instance, a) for page in pages for a in page.get("AccountAssignments", [])]
    return found


def _assignments_by_principal(sso: Any, instance: str, center: IdentityCenter) -> list[Assignment]:
    found = []
    for kind, ids in (("USER", center.users), ("GROUP", center.groups)):
        for principal in ids:
            pages = sso.get_paginator("list_account_assignments_for_principal").paginate(
                InstanceArn=instance, PrincipalId=principal, PrincipalType=kind, PaginationConfig=ASSIGNMENT_PAGE
            )
            found += [_assignment(instance, a) for page in pages for a in page.get("AccountAssignments", [])]
    return found


def _assignment(instance: str, entry: dict) -> Assignment:
    return Assignment(
        instance_arn=instance,
        account=entry["AccountId"],
        permission_set_arn=entry["PermissionSetArn"],
        principal_type=entry["PrincipalType"],
        principal_id=entry["PrincipalId"],
    )


class _Lookup:
    """The `Collecting` side of a live lookup: plain clients from the sessions, failures named by their code."""

    def __init__(self, sessions: Any, account: str) -> None:
        self.sessions = sessions
        self.account = account

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return self.sessions.client(service, self.account, region=region)

    def reason(self, err: BaseException) -> str:
        if isinstance(err, ClientError):
            return str(err.response.get("Error", {}).get("Code") or "ClientError")
        return type(err).__name__


def permission_set_reach(
    sessions: Any,
    account: str,
    region: str,
    instance_arn: str,
    permission_set_arn: str,
    managed_document: Callable[[str], dict | None],
) -> PermissionSetReach:
    """One permission set read live (for a detection rule): its policies by source, and how many principals and
    accounts it is assigned to. Customer-managed references resolve in `account` (the managing account)."""
    lookup = _Lookup(sessions, account)
    sso = lookup.client("sso-admin", region)
    pset, provisioned = _permission_set(lookup, sso, instance_arn, permission_set_arn)
    documents: dict[str, dict] = {}
    for arn in pset.managed_policies:
        doc = managed_document(arn)
        if doc is not None:
            documents[f"managed:{arn}"] = doc
    if pset.inline_policy is not None:
        documents["inline"] = pset.inline_policy
    for ref in pset.customer_policies:
        doc = managed_document(f"arn:aws:iam::{account}:policy{ref}")
        if doc is not None:
            documents[f"customer:{ref}"] = doc
    boundary = pset.boundary or {}
    boundary_arn = boundary.get("ManagedPolicyArn") or (
        "arn:aws:iam::{}:policy{}{}".format(
            account,
            boundary["CustomerManagedPolicyReference"].get("Path") or "/",
            boundary["CustomerManagedPolicyReference"]["Name"],
        )
        if boundary.get("CustomerManagedPolicyReference")
        else None
    )
    if boundary_arn and (doc := managed_document(boundary_arn)) is not None:
        documents["boundary"] = doc
    found = _assignments_by_pair(sso, instance_arn, {permission_set_arn: provisioned})
    principals = {(a.principal_type, a.principal_id) for a in found}
    return PermissionSetReach(pset, documents, len(principals), len({a.account for a in found}))
