"""Whether one CloudTrail record grants admin-equivalent power: the analysis both grant rules share."""

from __future__ import annotations

from dataclasses import dataclass

from core import cloudtrail as ct
from detections.base import Remediation, RuleContext
from iam.policy import (
    Verdict,
    judge_document,
    judge_documents,
    judge_managed_arn,
    judge_policy_text,
    name_looks_privileged,
)

ATTACH = {"AttachUserPolicy": "user", "AttachGroupPolicy": "group", "AttachRolePolicy": "role"}
PUT = {"PutUserPolicy": "user", "PutGroupPolicy": "group", "PutRolePolicy": "role"}
GRANT_EVENTS = frozenset({*ATTACH, *PUT, "CreatePolicyVersion", "SetDefaultPolicyVersion", "AddUserToGroup"})
USER_GRANT_EVENTS = frozenset({"AttachUserPolicy", "PutUserPolicy", "AddUserToGroup"})
UNVERIFIED_POWER = "policy could not be read; its name suggests admin power"


@dataclass(frozen=True)
class PowerGrant:
    """A successful call that gave some identity (or every holder of a policy) admin-equivalent power."""

    event_name: str
    kind: str | None  # "user", "group" or "role"; None when a managed policy itself changed
    name: str | None  # the principal's name
    policy: str  # policy ARN, inline policy name, or group name for AddUserToGroup
    target: str  # the principal's ARN, or the policy's ARN when the policy changed
    verdict: Verdict | None  # None when judged by the policy's name only
    version: str | None = None  # the policy version made default, for policy changes

    @property
    def verified(self) -> bool:
        """Whether the policy's content was judged (rather than its name)."""
        return self.verdict is not None

    @property
    def power(self) -> str:
        """The power granted, as the alert states it."""
        return self.verdict.summary if self.verdict else UNVERIFIED_POWER

    def facts(self) -> dict[str, str]:
        """The alert's "what" fields: which policy, granted to whom, and what it allows."""
        if self.event_name == "AddUserToGroup":
            policy = f"every policy of group {self.policy}"
        elif self.event_name in PUT:
            policy = f"{self.policy} (inline)"
        elif self.version:
            policy = f"{self.policy} (version {self.version})"
        else:
            policy = self.policy
        granted_to = self.target if self.kind else "every user, group and role the policy is attached to"
        return {"Policy": policy, "Granted to": granted_to, "Power": self.power}

    def remediation(self) -> Remediation | None:
        """What the buttons act on: the detach target when the grant is a policy on a principal, and the grantee's
        access keys when the grantee is one user (never the actor's: the actor's key has its own button)."""
        key_user = self.name if self.event_name in USER_GRANT_EVENTS else None
        if self.event_name in ATTACH:
            return Remediation(
                principal_type=self.kind, principal_name=self.name, policy_arn=self.policy, key_user=key_user
            )
        if self.event_name in PUT:
            return Remediation(
                principal_type=self.kind, principal_name=self.name, inline_policy_name=self.policy, key_user=key_user
            )
        return Remediation(key_user=key_user) if key_user else None

    def title(self) -> str:
        """A one-line description of what happened."""
        short = self.policy.rsplit("/", 1)[-1]
        if self.event_name in ATTACH:
            if not self.verified:
                return f"Policy {short}, named like an admin policy, attached to {self.kind} {self.name}"
            return f"Admin-equivalent policy {short} attached to {self.kind} {self.name}"
        if self.event_name in PUT:
            return f"Admin-equivalent inline policy {short} put on {self.kind} {self.name}"
        if self.event_name == "AddUserToGroup":
            return f"User {self.name} added to admin-equivalent group {self.policy}"
        if self.event_name == "SetDefaultPolicyVersion":
            return f"Managed policy {short} switched to an admin-equivalent version"
        return f"Managed policy {short} given an admin-equivalent default version"


def _flag(value: object) -> bool:
    return value is True or str(value).lower() == "true"


def analyse_grant(record: dict, ctx: RuleContext) -> PowerGrant | None:
    """The admin-equivalent grant this record makes, or None (failed calls never count)."""
    name = str(record.get("eventName") or "")
    if name not in GRANT_EVENTS or ct.failed(record):
        return None
    req = ct.request(record)
    account = ct.account_id(record)

    if name in ATTACH or name in PUT:
        kind = ATTACH.get(name) or PUT[name]
        principal = req.get(f"{kind}Name")
        if not isinstance(principal, str) or not principal:
            return None
        target = ct.iam_arn(account, kind, principal)
        if name in ATTACH:
            return _attached(name, kind, principal, target, req.get("policyArn"), account, ctx)
        policy_name = req.get("policyName")
        if not isinstance(policy_name, str):
            return None
        verdict = judge_policy_text(req.get("policyDocument"))
        if verdict is None or not verdict.admin_equivalent:
            return None
        return PowerGrant(name, kind, principal, policy_name, target, verdict)

    if name == "AddUserToGroup":
        user, group = req.get("userName"), req.get("groupName")
        if not isinstance(user, str) or not isinstance(group, str) or not user or not group:
            return None
        docs = ctx.group_documents(account, group)
        if docs is None:
            return None
        verdict = judge_documents(docs)
        if not verdict.admin_equivalent:
            return None
        return PowerGrant(name, "user", user, group, ct.iam_arn(account, "user", user), verdict)

    policy_arn = req.get("policyArn")
    if not isinstance(policy_arn, str) or not policy_arn:
        return None
    if name == "CreatePolicyVersion":
        if not _flag(req.get("setAsDefault")):
            return None
        verdict = judge_policy_text(req.get("policyDocument"))
        created = ct.response(record).get("policyVersion")
        version = created.get("versionId") if isinstance(created, dict) else None
    else:
        version = req.get("versionId")
        doc = ctx.policy_version_document(account, policy_arn, version) if isinstance(version, str) else None
        verdict = judge_document(doc) if doc is not None else None
    if verdict is None or not verdict.admin_equivalent:
        return None
    return PowerGrant(name, None, None, policy_arn, policy_arn, verdict, str(version) if version else None)


def _attached(
    name: str, kind: str, principal: str, target: str, policy_arn: object, account: str, ctx: RuleContext
) -> PowerGrant | None:
    if not isinstance(policy_arn, str) or not policy_arn:
        return None
    verdict = judge_managed_arn(policy_arn)
    if verdict is None:
        doc = ctx.managed_policy_document(account, policy_arn)
        if doc is None:
            aws_managed = policy_arn.split(":")[4:5] == ["aws"]
            if aws_managed or not name_looks_privileged(policy_arn):
                return None
            return PowerGrant(name, kind, principal, policy_arn, target, None)
        verdict = judge_document(doc)
    return PowerGrant(name, kind, principal, policy_arn, target, verdict) if verdict.admin_equivalent else None
