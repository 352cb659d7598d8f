"""Run the registered rules over one CloudTrail record and turn matches into alerts."""

from __future__ import annotations

from core import cloudtrail as ct
from core.alert import Alert
from detections import all_rules
from detections.base import Match, Rule, RuleContext
from detections.memory import MemoryBook


def evaluate(
    record: dict, ctx: RuleContext, rules: tuple[Rule, ...] | None = None, memory: MemoryBook | None = None
) -> list[Alert]:
    """Every alert the rules raise for `record`, after superseded ones are dropped.

    With `memory`, the record is remembered as the rules that read it declare (`Rule.remembers`).
    """
    name = str(record.get("eventName") or "")
    root = ct.is_root(record)
    hits: list[tuple[Rule, Match]] = []
    readers = [r for r in rules if r.reads(name, root)] if rules is not None else _registered_readers(name, root)
    for rule in readers:
        if memory is not None and rule.remembers:
            memory.note(rule, record, matched=False)
        found = rule.match(record, ctx)
        if found is not None:
            hits.append((rule, found))
    if not hits:
        return []
    superseded = {sid for rule, _ in hits for sid in rule.supersedes}
    raised = [(rule, found) for rule, found in hits if rule.id not in superseded]
    if memory is not None:
        for rule, _ in raised:
            if rule.remembers:
                memory.note(rule, record, matched=True)
    return [build_alert(rule, found, record) for rule, found in raised]


class _Asked(BaseException):
    """A rule asked its context something (raised by _NoContext). A BaseException, so that no rule's own
    `except Exception` can take it for a failed lookup."""


class _NoContext:
    """A RuleContext that answers nothing: any question raises _Asked."""

    def __getattr__(self, name: str) -> None:
        raise _Asked(name)


_NO_CONTEXT = _NoContext()


def raises_nothing(record: dict, rules: tuple[Rule, ...] | None = None) -> bool:
    """Whether `evaluate(record, ctx, rules, memory)` returns no alert and remembers nothing whatever `ctx` and
    `memory` hold: no rule reading the record declares a memory, and each returns None without asking its context
    anything (rules are functions of the record and their context alone).

    False when some rule would ask, match, or raise: the record is then evaluated as usual. A reader process uses
    this to spare the pipeline the records it need only store.
    """
    name = str(record.get("eventName") or "")
    root = ct.is_root(record)
    readers = [r for r in rules if r.reads(name, root)] if rules is not None else _registered_readers(name, root)
    for rule in readers:
        if rule.remembers:
            return False
        try:
            if rule.match(record, _NO_CONTEXT) is not None:  # type: ignore[arg-type]
                return False
        except BaseException:  # _Asked, or what the rule raises: the pipeline meets it as it always does
            return False
    return True


_READERS: dict[tuple[str, bool], tuple[Rule, ...]] = {}
_READERS_KEPT = 4096  # names come from the input: keep the index bounded


def _registered_readers(name: str, root: bool) -> tuple[Rule, ...]:
    """The registered rules that read records of this name and root-ness, in registry order (looked up once)."""
    found = _READERS.get((name, root))
    if found is None:
        found = tuple(r for r in all_rules() if r.reads(name, root))
        if len(_READERS) < _READERS_KEPT:
            _READERS[(name, root)] = found
    return found


def build_alert(rule: Rule, found: Match, record: dict) -> Alert:
    """The alert for one rule match: the record's who/where/when plus the rule's what."""
    ident = ct.identity(record)
    account = ct.account_id(record)
    actor = ct.actor_arn(record)
    event_id = str(record.get("eventID") or "")
    source_ip = record.get("sourceIPAddress")
    dedup_key = f"{rule.id}:{event_id}"
    if rule.dedup_minutes:
        dedup_key = f"{rule.id}:{account}:{actor}:{source_ip}"
    return Alert(
        rule=rule.id,
        severity=found.severity or rule.severity,
        title=found.title or rule.title,
        event_id=event_id,
        event_name=str(record.get("eventName") or ""),
        event_source=str(record.get("eventSource") or ""),
        event_time=str(record.get("eventTime") or ""),
        account=account,
        region=str(record.get("awsRegion") or ""),
        actor_arn=actor,
        actor_type=str(ident.get("type") or "unknown"),
        actor_key_id=ct.actor_key_id(record),
        actor_user=ct.actor_user_name(record),
        mfa=ct.mfa_used(record),
        source_ip=str(source_ip) if source_ip else None,
        user_agent=str(record["userAgent"]) if record.get("userAgent") else None,
        target=found.target,
        facts=dict(found.facts),
        remediation=found.remediation.as_dict() if found.remediation else {},
        dedup_key=dedup_key,
        thread_key=f"{account}:{actor}",
    )
