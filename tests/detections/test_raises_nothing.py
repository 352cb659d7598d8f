"""raises_nothing: a record judged without any context raises no alert and remembers nothing in any context."""

from __future__ import annotations

import pytest

from core.severity import Severity
from detections import all_rules
from detections import example_records as s
from detections.base import Match, Memory, Rule, RuleContext
from detections.engine import evaluate, raises_nothing
from detections.memory import MemoryBook
from tests.detections.test_rules import CASES, ExampleContext, _mangled


def rule(match, *, remembers: tuple[Memory, ...] = ()) -> Rule:
    return Rule(
        id="probe",
        severity=Severity.LOW,
        title="probe",
        rationale="",
        response="",
        event_names=frozenset({"CreateRole"}),
        event_sources=frozenset({"iam.amazonaws.com"}),
        match=match,
        examples=(),
        remembers=remembers,
    )


def role_created() -> dict:
    return s.iam_call("CreateRole", {"roleName": "ci"}, event_id="probe-1")


def quiet_sign_in() -> dict:
    return s.console_login(s.iam_user("alice", console=True, mfa=True), event_id="login-1", mfa=True)


def test_a_sign_in_with_mfa_raises_nothing_and_one_without_it_may():
    assert raises_nothing(quiet_sign_in())
    assert not raises_nothing(s.console_login(s.iam_user("alice", console=True), event_id="login-2"))
    assert not raises_nothing(s.console_login(s.root(mfa=True), event_id="login-3", mfa=True))  # root: alerts


def test_a_record_no_rule_reads_raises_nothing():
    assert raises_nothing(s.event("TagRole", "iam.amazonaws.com", event_id="tag-1"))
    assert raises_nothing({"eventName": 7})  # unusable records are the pipeline's to refuse, not the judge's


def test_a_rule_that_remembers_is_never_judged_without_its_context():
    remembering = rule(lambda record, ctx: None, remembers=(Memory("probe_roles", key=lambda r: "k"),))
    assert not raises_nothing(role_created(), (remembering,))
    assert raises_nothing(role_created(), (rule(lambda record, ctx: None),))
    assert not raises_nothing(s.iam_call("CreateUser", {"userName": "bob"}, event_id="cu-1"))  # user_created


def test_a_rule_that_asks_its_context_anything_is_left_to_the_pipeline_even_if_it_swallows_errors():
    asked: list[str] = []

    def cautious(record: dict, ctx: RuleContext) -> Match | None:
        try:
            ctx.trusted_accounts("111122223333")
        except Exception:  # a lookup that failed: the rule would go on as if nothing were known
            asked.append("swallowed")
        return None

    assert not raises_nothing(role_created(), (rule(cautious),))
    assert asked == []  # the question was not an Exception, so the rule could not take it for a failed lookup


def test_a_rule_that_matches_or_fails_is_left_to_the_pipeline():
    def broken(record: dict, ctx: RuleContext) -> Match | None:
        raise ValueError("a record this rule cannot read")

    assert not raises_nothing(role_created(), (rule(lambda record, ctx: Match()),))
    assert not raises_nothing(role_created(), (rule(broken),))
    assert not raises_nothing(role_created(), (rule(lambda record, ctx: None), rule(broken)))


def judged_records() -> list[tuple[dict, dict]]:
    """Every rule example, and each of its mangled variants, with the example's context facts."""
    return [(variant, ex.context) for _, ex in CASES for variant in [ex.record, *_mangled(ex.record)]]


def test_what_is_judged_quiet_raises_nothing_and_remembers_nothing_in_its_own_context():
    judged = 0
    for record, facts in judged_records():
        if not raises_nothing(record):
            continue
        judged += 1
        memory = MemoryBook(all_rules())
        assert evaluate(record, ExampleContext(facts), memory=memory) == [], record.get("eventID")
        assert memory.pending() == []
    assert judged >= 100  # not vacuous: many examples and variants are quiet


@pytest.mark.parametrize(("detection", "example"), [(r, ex) for r, ex in CASES if ex.expect])
def test_no_record_a_rule_alerts_on_is_judged_quiet(detection: Rule, example) -> None:
    assert not raises_nothing(example.record)
