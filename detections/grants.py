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
    if name in OMITTED_EVENTS and _omitted(req):
        return _recovered_grant(recover_omitted(record, ctx), account)

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


# --- policies whose document CloudTrail omitted ---------------------------------------------------------------

OMITTED_EVENTS = frozenset({*PUT, "CreatePolicy", "CreatePolicyVersion"})
IAM_RESOURCE_KIND = {"AWS::IAM::User": "user", "AWS::IAM::Group": "group", "AWS::IAM::Role": "role"}


def request_omitted(record: dict) -> bool:
    """Whether CloudTrail replaced the request with its too-large marker (`{"reason": "requestParameters too
    large", "omitted": true}`), as a document padded past its size limit makes it do."""
    return _omitted(ct.request(record))


def _omitted(req: dict) -> bool:
    return _flag(req.get("omitted")) or req.get("reason") == "requestParameters too large"


@dataclass(frozen=True)
class OmittedPolicy:
    """What a policy write with an omitted request still says (from what survives of the request, its resources
    and the response) and the document read back from IAM, when it could be."""

    event_name: str
    kind: str | None  # "user", "group" or "role" for an inline policy
    principal: str | None
    policy: str | None  # inline policy name, or managed policy ARN
    version: str | None  # the managed policy version written
    default: bool  # the version written is (or, for an inline policy, acts as) the one in force
    document: dict | None

    @property
    def target(self) -> str | None:
        """The principal's name with its kind (`user bob`), else the policy, else None."""
        return f"{self.kind} {self.principal}" if self.kind and self.principal else self.policy


def _resource(record: dict, kinds: set[str]) -> str | None:
    """The ARN of the record's first `resources` entry of one of `kinds`."""
    items = record.get("resources")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("type") in kinds and isinstance(item.get("ARN"), str):
            return item["ARN"]
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def recover_omitted(record: dict, ctx: RuleContext) -> OmittedPolicy:
    """Locate the policy an omitted request wrote and read its document back (None offline or when it cannot)."""
    name = str(record.get("eventName") or "")
    req, resp = ct.request(record), ct.response(record)
    account = ct.account_id(record)
    if name in PUT:
        kind = PUT[name]
        principal = _text(req.get(f"{kind}Name"))
        if principal is None:
            arn = _resource(record, {k for k, v in IAM_RESOURCE_KIND.items() if v == kind})
            principal = arn.rsplit("/", 1)[-1] if arn else None
        policy = _text(req.get("policyName"))
        doc = ctx.inline_policy_document(account, kind, principal, policy) if principal and policy else None
        return OmittedPolicy(name, kind, principal, policy, None, True, doc)
    if name == "CreatePolicy":
        created = resp.get("policy") if isinstance(resp.get("policy"), dict) else {}
        arn, version, default = _text(created.get("arn")), _text(created.get("defaultVersionId")), True
    else:
        created = resp.get("policyVersion") if isinstance(resp.get("policyVersion"), dict) else {}
        arn = _text(req.get("policyArn")) or _resource(record, {"AWS::IAM::Policy"})
        version, default = _text(created.get("versionId")), _flag(created.get("isDefaultVersion"))
    doc = ctx.policy_version_document(account, arn, version) if arn and version else None
    return OmittedPolicy(name, None, None, arn, version, default, doc)


def _recovered_grant(found: OmittedPolicy, account: str) -> PowerGrant | None:
    """The admin-equivalent grant an omitted request made, judged as any other once its document is read back."""
    if found.document is None or not found.default or found.policy is None or found.event_name == "CreatePolicy":
        return None
    verdict = judge_document(found.document)
    if not verdict.admin_equivalent:
        return None
    if found.kind and found.principal:
        target = ct.iam_arn(account, found.kind, found.principal)
        return PowerGrant(found.event_name, found.kind, found.principal, found.policy, target, verdict)
    return PowerGrant(found.event_name, None, None, found.policy, found.policy, verdict, found.version)
