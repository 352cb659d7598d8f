"""Who holds admin-equivalent power in an account, from GetAccountAuthorizationDetails and policy semantics."""

from __future__ import annotations

from collections.abc import Iterable

from iam.authorization import Attachment, Authorization
from iam.policy import Verdict, judge_documents
from iam.snapshot import Snapshot


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


def admin_principals(details: dict[str, list[dict]], without: Iterable[Attachment] = ()) -> dict[str, Verdict]:
    """ARN -> verdict of every user and role whose effective policies (own, and via groups for users) are
    admin-equivalent, pretending the grants in `without` were already removed."""
    removed = frozenset(without)
    authorization = Authorization.of(details)
    result: dict[str, Verdict] = {}
    for entry in [*authorization.users, *authorization.roles]:
        verdict = judge_documents(authorization.documents_of(entry, removed))
        if verdict.admin_equivalent:
            result[entry["Arn"]] = verdict
    return result
