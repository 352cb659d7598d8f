"""Which policies apply to a principal: the one walk over GetAccountAuthorizationDetails that every caller shares.

Managed policies count by ARN (their default version's document), inline ones by name, and a user also holds its
groups' policies. The audit snapshot (core.snapshot), the remediation guard (aws.authz) and the checks' wording
(checks.helpers) all read the policies of a principal through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from core.cloudtrail import policy_document


@dataclass(frozen=True)
class Attachment:
    """One policy in force on a principal: managed (by ARN) or inline (by name)."""

    principal_type: str  # user | group | role
    principal_name: str
    policy_arn: str | None = None
    inline_name: str | None = None


class Authorization:
    """One account's users, groups, roles and managed policies (GetAccountAuthorizationDetails), and the policies
    in force on each principal."""

    def __init__(
        self,
        users: list[dict] | None = None,
        groups: list[dict] | None = None,
        roles: list[dict] | None = None,
        policies: list[dict] | None = None,
    ) -> None:
        self.users = users or []
        self.groups = groups or []
        self.roles = roles or []
        self.policies = policies or []

    @cached_property
    def managed_documents(self) -> dict[str, dict]:
        """Managed policy ARN -> its default version's document."""
        docs: dict[str, dict] = {}
        for policy in self.policies:
            for version in policy.get("PolicyVersionList", []):
                if version.get("IsDefaultVersion"):
                    doc = policy_document(version.get("Document"))
                    if doc:
                        docs[policy["Arn"]] = doc
        return docs

    def _own_documents(self, entry: dict, inline_key: str) -> list[dict]:
        docs = [
            self.managed_documents[a["PolicyArn"]]
            for a in entry.get("AttachedManagedPolicies", [])
            if a["PolicyArn"] in self.managed_documents
        ]
        for inline in entry.get(inline_key, []):
            doc = policy_document(inline.get("PolicyDocument"))
            if doc:
                docs.append(doc)
        return docs

    @cached_property
    def group_documents(self) -> dict[str, list[dict]]:
        """Group name -> every document in force on the group."""
        return {g["GroupName"]: self._own_documents(g, "GroupPolicyList") for g in self.groups}

    def documents_of(self, principal: dict) -> list[dict]:
        """Every policy document in force on a user (own and via groups) or role entry."""
        if "UserName" in principal:
            docs = self._own_documents(principal, "UserPolicyList")
            for group in principal.get("GroupList", []):
                docs += self.group_documents.get(group, [])
            return docs
        if "RoleName" in principal:
            return self._own_documents(principal, "RolePolicyList")
        return self._own_documents(principal, "GroupPolicyList")
