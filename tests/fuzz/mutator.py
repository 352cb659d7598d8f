"""A seeded mutator of real CloudTrail records (the rules' examples), for tests/fuzz and bench/fuzz.py.

Each input is one line of text as an attacker could make CloudTrail (or a forged message) carry it: a rule's
example record, perhaps in an EventBridge, SNS or `{"Records": [...]}` envelope, with one to three mutations:
lone surrogates, huge numbers, NaN/Infinity, type swaps, removed keys, very long strings, duplicate keys,
deep nesting, truncation and random bytes. Valid canary records (positive examples under fresh eventIDs) are
mixed in; each must still raise its alert.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from detections import all_rules
from detections.engine import evaluate
from ingest.context import PipelineContext
from storage import Store

SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")
HUGE_NUMBERS = (10**30, -(10**30), 2**63, 2**64 + 1, 10**400)
DEEP = (5_000, 60_000)  # nesting depths far past the interpreter's recursion limit, read or not
ENVELOPES = ("bare",) * 5 + ("eventbridge",) * 3 + ("sns",) + ("records",)


@dataclass(frozen=True)
class Input:
    """One fuzz input: its text, and for a canary its eventID and the rules it must raise."""

    text: str
    canary_id: str | None = None
    rules: frozenset[str] = field(default_factory=frozenset)
    mutations: tuple[str, ...] = ()


def seeds() -> list[dict]:
    """Every rule example's record (positive and negative): real CloudTrail shapes to mutate."""
    return [copy.deepcopy(example.record) for rule in all_rules() for example in rule.examples]


def canary_templates() -> list[tuple[dict, frozenset[str]]]:
    """Positive examples that alert offline on their own, with the rules they raise.

    Rules that fold repeats into one alert (a dedup window) are left out: a second canary would be folded.
    """
    folding = {rule.id for rule in all_rules() if rule.dedup_minutes}
    out: list[tuple[dict, frozenset[str]]] = []
    for rule in all_rules():
        for example in rule.examples:
            if not example.expect or example.context:
                continue
            store = Store(":memory:")
            fired = frozenset(a.rule for a in evaluate(example.record, PipelineContext(store)))
            store.close()
            if fired and not fired & folding:
                out.append((copy.deepcopy(example.record), fired))
    return out


def superseders() -> dict[str, set[str]]:
    """For each rule id, the rules whose alert may replace it for the same event."""
    out: dict[str, set[str]] = {}
    for rule in all_rules():
        for replaced in rule.supersedes:
            out.setdefault(replaced, set()).add(rule.id)
    return out


def envelope(record: object, kind: str) -> object:
    """`record` as an SQS message or replay line may carry it."""
    if kind == "bare":
        return record
    if kind == "records":
        return {"Records": [record]}
    detail = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "account": "111122223333",
        "time": "2024-05-14T09:12:45Z",
        "region": "us-east-1",
        "resources": [],
        "detail": record,
    }
    if kind == "eventbridge":
        return detail
    return {"Type": "Notification", "MessageId": "22b80b92", "Message": json.dumps(detail)}


class Mutator:
    """Makes fuzz inputs from a seed; the same seed gives the same inputs."""

    def __init__(self, seed: int, *, max_length: int = 200_000) -> None:
        self.rng = random.Random(seed)
        self.seeds = seeds()
        self.canaries = canary_templates()
        self.max_length = max_length
        self.value_mutations: dict[str, Callable[[object], object]] = {
            "surrogate": self._surrogate,
            "huge_number": lambda _: self.rng.choice(HUGE_NUMBERS),
            "nan": lambda _: self.rng.choice((float("nan"), float("inf"), float("-inf"))),
            "type_swap": self._type_swap,
            "long_string": lambda _: "A" * self.rng.randrange(10_000, 50_000),
        }
        self.text_mutations: dict[str, Callable[[str], str]] = {
            "truncate": lambda t: t[: self.rng.randrange(1, max(2, len(t)))],
            "random_bytes": self._random_chars,
            "deep_nesting": self._deep,
            "duplicate_key": self._duplicate_key,
            "huge_literal": lambda t: t.replace('"eventVersion":"1.09"', '"eventVersion":' + "9" * 5000, 1),
        }

    # -- inputs ---------------------------------------------------------------------------------------------

    def mutated(self) -> Input:
        """One mutated input (it may or may not still be readable)."""
        record = copy.deepcopy(self.rng.choice(self.seeds))
        names: list[str] = []
        for _ in range(self.rng.randint(1, 3)):
            if self.rng.random() < 0.6:
                name = self.rng.choice([*self.value_mutations, "remove_key"])
                record = self._at_random_place(record, name)
            else:
                name = "text"
            names.append(name)
        kind = self.rng.choice(ENVELOPES)
        text = json.dumps(envelope(record, kind), separators=(",", ":"), ensure_ascii=self.rng.random() < 0.8)
        for i, name in enumerate(names):
            if name == "text":
                name = self.rng.choice(list(self.text_mutations))
                names[i] = name
                text = self.text_mutations[name](text)
        text = text.replace("\n", " ").replace("\r", " ")  # one input is one line
        return Input(text[: self.max_length], mutations=tuple(names))

    def canary(self) -> Input:
        """A valid record that must raise its alert(s), under a fresh eventID."""
        template, rules = self.rng.choice(self.canaries)
        record = copy.deepcopy(template)
        record["eventID"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        kind = self.rng.choice(ENVELOPES)
        return Input(json.dumps(envelope(record, kind), separators=(",", ":")), record["eventID"], rules)

    def inputs(self, count: int, canary_every: int = 20) -> list[Input]:
        """`count` inputs, one in `canary_every` a canary."""
        return [self.canary() if i % canary_every == canary_every - 1 else self.mutated() for i in range(count)]

    # -- mutations ------------------------------------------------------------------------------------------

    def _at_random_place(self, value: object, name: str) -> object:
        """`value` with one randomly chosen node (the root included) mutated in place or replaced."""
        if not isinstance(value, dict | list) or not value or self.rng.random() < 0.15:
            if name == "remove_key":
                return value
            return self.value_mutations[name](value)
        keys = list(value) if isinstance(value, dict) else list(range(len(value)))
        key = self.rng.choice(keys)
        if name == "remove_key" and isinstance(value, dict) and self.rng.random() < 0.5:
            del value[key]
        elif name == "surrogate" and isinstance(value, dict) and self.rng.random() < 0.2:
            value[self._surrogate(str(key))] = value.pop(key)  # a surrogate in a key
        else:
            value[key] = self._at_random_place(value[key], name)  # type: ignore[index]
        return value

    def _surrogate(self, value: object) -> str:
        text = value if isinstance(value, str) else str(value)
        at = self.rng.randrange(len(text) + 1)
        return text[:at] + self.rng.choice(SURROGATES) + text[at:]

    def _type_swap(self, value: object) -> object:
        swaps: list[object] = [None, str(value)[:100], [value], {"value": value}, 0, True, ""]
        return self.rng.choice(swaps)

    def _random_chars(self, text: str) -> str:
        at = self.rng.randrange(len(text) + 1)
        noise = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 16)))
        return text[:at] + noise.decode("latin-1") + text[at:]

    def _deep(self, text: str) -> str:
        depth = self.rng.choice(DEEP)
        nest = "[" * depth + "]" * depth if self.rng.random() < 0.5 else '{"a":' * depth + "1" + "}" * depth
        at = text.find('"requestParameters":')
        if at < 0:
            return nest
        at += len('"requestParameters":')
        return text[:at] + nest + "," + '"x":' + text[at:]

    def _duplicate_key(self, text: str) -> str:
        key = self.rng.choice(['"eventName":"CreateUser",', '"eventID":"dup",', '"userIdentity":null,'])
        at = text.find("{")
        return text if at < 0 else text[: at + 1] + key + text[at + 1 :]
