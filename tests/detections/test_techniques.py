"""The technique map (detections/techniques.py): every rule it names exists, every technique is either caught with
records that show it or says why not, and a caught technique's records really raise exactly its rules offline,
through the replay prefilter and a fresh pipeline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from detections import all_rules, rule
from detections.techniques import TACTICS, TECHNIQUES, Technique, technique
from ingest.context import PipelineContext
from ingest.files import default_prefilter
from ingest.pipeline import Pipeline
from storage import Store
from tests.replaying import replay_alerts

CAUGHT = [t for t in TECHNIQUES if t.caught]
STRATUS_ID = re.compile(
    r"aws\.(persistence|privilege-escalation|credential-access|defense-evasion|execution)\.[a-z0-9-]+"
)


def test_every_rule_named_exists() -> None:
    named = {r for t in TECHNIQUES for r in t.rules}
    assert named and named <= {r.id for r in all_rules()}
    for rule_id in named:
        assert rule(rule_id).id == rule_id


def test_techniques_are_stratus_ids_of_the_four_tactics_each_once() -> None:
    ids = [t.id for t in TECHNIQUES]
    assert len(ids) == len(set(ids))
    for t in TECHNIQUES:
        assert STRATUS_ID.fullmatch(t.id), t.id
        assert t.name and t.tactics and set(t.tactics) <= set(TACTICS), t.id
        assert t.url.endswith(f"/docs/attack-techniques/AWS/{t.id}.md")
    assert {tactic for t in TECHNIQUES for tactic in t.tactics} == set(TACTICS)
    assert technique("aws.persistence.iam-create-admin-user").caught
    with pytest.raises(KeyError):
        technique("aws.persistence.no-such-technique")


@pytest.mark.parametrize("t", TECHNIQUES, ids=lambda t: t.id)
def test_a_technique_is_caught_with_records_or_says_why_not(t: Technique) -> None:
    if t.caught:
        assert t.records and not t.not_caught
        assert len(set(t.rules)) == len(t.rules)
    else:
        assert not t.records and not t.rules
        assert len(t.not_caught) > 20  # a reason, not a placeholder


@pytest.mark.parametrize("t", CAUGHT, ids=lambda t: t.id)
def test_a_caught_techniques_records_raise_exactly_its_rules_offline(t: Technique) -> None:
    for record in t.records:
        assert default_prefilter().could_match(json.dumps(record, separators=(",", ":"))), record["eventName"]
    store = Store(":memory:")
    try:
        Pipeline(store, PipelineContext(store)).process([json.loads(json.dumps(r)) for r in t.records], "stratus")
        assert {a.rule for a in store.alerts()} == set(t.rules)
    finally:
        store.close()


def test_record_event_ids_are_unique_and_not_the_rules_examples() -> None:
    ids = [r["eventID"] for t in TECHNIQUES for r in t.records]
    assert len(ids) == len(set(ids))
    examples = {ex.record["eventID"] for r in all_rules() for ex in r.examples}
    assert not set(ids) & examples


def test_some_techniques_are_not_caught_and_most_identity_ones_are() -> None:
    """The map is honest both ways: it names what is missed, and the identity techniques are caught."""
    assert [t for t in TECHNIQUES if not t.caught]
    identity = [t for t in TECHNIQUES if ".iam-" in t.id or "federation" in t.id or "cloudtrail-" in t.id]
    assert [t.id for t in identity if not t.caught] == ["aws.defense-evasion.cloudtrail-lifecycle-rule"]


def test_bot_replay_of_every_caught_detonation_raises_each_techniques_rules(tmp_path: Path) -> None:
    records = [r for t in CAUGHT for r in t.records]
    alerts, _ = replay_alerts(tmp_path / "111122223333_CloudTrail_us-east-1_20240514T0900Z_s.json", records)
    raised: dict[str, set[str]] = {}
    for alert in alerts:
        raised.setdefault(alert["event_id"], set()).add(alert["rule"])
    for t in CAUGHT:
        assert set().union(*(raised.get(r["eventID"], set()) for r in t.records)) == set(t.rules), t.id
