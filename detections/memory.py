"""The engine's memory: the facts rules declare (`Rule.remembers`), kept bounded and handed out for storage.

Facts are filed per memory and key, one per event id, so a redelivered event is never counted twice. Time is
event time: a memory forgets what is older than its retention plus LATE before the newest event it has seen (so a
record delivered up to LATE out of order still finds what preceded it), and keeps at most its `limit` facts (the
oldest go first), so replaying an old archive behaves as the live feed did. Windows are exact either way: recall
and count look only at facts within the rule's window of the record's own time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core import cloudtrail as ct
from core.rows import Fact
from core.times import utc
from detections.base import Memory, Rule

if TYPE_CHECKING:
    from core.rows import AlertRow, EventRow

LATE = timedelta(days=1)  # how far out of order a record may arrive and still see the facts before it


class MemoryBook:
    """Every rule's declared memories, in memory; `pending()` hands out the facts not yet stored."""

    def __init__(self, rules: Iterable[Rule], default_minutes: int = 60, late: timedelta = LATE) -> None:
        self._rules = tuple(rules)
        self._specs: dict[str, tuple[str, Memory]] = {}
        self._by_rule: dict[str, tuple[Memory, ...]] = {}
        # The rule's memories noted before its match and after it (note's `matched`), split once: every record a
        # remembering rule reads is noted.
        self._noted: dict[tuple[str, bool], tuple[Memory, ...]] = {}
        for rule in self._rules:
            for spec in rule.remembers:
                if spec.name in self._specs:
                    raise ValueError(f"memory {spec.name!r} declared by {self._specs[spec.name][0]} and {rule.id}")
                self._specs[spec.name] = (rule.id, spec)
            if rule.remembers:
                self._by_rule[rule.id] = rule.remembers
                for matched in (False, True):
                    self._noted[rule.id, matched] = tuple(m for m in rule.remembers if m.on_match is matched)
        self._retention = {
            name: timedelta(minutes=spec.minutes if spec.minutes is not None else default_minutes)
            for name, (_, spec) in self._specs.items()
        }
        self._keep = {name: retention + late for name, retention in self._retention.items()}
        self._facts: dict[str, dict[str, dict[str, Fact]]] = {name: {} for name in self._specs}
        self._order: dict[str, deque[Fact]] = {name: deque() for name in self._specs}
        self._newest: dict[str, datetime] = {}
        self._pending: list[Fact] = []

    @property
    def names(self) -> frozenset[str]:
        """The declared memories' names."""
        return frozenset(self._specs)

    def retention(self, memory: str) -> timedelta:
        """How long (event time) `memory` keeps a fact (KeyError for an undeclared memory)."""
        return self._retention[memory]

    def note(self, rule: Rule, record: dict, matched: bool) -> None:
        """Remember `record` in those of the rule's memories that want it: before matching (`matched` False) the
        memories without `on_match`, after its alert was raised (`matched` True) those with it."""
        for spec in self._noted.get((rule.id, matched), ()):
            key = spec.key(record)
            if key is None:  # most records a rule reads are nothing its memory keeps
                continue
            at = ct.event_time(record)
            event_id = record.get("eventID")
            if at is None or not isinstance(event_id, str):
                continue
            value = spec.value(record) if spec.value else event_id
            fact = Fact(rule.id, spec.name, key, event_id, value, at)
            if self._add(fact):
                self._pending.append(fact)

    def longest(self) -> timedelta:
        """The longest retention of the memories a rebuild can fill (zero when none): how far back it reads."""
        return max(
            (
                self._retention[name]
                for name, (_, spec) in self._specs.items()
                if (spec.from_alert if spec.on_match else spec.from_events)
            ),
            default=timedelta(0),
        )

    def rebuild(self, events: Iterable[EventRow], alerts: Iterable[AlertRow]) -> None:
        """Remember what stored rows from before the memory table say (see Memory); the facts become pending.

        `events` are the store's event rows, `alerts` its alert rows, both oldest first.
        """
        before = [rule for rule in self._rules if any(not m.on_match for m in rule.remembers)]
        for row in events:
            record = {
                "eventID": row.event_id,
                "eventName": row.event_name,
                "eventTime": row.event_time,
                "recipientAccountId": row.account or "",
                "userIdentity": {"arn": row.actor} if row.actor else {},
                "errorCode": row.error_code or None,
            }
            for rule in before:
                if rule.reads(record["eventName"], root=False):
                    self.note(rule, record, matched=False)
        for row in alerts:
            for spec in self._by_rule.get(row.rule, ()):
                at = utc(row.event_time)
                key = spec.from_alert(row) if spec.on_match and spec.from_alert else None
                if key is not None and at is not None and row.event_id:
                    fact = Fact(row.rule, spec.name, key, row.event_id, row.event_id, at)
                    if self._add(fact):
                        self._pending.append(fact)

    def alert_rules(self) -> frozenset[str]:
        """The rules whose memories can be rebuilt from their stored alerts."""
        return frozenset(r for r, specs in self._by_rule.items() if any(s.on_match and s.from_alert for s in specs))

    def load(self, facts: Iterable[Fact]) -> None:
        """Take in stored facts (at start-up, or stored since by another instance); those of memories no rule
        declares any more are ignored, those already filed are filed once."""
        for fact in sorted(facts, key=lambda f: f.at):
            if fact.memory in self._specs:
                self._add(fact)

    def pending(self) -> list[Fact]:
        """The facts remembered since the last call, to be stored with their batch (and forgotten here)."""
        out, self._pending = self._pending, []
        return [f for f in out if self._facts[f.memory].get(f.key, {}).get(f.event_id) is f]  # not yet evicted

    def discard(self, facts: Iterable[Fact]) -> None:
        """Forget facts whose batch could not be stored, so the redelivered batch starts from the same state."""
        for fact in facts:
            kept = self._facts.get(fact.memory, {}).get(fact.key)
            if kept is not None and kept.get(fact.event_id) is fact:
                del kept[fact.event_id]
                if not kept:
                    del self._facts[fact.memory][fact.key]

    def horizons(self) -> dict[str, datetime]:
        """Per memory, the event time before which nothing is kept any more (for pruning the stored copy)."""
        return {name: newest - self._keep[name] for name, newest in self._newest.items()}

    def holds(self, memory: str) -> bool:
        """See RuleContext.holds."""
        return bool(self._facts[memory])

    def recall(self, memory: str, key: str, at: datetime) -> str | None:
        """See RuleContext.recall."""
        kept = self._facts[memory].get(key)
        if not kept:  # what most lookups find: nothing filed under the key
            return None
        since = at - self._retention[memory]
        hits = [f for f in kept.values() if f.at >= since]
        return max(hits, key=lambda f: f.at).value if hits else None

    def count(self, memory: str, key: str, since: datetime, until: datetime) -> int:
        """See RuleContext.count."""
        return sum(1 for f in self._facts[memory].get(key, {}).values() if since <= f.at <= until)

    def size(self, memory: str) -> int:
        """How many facts `memory` holds now."""
        return sum(len(kept) for kept in self._facts[memory].values())

    def _add(self, fact: Fact) -> bool:
        """File a fact; False when that event is already filed under that key (a redelivery) or is too old."""
        newest = self._newest.get(fact.memory)
        if newest is not None and fact.at < newest - self._keep[fact.memory]:
            return False  # later than LATE: no window that matters can hold it
        keyed = self._facts[fact.memory].setdefault(fact.key, {})
        if fact.event_id in keyed:
            return False
        keyed[fact.event_id] = fact
        order = self._order[fact.memory]
        order.append(fact)
        if newest is None or fact.at > newest:
            self._newest[fact.memory] = newest = fact.at
        horizon = newest - self._keep[fact.memory]
        limit = self._specs[fact.memory][1].limit
        # Arrival order is nearly time order (batches are sorted), so the left end holds the oldest facts.
        while order and (order[0].at < horizon or len(order) > limit):
            self._forget(order.popleft())
        return True

    def _forget(self, fact: Fact) -> None:
        keyed = self._facts[fact.memory].get(fact.key)
        if keyed is not None and keyed.get(fact.event_id) is fact:
            del keyed[fact.event_id]
            if not keyed:
                del self._facts[fact.memory][fact.key]
