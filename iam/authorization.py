"""Which policies apply to a principal: the one walk over GetAccountAuthorizationDetails that every caller shares.

Managed policies count by ARN (their default version's document), inline ones by name, and a user also holds its
groups' policies. The audit snapshot (iam.snapshot), the remediation guard (aws.authz) and the checks' wording
(checks.helpers) all read the policies of a principal through here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property

from core.cloudtrail import policy_document


@dataclass(frozen=True, slots=True)
class Attachment:
    """One policy attached to a user, group or role: managed (by ARN) or inline (by name). What a detach removes;
    two are equal when they name the same policy on the same principal."""

    principal_type: str  # user | group | role
    principal_name: str
    policy_arn: str | None = None
    inline_name: str | None = None
    policy_name: str | None = field(default=None, compare=False)  # a managed policy's name, for labels only

    @property
    def label(self) -> str:
        """`managed policy AdministratorAccess`, `inline policy deploy`."""
        if self.policy_arn is None:
            return f"inline policy {self.inline_name}"
        return f"managed policy {self.policy_name or self.policy_arn}"


Held = tuple[Attachment, dict]  # a policy in force on a principal, and its document


_NAME_KEY = {"user": "UserName", "group": "GroupName", "role": "RoleName"}
_INLINE_KEY = {"user": "UserPolicyList", "group": "GroupPolicyList", "role": "RolePolicyList"}


def _kind(entry: dict) -> str:
    """`user`, `role` or `group` for an authorization-details entry."""
    if "UserName" in entry:
        return "user"
    return "role" if "RoleName" in entry else "group"


def _groups_of(entry: dict) -> list[str]:
    """The groups whose policies a user entry also holds (none for a group or role)."""
    return entry.get("GroupList", []) if "UserName" in entry else []


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

    @classmethod
    def of(cls, details: dict[str, list[dict]]) -> Authorization:
        """From GetAccountAuthorizationDetails' shape (UserDetailList, GroupDetailList, RoleDetailList, Policies)."""
        return cls(
            details.get("UserDetailList"),
            details.get("GroupDetailList"),
            details.get("RoleDetailList"),
            details.get("Policies"),
        )

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

    def _own(self, entry: dict, kind: str) -> list[tuple[dict, str | None, str | None]]:
        """(document, managed policy ARN or None for an inline policy, policy name) of each policy attached to the
        entry itself, managed ones first; a policy whose document is missing or unreadable is left out (it grants
        nothing known)."""
        managed_documents = self.managed_documents
        found: list[tuple[dict, str | None, str | None]] = []
        for managed in entry.get("AttachedManagedPolicies", []):
            doc = managed_documents.get(managed["PolicyArn"])
            if doc:
                found.append((doc, managed["PolicyArn"], managed.get("PolicyName")))
        for inline in entry.get(_INLINE_KEY[kind], []):
            doc = policy_document(inline.get("PolicyDocument"))
            if doc:
                found.append((doc, None, inline.get("PolicyName", "?")))
        return found

    def attached(self, entry: dict) -> list[Held]:
        """The policies attached to a user, group or role entry itself, with their documents: managed ones, then
        inline ones. A policy whose document is missing or unreadable is left out."""
        kind = _kind(entry)
        name = entry.get(_NAME_KEY[kind], "")
        return [
            (Attachment(kind, name, None, policy) if arn is None else Attachment(kind, name, arn, None, policy), doc)
            for doc, arn, policy in self._own(entry, kind)
        ]

    @cached_property
    def _group_attachments(self) -> dict[str, list[Held]]:
        return {g["GroupName"]: self.attached(g) for g in self.groups}

    @cached_property
    def _group_documents(self) -> dict[str, list[dict]]:
        return {group: [doc for _, doc in held] for group, held in self._group_attachments.items()}

    def in_force(self, entry: dict, without: Collection[Attachment] = ()) -> list[Held]:
        """Every policy in force on a user (its own, then its groups'), group or role entry, with its document,
        pretending those in `without` were already removed."""
        held = self.attached(entry)
        for group in _groups_of(entry):
            held += self._group_attachments.get(group, [])
        removed = set(without)
        return [h for h in held if h[0] not in removed] if removed else held

    def documents_of(self, entry: dict, without: Collection[Attachment] = ()) -> list[dict]:
        """The documents of in_force(entry, without); without `without`, the audit's hot path, built without
        naming each policy."""
        if without:
            return [doc for _, doc in self.in_force(entry, without)]
        docs = [doc for doc, _, _ in self._own(entry, _kind(entry))]
        for group in _groups_of(entry):
            docs += self._group_documents.get(group, [])
        return docs
