"""Shared helpers for the checks issue 13 part 2 brought in: which MFA devices are virtual, AWS managed policies
attached by name, and service-wide grants in customer-managed and inline policies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from checks.helpers import is_aws_managed, principal_name
from core.cloudtrail import policy_document
from iam.snapshot import Snapshot

ROOT_MFA_SERIAL = "/root-account-mfa-device"  # how the serial of root's virtual MFA device ends


# --- MFA devices -------------------------------------------------------------------------------------------


def virtual_mfa_holders(snapshot: Snapshot) -> set[str]:
    """ARNs of the users (root included, as `arn:...:root`) holding an assigned virtual MFA device."""
    holders: set[str] = set()
    for device in snapshot.virtual_mfa_devices or []:
        arn = str(device.get("User", {}).get("Arn", ""))
        if not arn and str(device.get("SerialNumber", "")).endswith(ROOT_MFA_SERIAL):
            arn = f"arn:aws:iam::{snapshot.account}:root"
        if arn:
            holders.add(arn)
    return holders


def root_has_virtual_mfa(snapshot: Snapshot) -> bool:
    """Whether root's MFA device is among the assigned virtual ones."""
    return any(arn.endswith(":root") for arn in virtual_mfa_holders(snapshot)) or any(
        str(d.get("SerialNumber", "")).endswith(ROOT_MFA_SERIAL) for d in snapshot.virtual_mfa_devices or []
    )


# --- AWS managed policies by name --------------------------------------------------------------------------


def holders_of(snapshot: Snapshot, policy_name: str, kinds: tuple[str, ...] = ("user", "group", "role")) -> list[dict]:
    """The user, group and role entries with the AWS managed policy `policy_name` attached (any partition)."""
    suffix = f":iam::aws:policy/{policy_name}"
    entries = {
        "user": snapshot.users or [],
        "group": snapshot.groups or [],
        "role": snapshot.roles or [],
    }
    return [
        entry
        for kind in kinds
        for entry in entries[kind]
        if any(str(a.get("PolicyArn", "")).endswith(suffix) for a in entry.get("AttachedManagedPolicies", []))
    ]


def entry_name(entry: dict) -> str:
    """`role auditor`, `user alice`, `group ops` for an authorization-details entry."""
    for kind in ("Role", "User", "Group"):
        if f"{kind}Name" in entry:
            return f"{kind.lower()} {entry[f'{kind}Name']}"
    return principal_name(str(entry.get("Arn", "?")))


# --- customer-managed and inline policies ------------------------------------------------------------------


@dataclass(frozen=True)
class PolicySource:
    """One policy a customer wrote: a customer-managed policy's default version, or an inline policy."""

    resource: str  # the managed policy's ARN, or the principal's ARN for an inline policy
    label: str  # `policy ops-admin`, `inline policy deploy of role ci`
    document: dict
    attached: int | None  # how many principals a managed policy is attached to; None for inline policies


def customer_policies(snapshot: Snapshot) -> Iterator[PolicySource]:
    """Every customer-managed policy (default version) and every inline policy of a user, group or role."""
    for policy in sorted(snapshot.policies or [], key=lambda p: p["Arn"]):
        arn = policy["Arn"]
        document = snapshot.managed_documents.get(arn)
        if is_aws_managed(arn) or not isinstance(document, dict):
            continue
        name = policy.get("PolicyName") or principal_name(arn)
        yield PolicySource(arn, f"policy {name}", document, int(policy.get("AttachmentCount") or 0))
    for kind, entries in (("user", snapshot.users), ("group", snapshot.groups), ("role", snapshot.roles)):
        for entry in sorted(entries or [], key=lambda e: e["Arn"]):
            for inline in entry.get(f"{kind.capitalize()}PolicyList", []):
                document = policy_document(inline.get("PolicyDocument"))
                if isinstance(document, dict):
                    owner = entry.get(f"{kind.capitalize()}Name") or principal_name(entry["Arn"])
                    label = f"inline policy {inline.get('PolicyName')} of {kind} {owner}"
                    yield PolicySource(entry["Arn"], label, document, None)


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def allow_statements(document: dict) -> Iterator[dict]:
    """The Allow statements of a policy document."""
    for statement in _as_list(document.get("Statement")):
        if isinstance(statement, dict) and statement.get("Effect") == "Allow":
            yield statement


def grants_whole_service(statement: dict, service: str) -> str | None:
    """The Action pattern by which an Allow statement grants every action of `service` (`kms:*`, any case) on
    every resource, or None. IAM refuses wildcards in the service prefix, so only `<service>:*` can; a bare `*`
    is left out: full administrator access has its own check."""
    if "*" not in [r for r in _as_list(statement.get("Resource")) if isinstance(r, str)]:
        return None
    for pattern in (p for p in _as_list(statement.get("Action")) if isinstance(p, str)):
        prefix, _, action = pattern.lower().partition(":")
        if action == "*" and prefix == service:
            return pattern
    return None


def service_wide_findings(snapshot: Snapshot, service: str) -> Iterator[tuple[PolicySource, list[str]]]:
    """Each customer-managed and inline policy with the Action patterns by which it grants all of `service` on
    every resource (an empty list when it does not)."""
    for source in customer_policies(snapshot):
        patterns = [p for s in allow_statements(source.document) if (p := grants_whole_service(s, service))]
        yield source, list(dict.fromkeys(patterns))


def where_attached(source: PolicySource) -> str:
    """`, attached to 2 principals` / `, not attached` for a managed policy; `` for an inline one."""
    if source.attached is None:
        return ""
    return (
        f", attached to {source.attached} principal{'' if source.attached == 1 else 's'}"
        if source.attached
        else ", not attached"
    )
