"""The shape every detection rule has: declared data plus a small match function."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from core import cloudtrail as ct
from core.severity import Severity

if TYPE_CHECKING:
    from core.rows import AlertRow, Fact
    from core.undone import Undone
    from iam.snapshot import PermissionSetReach


# The errorCode of a call refused for want of permission (AccessDenied, AccessDeniedException): what a rule's
# `refused_event_names` are read with, matched alike by the replay prefilter, the hunt's SQL and the live feed's
# EventBridge pattern (a prefix match there too).
REFUSED_ERROR_PREFIX = "AccessDenied"


def refused(record: dict) -> bool:
    """Whether AWS refused the call for want of permission (its errorCode starts with REFUSED_ERROR_PREFIX)."""
    code = record.get("errorCode")
    return isinstance(code, str) and code.startswith(REFUSED_ERROR_PREFIX)


@dataclass(frozen=True)
class Remediation:
    """What the alert's buttons may act on. Every field is optional; a button shows only when its target exists.

    `principal_*` with `policy_arn` or `inline_policy_name` enable `iam_detach_policy`;
    `key_user` (optionally narrowed to `access_key_id`) enables `iam_disable_key`.
    The five `sso_*` fields enable `iam_remove_assignment`.
    The actor's own long-term key (`iam_disable_actor_key`) is derived from the record by the pipeline.
    """

    principal_type: str | None = None  # "user" | "group" | "role"
    principal_name: str | None = None
    policy_arn: str | None = None
    inline_policy_name: str | None = None
    key_user: str | None = None
    access_key_id: str | None = None
    # An IAM Identity Center account assignment (`iam_remove_assignment`): all five name exactly one assignment.
    sso_instance_arn: str | None = None
    sso_account: str | None = None
    sso_permission_set_arn: str | None = None
    sso_principal_type: str | None = None  # USER | GROUP
    sso_principal_id: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The non-empty fields, for storage."""
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class Memory:
    """State a rule asks the engine to keep across records, batches and restarts (one fact per event).

    For each record the rule reads, `key(record)` says what to file it under (None: nothing to remember); the fact
    is `value(record)` (the event id when None) at the record's event time, kept for `minutes` of event time (None:
    the configured correlation window). With `on_match` only records whose alert the rule raises are remembered,
    after matching; otherwise every keyed record is remembered before the rule runs, so a count includes it.
    Any rule may read a memory by its name, which is unique across rules. A database older than the memory table
    is rebuilt from its rows once: stored events (name, time, account, caller, error) go through `key` as records;
    an `on_match` memory needs `from_alert`, the key of one of the rule's stored alerts (a row of the store's).
    """

    name: str
    key: Callable[[dict], str | None]
    minutes: int | None = None
    on_match: bool = False
    value: Callable[[dict], str] | None = None
    limit: int = 100_000  # facts kept in memory at most; the oldest go first
    from_alert: Callable[[AlertRow], str | None] | None = None
    from_events: bool = True  # False: `key` needs more than a stored event row holds, so no rebuild can fill it


@dataclass(frozen=True)
class Match:
    """A rule's verdict on one record: it fires, with what the alert should say."""

    title: str | None = None  # a specific title; the rule's title when None
    target: str | None = None  # ARN (or name) of the identity the event is about
    facts: Mapping[str, str] = field(default_factory=dict)  # extra "what" fields shown in the alert
    remediation: Remediation | None = None
    severity: Severity | None = None  # override the rule's severity (e.g. a suspicious-but-unverified grant)


class RuleContext(Protocol):
    """What a rule may ask beyond the record. Offline (replay), AWS lookups answer None."""

    def managed_policy_document(self, account: str, policy_arn: str) -> dict | None:
        """The default version's document of a managed policy, or None if it cannot be read."""

    def policy_version_document(self, account: str, policy_arn: str, version_id: str) -> dict | None:
        """One version's document of a managed policy, or None if it cannot be read."""

    def group_documents(self, account: str, group_name: str) -> list[dict] | None:
        """Every policy document in force on a group (attached and inline), or None if unknown."""

    def user_documents(self, account: str, user_name: str) -> list[dict] | None:
        """Every policy document in force on a user (its own and its groups'), or None if unknown."""

    def inline_policy_document(self, account: str, kind: str, principal: str, policy_name: str) -> dict | None:
        """An inline policy of a user, group or role (`kind`), or None if it cannot be read."""

    def organization_policy_type(self, policy_id: str) -> str | None:
        """The type of an Organizations policy (`SERVICE_CONTROL_POLICY`, `TAG_POLICY`, ...), or None if unknown."""

    def permission_set_reach(
        self, account: str, region: str, instance_arn: str, permission_set_arn: str
    ) -> PermissionSetReach | None:
        """An IAM Identity Center permission set's policies and how many principals and accounts it is assigned
        to, read in the managing `account` and `region`, or None (offline, or it cannot be read)."""

    def trusted_accounts(self, account: str) -> frozenset[str]:
        """Accounts a role of `account` may trust: the account itself, IAMBOT_TRUSTED_ACCOUNTS and, when AWS can
        list them, the organization's accounts."""

    def holds(self, memory: str) -> bool:
        """Whether `memory` keeps any fact now. When it keeps none, every `recall` of it answers None: a rule may
        return before building the keys it would look up."""

    def recall(self, memory: str, key: str, at: datetime) -> str | None:
        """The value of the latest fact `memory` keeps under `key` from within its retention before `at`, else None."""

    def count(self, memory: str, key: str, since: datetime, until: datetime) -> int:
        """How many facts (distinct events) `memory` keeps under `key` with event times in [since, until]; a memory
        that remembers before matching counts the record being evaluated too."""


MatchFn = Callable[[dict, RuleContext], Match | None]


@dataclass(frozen=True)
class Example:
    """A record a rule must (expect=True) or must not (expect=False) alert on, run by the rule test suite."""

    name: str
    record: dict
    expect: bool
    # Facts the test context answers with: {"policies": {arn: doc}, "groups": {name: [doc]},
    # "created_users": [name], "users": {name: [doc]}, "task_sessions": {access key id: {"by": arn, "task": arn}},
    # "inline": {"user/bob/policy-name": doc}, "organization": [account id], "org_policies": {policy id: type},
    # "refused": n, "refused_reads": n (what iam_writes_refused's two memories count)}.
    # "permission_sets": {arn: {"name", "documents" (by source), "managed" (ARNs), "principals", "accounts"}}}.
    context: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A detection rule: declared metadata, the events it reads, and its match function."""

    id: str
    severity: Severity
    title: str
    rationale: str
    response: str
    event_names: frozenset[str]  # CloudTrail eventName values the rule reads; empty with any_root_event
    event_sources: frozenset[str]  # eventSource values of those events (for the EventBridge pattern)
    match: MatchFn
    examples: tuple[Example, ...]
    any_root_event: bool = False  # reads every event made by the root user, whatever its name
    supersedes: tuple[str, ...] = ()  # rule ids whose alert for the same event this rule replaces
    dedup_minutes: int = 0  # >0: repeats with the same dedup key within this window fold into one alert
    remembers: tuple[Memory, ...] = ()  # state the rule keeps (read by any rule through RuleContext.recall/count)
    reports: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # {"CIS": (...), "MITRE ATT&CK": (...)}
    # False: the bot raises the rule's alert itself (e.g. a silent feed); no record matches it, it reads no events,
    # and its examples are records it must not alert on.
    reads_records: bool = True
    # eventName values the rule reads only when refused (`refused`): common calls (IAM List*/Get*) whose successes
    # no rule needs, so the replay prefilter, the hunt's SQL and the EventBridge pattern ask for their refusals
    # alone. Kept apart from `event_names`, which are read whatever their outcome.
    refused_event_names: frozenset[str] = frozenset()
    # Where the rule's events and technique are documented: AWS's pages for the events, peer rules (Sigma,
    # Elastic, Panther) catching the same. tests/detections/test_rule_metadata.py wants at least one.
    references: tuple[str, ...] = ()
    # What the rule remembers of the grants a remediation button took away, told by the button path (which names
    # no rule: detections.facts_of_undone asks every rule): (what was undone, the action's name, the alert's id,
    # when) -> the facts to store in the rule's own memories.
    learns_undone: Callable[[Iterable[Undone], str, int, datetime], list[Fact]] | None = None

    def reads(self, event_name: str, root: bool) -> bool:
        """Whether a record with this name (and root-ness) can match the rule at all."""
        return (
            event_name in self.event_names or event_name in self.refused_event_names or (self.any_root_event and root)
        )

    def reads_record(self, record: dict) -> bool:
        """Whether the rule reads this record: `reads` by its name and root-ness, and a name in
        `refused_event_names` (read by no other field) only when the call was refused."""
        name = str(record.get("eventName") or "")
        root = ct.is_root(record)
        if name in self.refused_event_names and name not in self.event_names and not (self.any_root_event and root):
            return refused(record)
        return self.reads(name, root)
