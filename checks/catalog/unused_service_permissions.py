"""Principals granted services they have not used in 90 days, with a trimmed policy: from IAM Access Analyzer's
unused-access findings (every principal) where an analyzer answered, else from Access Advisor (the most powerful
principals)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from fnmatch import fnmatchcase

from checks.base import Check, Finding, fail, ok
from checks.helpers import ago, plural, principal_kind, principal_name, principals
from checks.helpers_roles_trails import clip, is_service_linked, listing
from checks.last_access import (
    SERVICE_DAYS,
    analyzer_label,
    analyzer_used,
    excluded,
    findings_of,
    service_days,
    source,
    unused_since,
)
from core.severity import Severity
from core.times import utc
from iam.snapshot import ACCESS_ADVISOR, Snapshot

UNUSED_DAYS = SERVICE_DAYS
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


def _service_of(pattern: str) -> str:
    return pattern.partition(":")[0].lower() if ":" in pattern else pattern.strip().lower()


def trimmed_policy_without(documents: Iterable[dict], unused: Iterable[str]) -> dict:
    """One policy with the `unused` service namespaces taken out of the documents' statements, for a source
    that names the unused services but not the used ones (IAM Access Analyzer).

    An Allow of `*` becomes an Allow with NotAction `<service>:*` per unused service, and an Allow with
    NotAction has them added to it; patterns naming an unused service are dropped. A pattern whose service
    part is a wildcard (`s*:List*`) is kept as it is and may still reach an unused service: review the
    suggestion. Deny statements keep what they deny of the other services; Sids and duplicates are dropped.
    """
    gone = sorted({ns.lower() for ns in unused})
    out = [f"{ns}:*" for ns in gone]
    statements: list[dict] = []
    for doc in documents:
        for raw in _as_list(doc.get("Statement") if isinstance(doc, dict) else None):
            if not isinstance(raw, dict) or raw.get("Effect") not in ("Allow", "Deny"):
                continue
            if "NotAction" in raw:
                statement = _ordered(raw, None)
                if raw["Effect"] == "Allow":
                    excluded_now = [p for p in _as_list(raw["NotAction"]) if isinstance(p, str)]
                    statement["NotAction"] = list(dict.fromkeys([*excluded_now, *out]))
            else:
                patterns = [p for p in _as_list(raw.get("Action")) if isinstance(p, str)]
                kept = [p for p in patterns if _service_of(p) not in gone]
                if not kept:
                    continue
                if raw["Effect"] == "Allow" and any(p.strip() == "*" for p in kept):  # `*` covers the rest
                    bare = {k: v for k, v in raw.items() if k != "Action"}
                    statement = _ordered({**bare, "NotAction": out if len(out) > 1 else out[0]}, None)
                else:
                    statement = _ordered(raw, kept)
            if statement not in statements:
                statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def _split(services: list[dict], snapshot: Snapshot) -> tuple[list[str], list[str]]:
    """(used, unused) service namespaces: used means authenticated within the last 90 days."""
    used, unused = [], []
    for service in services:
        namespace = service.get("ServiceNamespace") or service.get("ServiceName") or "?"
        last = utc(service.get("LastAuthenticated"))
        (used if last is not None and not unused_since(last, snapshot, UNUSED_DAYS) else unused).append(namespace)
    return sorted(set(used)), sorted(set(unused) - set(used))


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """From whichever source answered (the snapshot's `last_access_source`): see `from_analyzer` and
    `from_advisor`."""
    yield from (from_analyzer(snapshot) if analyzer_used(snapshot) else from_advisor(snapshot))


def _too_new(entry: dict | None, snapshot: Snapshot, days: int) -> datetime | None:
    created = utc((entry or {}).get("CreateDate"))
    return created if created is not None and not unused_since(created, snapshot, days) else None


def from_analyzer(snapshot: Snapshot) -> Iterator[Finding]:
    """Per user and role (service-linked roles and those the analyzer's rule excludes left out): fail when the
    analyzer has an ACTIVE UnusedPermission finding naming a service unused for 90 days (or the analyzer's
    longer unusedAccessAge); pass when it has none. A finding whose details were not read fails without the
    services or a trimmed policy."""
    days = service_days(snapshot)
    said = source(analyzer_label(snapshot))
    found = findings_of(snapshot, ("UnusedPermission",))
    entries = [*(snapshot.users or []), *(snapshot.roles or [])]
    for entry in sorted(entries, key=lambda e: e["Arn"]):
        arn = entry["Arn"]
        if is_service_linked(entry) or excluded(entry, snapshot):
            continue
        who = f"{principal_kind(arn).capitalize()} {principal_name(arn)}"
        finding = (found.get(arn) or [None])[0]
        if finding is None:
            yield ok(arn, f"{who} has no unused-permission finding: it used what it is granted in {days} days.{said}")
            continue
        created = _too_new(entry, snapshot, days)
        if created is not None:
            yield ok(arn, f"{who} is too new to judge (created {ago(created, snapshot)}).{said}")
            continue
        details = finding.get("findingDetails")
        if details is None:
            why = (
                f"could not be read ({finding['detailsError']})"
                if finding.get("detailsError")
                else "were not read in this audit (only the most powerful principals' are)"
            )
            yield fail(
                arn,
                f"{who} has permissions unused for {days}+ days (finding {finding.get('id', '?')}); its details "
                f"{why}, so no trimmed policy is suggested: see the finding in IAM > Access analyzer.{said}",
            )
            continue
        unused = sorted(
            {
                str(d["serviceNamespace"]).lower()
                for d in (item.get("unusedPermissionDetails") for item in details)
                if isinstance(d, dict)
                and d.get("serviceNamespace")
                and (utc(d.get("lastAccessed")) is None or unused_since(utc(d.get("lastAccessed")), snapshot, days))
            }
        )
        if not unused:
            yield ok(arn, f"{who} used each service the analyzer lists for it in the last {days} days.{said}")
            continue
        policy = trimmed_policy_without(snapshot.documents_of(entry), unused)
        text = json.dumps(policy, separators=(",", ":"))
        yield fail(
            arn,
            f"{who} has not used {plural(len(unused), 'service')} it is granted in {days} days: "
            f"{listing(unused, 8)}.{said} Without them: {clip(text, SUGGESTION_CHARS)}",
        )


def from_advisor(snapshot: Snapshot) -> Iterator[Finding]:
    """Per principal with Access Advisor data: fail when a granted service went unused for 90 days.

    Principals the collector skipped (no advisor data), service-linked roles and principals created less
    than 90 days ago give no failure; the detail of a failure carries a trimmed policy suggestion.
    """
    said = source(ACCESS_ADVISOR)
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
        created = _too_new(entry, snapshot, UNUSED_DAYS)
        if created is not None:
            yield ok(
                arn,
                f"{who} is too new to judge (created {ago(created, snapshot)}); {len(unused)} of its "
                f"{plural(total, 'service')} are unused so far.",
            )
            continue
        head = f"{who} has not used {len(unused)} of the {plural(total, 'service')} it is granted in 90 days: "
        head += f"{listing(unused, 8)}.{said}"
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
        "IAM Access Analyzer's unused-access findings (where an unused-access analyzer runs: every principal) "
        "or else Access Advisor (the most powerful principals) record when a principal last used each service "
        "its policies allow. A service "
        "nobody has touched in three months is a permission the principal does not need today but that an "
        "attacker holding its credentials could use. Cutting policies down to what is actually used is the "
        "most direct form of least privilege, and the evidence for it is already in the account."
    ),
    remediation=(
        "Review the suggested policy with the principal's owner (the finding in IAM > Access analyzer, or "
        "Access Advisor's tab IAM > Users or Roles > <name> > Last accessed, shows the same dates), then "
        "replace the broad policies with it: "
        "`aws iam put-role-policy` / `put-user-policy` with the trimmed document, and detach the old ones. "
        "Seasonal jobs (quarterly reports, disaster recovery) may need services that look unused; mute those."
    ),
    needs=("authorization", "access_advisor"),
    evaluate=evaluate,
)
