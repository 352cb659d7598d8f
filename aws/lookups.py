"""Read-only IAM facts that detection rules ask for, cached briefly (policy documents change rarely)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.authz import authorization_details
from aws.collector import collect_authorization
from aws.identity_center import permission_set_reach
from aws.organizations import list_accounts, policy_type
from aws.sessions import AwsSessions, MemberRoleError
from core.cloudtrail import policy_document
from iam.authorization import Authorization
from iam.snapshot import PermissionSetReach

log = logging.getLogger(__name__)


class IamLookups:
    """Implements ingest.context.IamFacts over boto3; any failure answers None (the rule then decides)."""

    def __init__(self, sessions: AwsSessions, ttl_seconds: float = 300.0) -> None:
        self.sessions = sessions
        self.ttl = ttl_seconds
        self._cache: dict[tuple, tuple[float, Any]] = {}

    def _cached(self, key: tuple, fetch: Callable[[], Any]) -> Any:
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        try:
            value = fetch()
        except (ClientError, BotoCoreError, MemberRoleError) as err:
            log.info("IAM lookup %s failed: %s", key[0], err)
            value = None
        self._cache[key] = (time.monotonic(), value)
        return value

    def _iam(self, account: str) -> Any:
        return self.sessions.client("iam", account)

    def managed_policy_document(self, account: str, policy_arn: str) -> dict | None:
        """The default version's document of a managed policy."""

        def fetch() -> dict | None:
            iam = self._iam(account)
            version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
            return self._version(iam, policy_arn, version)

        return self._cached(("policy", account, policy_arn), fetch)

    def policy_version_document(self, account: str, policy_arn: str, version_id: str) -> dict | None:
        """One version's document of a managed policy."""
        return self._cached(
            ("version", account, policy_arn, version_id),
            lambda: self._version(self._iam(account), policy_arn, version_id),
        )

    def group_documents(self, account: str, group_name: str) -> list[dict] | None:
        """Every policy document in force on a group: attached managed policies and inline ones."""

        def fetch() -> list[dict]:
            iam = self._iam(account)
            docs: list[dict] = []
            for page in iam.get_paginator("list_attached_group_policies").paginate(GroupName=group_name):
                for attached in page["AttachedPolicies"]:
                    doc = self.managed_policy_document(account, attached["PolicyArn"])
                    if doc:
                        docs.append(doc)
            for page in iam.get_paginator("list_group_policies").paginate(GroupName=group_name):
                for name in page["PolicyNames"]:
                    raw = iam.get_group_policy(GroupName=group_name, PolicyName=name)["PolicyDocument"]
                    doc = policy_document(raw)
                    if doc:
                        docs.append(doc)
            return docs

        return self._cached(("group", account, group_name), fetch)

    def user_documents(self, account: str, user_name: str) -> list[dict] | None:
        """Every policy document in force on a user, its groups' included, judged as the remediation guard does:
        from the account's GetAccountAuthorizationDetails (read once per cache period for all users)."""

        def fetch() -> Authorization:
            return Authorization.of(authorization_details(collect_authorization(self.sessions, account)))

        authorization = self._cached(("authorization", account), fetch)
        if authorization is None:
            return None
        entry = next((u for u in authorization.users if u.get("UserName") == user_name), None)
        return authorization.documents_of(entry) if entry is not None else None

    def inline_policy_document(self, account: str, kind: str, principal: str, policy_name: str) -> dict | None:
        """An inline policy of a user, group or role (GetUserPolicy / GetGroupPolicy / GetRolePolicy)."""
        if kind not in ("user", "group", "role"):
            return None

        def fetch() -> dict | None:
            get = getattr(self._iam(account), f"get_{kind}_policy")
            raw = get(**{f"{kind.capitalize()}Name": principal, "PolicyName": policy_name})["PolicyDocument"]
            return policy_document(raw)

        return self._cached(("inline", account, kind, principal, policy_name), fetch)

    def organization_accounts(self) -> frozenset[str] | None:
        """The organization's active accounts, or None when they cannot be listed (no organization, or the bot's
        account is neither its management account nor a delegated administrator)."""
        accounts = self._cached(("organization",), lambda: list_accounts(self.sessions))
        return frozenset(accounts) if accounts is not None else None

    def organization_policy_type(self, policy_id: str) -> str | None:
        """The type of an Organizations policy, or None when it cannot be described (deleted, or no access)."""
        return self._cached(("org-policy", policy_id), lambda: policy_type(self.sessions, policy_id))

    def permission_set_reach(
        self, account: str, region: str, instance_arn: str, permission_set_arn: str
    ) -> PermissionSetReach | None:
        """An Identity Center permission set's policies and reach, read in its managing account (not cached: the
        event that asks has just changed it)."""
        try:
            return permission_set_reach(
                self.sessions,
                account,
                region,
                instance_arn,
                permission_set_arn,
                lambda arn: self.managed_policy_document(account, arn),
            )
        except (ClientError, BotoCoreError, MemberRoleError) as err:
            log.info("Identity Center lookup of %s failed: %s", permission_set_arn, err)
            return None

    @staticmethod
    def _version(iam: Any, policy_arn: str, version_id: str) -> dict | None:
        raw = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version_id)["PolicyVersion"]["Document"]
        return policy_document(raw)
