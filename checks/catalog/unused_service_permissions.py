"""Principals granted services they have not used in 90 days (IAM Access Advisor), with a trimmed policy."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase

from checks.base import Check, Finding, fail, ok
from checks.helpers import ago, days_since, plural, principal_kind, principal_name, principals
from checks.helpers_roles_trails import clip, is_service_linked, listing
from core.severity import Severity
from core.times import utc
from iam.snapshot import Snapshot

UNUSED_DAYS = 90
SUGGESTION_CHARS = 600


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _narrow(pattern: str, used: list[str]) -> list[str]:
    """The parts of one Action pattern that fall in the used service namespaces."""
    if pattern.strip() == "*":
        return [f"{ns}:*" for ns in used]
    service, sep, name = pattern.partition(":")
    if not sep:
        return []
    if not any(c in service for c in "*?"):
        return [pattern] if service.lower() in used else []
    return [f"{ns}:{name}" for ns in used if fnmatchcase(ns, service.lower())]


def _touches(pattern: str, namespace: str) -> bool:
    """Whether an action pattern names some action of `namespace` (`iam:Delete*` touches iam)."""
    service = pattern.partition(":")[0] if ":" in pattern else pattern
    return fnmatchcase(namespace, service)


def _ordered(raw: dict, actions: list[str] | None) -> dict:
    """A statement without its Sid, keys in the usual order, its Action replaced unless `actions` is None."""
    statement = {k: v for k, v in raw.items() if k != "Sid"}
    if actions is not None:
        statement.pop("NotAction", None)
        statement["Action"] = list(dict.fromkeys(actions)) if len(actions) > 1 else actions[0]
    order = ("Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")
    return {k: statement[k] for k in (*order, *sorted(statement)) if k in statement}


def trimmed_policy(documents: Iterable[dict], used: Iterable[str]) -> dict:
    """One policy with the documents' statements cut down to the used service namespaces.

    Each statement keeps its Effect, Resource and Condition; its Action list loses every other service (`*`
    becomes `<service>:*` per used service). An Allow with NotAction becomes the used services it covers whole:
    a service it excludes in part (NotAction `iam:Delete*`) is left out rather than granted back in full, so
    review the suggestion before applying it. Deny statements with NotAction are kept as they are. Statements
    left with no action are dropped, and so are Sids and duplicates, to keep the suggestion short.
    """
    namespaces = sorted({ns.lower() for ns in used})
    statements: list[dict] = []
    for doc in documents:
        for raw in _as_list(doc.get("Statement") if isinstance(doc, dict) else None):
            if not isinstance(raw, dict) or raw.get("Effect") not in ("Allow", "Deny"):
                continue
            if "NotAction" in raw and raw["Effect"] == "Deny":
                actions = None  # a guardrail: kept whole
            elif "NotAction" in raw:
                excluded = [p.lower() for p in _as_list(raw["NotAction"]) if isinstance(p, str)]
                actions = [f"{ns}:*" for ns in namespaces if not any(_touches(p, ns) for p in excluded)]
            else:
                patterns = [p for p in _as_list(raw.get("Action")) if isinstance(p, str)]
                actions = [a for p in patterns for a in _narrow(p, namespaces)]
            if actions == []:
                continue
            statement = _ordered(raw, actions)
            if statement not in statements:
                statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def _split(services: list[dict], snapshot: Snapshot) -> tuple[list[str], list[str]]:
    """(used, unused) service namespaces: used means authenticated within the last 90 days."""
    used, unused = [], []
    for service in services:
        namespace = service.get("ServiceNamespace") or service.get("ServiceName") or "?"
        last = utc(service.get("LastAuthenticated"))
        (used if last is not None and days_since(last, snapshot) < UNUSED_DAYS else unused).append(namespace)
    return sorted(set(used)), sorted(set(unused) - set(used))


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per principal with Access Advisor data: fail when a granted service went unused for 90 days.

    Principals the collector skipped (no advisor data), service-linked roles and principals created less
    than 90 days ago give no failure; the detail of a failure carries a trimmed policy suggestion.
    """
    entries = principals(snapshot)
    for arn, services in sorted((snapshot.access_advisor or {}).items()):
        entry = entries.get(arn)
        if entry is not None and is_service_linked(entry):
            continue
        who = f"{principal_kind(arn).capitalize()} {principal_name(arn)}"
        used, unused = _split(services, snapshot)
        total = len(used) + len(unused)
        if not unused:
            yield ok(arn, f"{who} used each of the {plural(total, 'service')} it is granted in the last 90 days.")
            continue
        created = utc((entry or {}).get("CreateDate"))
        if created is not None and days_since(created, snapshot) < UNUSED_DAYS:
            yield ok(
                arn,
                f"{who} is too new to judge (created {ago(created, snapshot)}); {len(unused)} of its "
                f"{plural(total, 'service')} are unused so far.",
            )
            continue
        head = f"{who} has not used {len(unused)} of the {plural(total, 'service')} it is granted in 90 days: "
        head += f"{listing(unused, 8)}."
        if entry is None:
            tail = " Its policies are not in the snapshot, so no trimmed policy is suggested."
        elif not used:
            tail = " It used none of them: remove its policies, or the principal itself."
        else:
            policy = trimmed_policy(snapshot.documents_of(entry), used)
            text = json.dumps(policy, separators=(",", ":"))
            tail = f" Keeping only {listing(used, 8)}: {clip(text, SUGGESTION_CHARS)}"
        yield fail(arn, head + tail)


CHECK = Check(
    id="unused_service_permissions",
    title="Permissions for services not used in 90 days",
    severity=Severity.MEDIUM,
    rationale=(
        "Access Advisor records when each principal last used each service its policies allow. A service "
        "nobody has touched in three months is a permission the principal does not need today but that an "
        "attacker holding its credentials could use. Cutting policies down to what is actually used is the "
        "most direct form of least privilege, and the evidence for it is already in the account."
    ),
    remediation=(
        "Review the suggested policy with the principal's owner (Access Advisor's console tab shows the same "
        "dates: IAM > Users or Roles > <name> > Last accessed), then replace the broad policies with it: "
        "`aws iam put-role-policy` / `put-user-policy` with the trimmed document, and detach the old ones. "
        "Seasonal jobs (quarterly reports, disaster recovery) may need services that look unused; mute those."
    ),
    needs=("authorization", "access_advisor"),
    evaluate=evaluate,
)
