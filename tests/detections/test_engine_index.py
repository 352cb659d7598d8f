"""evaluate's index of the registered rules by event name and root-ness gives what asking every rule gives."""

from __future__ import annotations

import pytest

from detections import all_rules, event_names
from detections import engine as eng
from detections import example_records as s

NAMES = [*sorted(event_names()), "GetObject", ""]


@pytest.mark.parametrize("root", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_index_lists_the_rules_that_read_in_registry_order(name, root):
    assert eng._registered_readers(name, root) == tuple(r for r in all_rules() if r.reads(name, root))


def test_every_example_raises_the_same_alerts_with_and_without_the_index():
    from tests.detections.test_rules import ExampleContext

    for rule in all_rules():
        for example in rule.examples:
            ctx = ExampleContext(example.context)
            indexed = eng.evaluate(example.record, ctx)
            asked = eng.evaluate(example.record, ExampleContext(example.context), rules=all_rules())
            assert [(a.rule, a.title, a.dedup_key) for a in indexed] == [(a.rule, a.title, a.dedup_key) for a in asked]


def test_the_index_stays_bounded_whatever_names_the_input_holds(monkeypatch):
    monkeypatch.setattr(eng, "_READERS", {})
    monkeypatch.setattr(eng, "_READERS_KEPT", 10)
    for n in range(50):
        record = s.event(f"Made{n}Up", "iam.amazonaws.com", event_id=f"e{n}", read_only=True)
        assert eng.evaluate(record, None) == []  # type: ignore[arg-type]
    assert len(eng._READERS) == 10
