"""Who holds admin-equivalent power in an account, from GetAccountAuthorizationDetails and policy semantics."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from core.authorization import Attachment
from core.cloudtrail import policy_document
from core.policy import Verdict, judge_documents
from core.snapshot import Snapshot


def authorization_details(snapshot: Snapshot) -> dict[str, list[dict]]:
    """A snapshot's authorization part in GetAccountAuthorizationDetails' shape."""
    return {
        "UserDetailList": snapshot.users or [],
        "GroupDetailList": snapshot.groups or [],
        "RoleDetailList": snapshot.roles or [],
        "Policies": snapshot.policies or [],
    }


def principal_arn(details: dict[str, list[dict]], kind: str, name: str) -> str | None:
    """The ARN, path included, under which `details` lists the user or role `name`; None if it is not there."""
    entries = {"user": details["UserDetailList"], "role": details["RoleDetailList"]}.get(kind, [])
    return next((e.get("Arn") for e in entries if e.get(f"{kind.capitalize()}Name") == name), None)


def _default_documents(details: dict[str, list[dict]]) -> dict[str, dict]:
    docs: dict[str, dict] = {}
    for policy in details["Policies"]:
        for version in policy.get("PolicyVersionList", []):
            if version.get("IsDefaultVersion"):
                doc = policy_document(version.get("Document"))
                if doc:
                    docs[policy["Arn"]] = doc
    return docs


def _grants(kind: str, entry: dict, inline_key: str) -> Iterator[tuple[Attachment, dict | None]]:
    name = entry[f"{kind.capitalize()}Name"]
    for attached in entry.get("AttachedManagedPolicies", []):
        yield Attachment(kind, name, policy_arn=attached["PolicyArn"]), None
    for inline in entry.get(inline_key, []):
        yield (
            Attachment(kind, name, inline_name=inline["PolicyName"]),
            policy_document(inline.get("PolicyDocument")),
        )


def admin_principals(details: dict[str, list[dict]], without: Iterable[Attachment] = ()) -> dict[str, Verdict]:
    """ARN -> verdict of every user and role whose effective policies (own, and via groups for users) are
    admin-equivalent, pretending the grants in `without` were already removed."""
    removed = set(without)
    managed = _default_documents(details)

    def docs_of(kind: str, entry: dict, inline_key: str) -> list[dict]:
        found = []
        for grant, inline_doc in _grants(kind, entry, inline_key):
            if grant in removed:
                continue
            doc = inline_doc if grant.inline_name else managed.get(grant.policy_arn or "")
            if doc:
                found.append(doc)
        return found

    group_docs = {g["GroupName"]: docs_of("group", g, "GroupPolicyList") for g in details["GroupDetailList"]}
    result: dict[str, Verdict] = {}
    for user in details["UserDetailList"]:
        docs = docs_of("user", user, "UserPolicyList")
        for group in user.get("GroupList", []):
            docs += group_docs.get(group, [])
        verdict = judge_documents(docs)
        if verdict.admin_equivalent:
            result[user["Arn"]] = verdict
    for role in details["RoleDetailList"]:
        verdict = judge_documents(docs_of("role", role, "RolePolicyList"))
        if verdict.admin_equivalent:
            result[role["Arn"]] = verdict
    return result
