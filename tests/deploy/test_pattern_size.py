"""Every EventBridge pattern the templates ship fits EventBridge's default event-pattern quota (2048 characters;
4096 only after a quota increase), so a growing rule registry cannot make the stack fail to deploy."""

from __future__ import annotations

import json

import pytest

from tests.deploy.test_deploy import EVENTS_TEMPLATE, load_template, rules_of
from tests.deploy.test_org_stackset import member_template

DEFAULT_PATTERN_QUOTA = 2048


@pytest.mark.parametrize("template", ["single account", "StackSet member"])
def test_event_patterns_fit_the_default_quota(template: str) -> None:
    loaded = load_template(EVENTS_TEMPLATE) if template == "single account" else member_template()
    sizes = {
        rule_id: len(json.dumps(rule["Properties"]["EventPattern"], separators=(",", ":")))
        for rule_id, rule in rules_of(loaded).items()
    }
    assert sizes and all(size <= DEFAULT_PATTERN_QUOTA for size in sizes.values()), sizes
    # All four pattern rules are measured, the refused-reads one (matched by prefix, so it stays small) too.
    prefix = "" if template == "single account" else "Forward"
    shipped = ("IamEventsRule", "IdentityCenterEventsRule", "RootActivityRule", "RefusedIamReadsRule")
    assert {f"{prefix}{r}" for r in shipped} == set(sizes)
