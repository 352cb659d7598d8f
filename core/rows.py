"""The typed rows the store returns: one frozen dataclass per table, field names as the columns are named, states as
the enums of core/states.py, times as aware datetimes and JSON columns decoded; and what else crosses the store's
edge typed: the facts it is given to remember (Fact) and its health counts (AlertCounts)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

from core.rule_mutes import MuteScope
from core.severity import Severity, by_severity
from core.states import ActionState, AlertStatus, FindingState, PostState
from core.times import from_store

Row = TypeVar("Row")


def _time(text: str) -> datetime:
    return from_store(text)


def _json(text: str) -> Any:
    return json.loads(text)


def _build(cls: type[Row], row: Mapping[str, Any], **convert: Callable[[Any], Any]) -> Row:
    """`cls` from a row of its table: each field from its column, converted by `convert` if it has a converter;
    a NULL column leaves the field's default."""
    values = {}
    for name in (f.name for f in fields(cls)):  # type: ignore[arg-type]
        value = row.get(name)
        if value is not None:
            values[name] = convert[name](value) if name in convert else value
    return cls(**values)


@dataclass(frozen=True)
class EventRow:
    """A processed CloudTrail event (event_time is CloudTrail's own text). Columns a database from before a
    migration left empty are None."""

    event_id: str
    event_name: str | None = None
    event_time: str | None = None
    stored_at: datetime | None = None
    account: str | None = None
    source: str | None = None
    actor: str | None = None
    error_code: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EventRow:
        """From an events row."""
        return _build(cls, row, stored_at=_time)


@dataclass(frozen=True)
class AlertCounts:
    """The store's health counts (`/iam status`, /healthz): open alerts (those a rule mute kept out of Slack aside),
    acknowledged ones, alerts not yet posted, and dead letters kept."""

    open: int
    acknowledged: int
    unposted: int
    dead_letters: int


@dataclass(frozen=True)
class Fact:
    """One remembered event, as a rule's memory files it (detections/memory.py) and the store is given it; stored,
    it comes back as a MemoryRow."""

    rule: str
    memory: str
    key: str
    event_id: str
    value: str
    at: datetime


@dataclass(frozen=True)
class MemoryRow:
    """One remembered event of a rule's declared memory; `seq` only grows."""

    seq: int
    memory: str
    key: str
    event_id: str
    at: datetime
    rule: str | None = None
    value: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> MemoryRow:
        """From a rule_memory row."""
        return _build(cls, row, at=_time)


@dataclass(frozen=True)
class AlertRow:
    """A stored alert: what the rule produced, whether a human took it, and where its post to Slack stands. The bot
    writes every column up to `target`; they are optional only because the schema lets an older row lack them."""

    id: int
    rule: str | None = None
    severity: Severity | None = None
    title: str | None = None
    event_id: str | None = None
    event_name: str | None = None
    event_source: str | None = None
    event_time: str | None = None  # ISO 8601 as CloudTrail wrote it
    account: str | None = None
    region: str | None = None
    actor_arn: str | None = None
    actor_type: str | None = None
    created_at: datetime | None = None
    actor_key_id: str | None = None
    actor_user: str | None = None
    mfa: bool | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    target: str | None = None
    facts: dict[str, str] = field(default_factory=dict)
    remediation: dict[str, str] = field(default_factory=dict)
    dedup_key: str = ""
    thread_key: str = ""
    occurrences: int = 1
    status: AlertStatus = AlertStatus.OPEN
    acked_by: str | None = None
    acked_at: datetime | None = None
    post_state: PostState = PostState.PENDING
    post_attempts: int = 0
    post_error: str | None = None
    sending_since: datetime | None = None
    channel: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    posted_at: datetime | None = None
    mute_id: int | None = None  # the rule mute that kept it out of Slack (post_state muted)
    incident_id: int | None = None  # the incident whose thread it was posted in (storage/incidents.py)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AlertRow:
        """From an alerts row (facts and remediation are JSON, mfa 0/1)."""
        return _build(
            cls,
            row,
            facts=_json,
            remediation=_json,
            severity=Severity,
            mfa=bool,
            status=AlertStatus,
            post_state=PostState,
            acked_at=_time,
            created_at=_time,
            sending_since=_time,
            posted_at=_time,
        )


@dataclass(frozen=True)
class IncidentRow:
    """Linked alerts within the thread window (by one actor or about one principal: core/incident_links.py), shown
    as one parent message (`ts`) with each alert in its thread; `key` is its first alert's thread key, `severity`
    the highest of its alerts, `events` how many it holds, `root_alert_id` the first of them (the parent is that
    alert's message)."""

    id: int
    key: str
    root_alert_id: int
    severity: Severity
    events: int = 1
    channel: str | None = None
    ts: str | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> IncidentRow:
        """From an incidents row."""
        return _build(cls, row, severity=Severity, first_seen=_time, last_seen=_time)


@dataclass(frozen=True)
class ActionRow:
    """One click's action on an alert: its claim, approval and outcome."""

    id: int
    alert_id: int
    action: str  # a core.actions.ActionId
    state: ActionState
    requested_by: str
    created_at: datetime
    approved_by: str | None = None
    detail: str | None = None
    aws_request_id: str | None = None
    finished_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ActionRow:
        """From an actions row."""
        return _build(cls, row, state=ActionState, created_at=_time, finished_at=_time)


@dataclass(frozen=True)
class DeadLetterRow:
    """A message that could not be read, kept with the reason."""

    id: int
    source: str
    reason: str
    body: str
    received_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DeadLetterRow:
        """From a dead_letters row."""
        return _build(cls, row, received_at=_time)


@dataclass(frozen=True)
class FindingRow:
    """A failing check result kept across audits: open until an audit that ran its check no longer sees it."""

    id: int
    check_id: str
    account: str
    resource: str
    severity: Severity
    title: str
    detail: str
    status: FindingState
    first_seen: datetime
    last_seen: datetime
    first_audit: int
    last_audit: int
    resolved_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FindingRow:
        """From a findings row."""
        return _build(
            cls,
            row,
            severity=Severity,
            status=FindingState,
            first_seen=_time,
            last_seen=_time,
            resolved_at=_time,
        )


@dataclass(frozen=True)
class MuteRow:
    """A mute of one check for one resource (an ARN, `account`, or `tag:Key=Value`) until it expires or is lifted."""

    id: int
    check_id: str
    account: str
    resource: str
    reason: str
    muted_by: str
    created_at: datetime
    expires_at: datetime
    removed_at: datetime | None = None
    removed_by: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> MuteRow:
        """From a mutes row."""
        return _build(cls, row, created_at=_time, expires_at=_time, removed_at=_time)


@dataclass(frozen=True)
class RuleMuteRow:
    """A detection rule muted for an actor, a target or an account (`value`: an exact ARN or id, or a pattern with
    `*`; `account`, when set, narrows it to one account) until it expires or is lifted. `alert_id`: the alert its
    Mute similar button was pressed on."""

    id: int
    rule: str
    scope: MuteScope
    value: str
    reason: str
    muted_by: str
    created_at: datetime
    expires_at: datetime
    account: str | None = None
    alert_id: int | None = None
    removed_at: datetime | None = None
    removed_by: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RuleMuteRow:
        """From a rule_mutes row."""
        return _build(cls, row, scope=MuteScope, created_at=_time, expires_at=_time, removed_at=_time)


@dataclass(frozen=True)
class AuditRow:
    """One audit run: who started it, the accounts, and (once finished) its errors, open counts and diff sizes."""

    id: int
    trigger: str
    started_at: datetime
    accounts: list[str]
    requested_by: str | None = None
    finished_at: datetime | None = None
    errors: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # its failing results per severity, critical first
    new: int | None = None
    resolved: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditRow:
        """From an audits row (accounts, errors and counts are JSON)."""
        return _build(
            cls,
            row,
            started_at=_time,
            finished_at=_time,
            accounts=_json,
            errors=_json,
            counts=lambda text: by_severity(_json(text)),
        )


@dataclass(frozen=True)
class FindingChanges:
    """What an audit (or a period) changed: findings new and resolved, and (for one audit) those seen open again."""

    new: list[FindingRow] = field(default_factory=list)
    resolved: list[FindingRow] = field(default_factory=list)
    open: list[FindingRow] = field(default_factory=list)


@dataclass(frozen=True)
class CheckFindings:
    """How many open findings one audit check has (App Home lists them by check), with its severity and title."""

    check_id: str
    severity: Severity
    title: str
    count: int
