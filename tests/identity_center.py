"""Builds IAM Identity Center in moto (sso-admin, identitystore) for the collector, check, rule and button tests."""

from __future__ import annotations

import json
from collections.abc import Iterable

import boto3

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"


class IdentityCenterBuilder:
    """An Identity Center instance in moto's us-east-1, with users, groups, permission sets and assignments."""

    def __init__(self, session: boto3.Session) -> None:
        self.sso = session.client("sso-admin", region_name="us-east-1")
        self.store = session.client("identitystore", region_name="us-east-1")
        instance = self.sso.list_instances()["Instances"][0]
        self.instance = instance["InstanceArn"]
        self.store_id = instance["IdentityStoreId"]

    def user(self, name: str) -> str:
        """An identity store user; returns its id."""
        return self.store.create_user(
            IdentityStoreId=self.store_id,
            UserName=name,
            DisplayName=name.title(),
            Name={"GivenName": name.title(), "FamilyName": "Example"},
        )["UserId"]

    def group(self, name: str, members: Iterable[str] = ()) -> str:
        """An identity store group with these user ids as members; returns its id."""
        group = self.store.create_group(IdentityStoreId=self.store_id, DisplayName=name)["GroupId"]
        for member in members:
            self.store.create_group_membership(
                IdentityStoreId=self.store_id, GroupId=group, MemberId={"UserId": member}
            )
        return group

    def permission_set(
        self,
        name: str,
        *,
        managed: Iterable[str] = (),
        inline: Iterable[str] = (),
        customer: Iterable[str] = (),
        duration: str = "PT1H",
    ) -> str:
        """A permission set with AWS managed policies, an inline policy allowing `inline` on `*`, and
        customer-managed references (by name); returns its ARN."""
        arn = self.sso.create_permission_set(Name=name, InstanceArn=self.instance, SessionDuration=duration)[
            "PermissionSet"
        ]["PermissionSetArn"]
        key = {"InstanceArn": self.instance, "PermissionSetArn": arn}
        for policy in managed:
            self.sso.attach_managed_policy_to_permission_set(**key, ManagedPolicyArn=policy)
        actions = list(inline)
        if actions:
            statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
            self.sso.put_inline_policy_to_permission_set(
                **key, InlinePolicy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
            )
        for policy in customer:
            self.sso.attach_customer_managed_policy_reference_to_permission_set(
                **key, CustomerManagedPolicyReference={"Name": policy, "Path": "/"}
            )
        self.sso.provision_permission_set(**key, TargetType="ALL_PROVISIONED_ACCOUNTS")
        return arn

    def assign(self, permission_set: str, principal: str, account: str, kind: str = "USER") -> None:
        """Assign a permission set to a user (or GROUP) in an account."""
        self.sso.create_account_assignment(
            InstanceArn=self.instance,
            TargetId=account,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=permission_set,
            PrincipalType=kind,
            PrincipalId=principal,
        )
