"""Root sign-in steps read from responseElements, and root task sessions (AssumeRoot) told from the root user."""

from __future__ import annotations

import json

from detections import samples as s
from detections.engine import evaluate
from tests.detections.test_rules import ExampleContext, fired


def _failed_step(name: str, event_id: str) -> dict:
    return s.sign_in_step(s.root(console=False), name, event_id=event_id, success=False, error_message="Failed")


def test_failed_root_sign_in_steps_are_failures_never_activity_or_success() -> None:
    for n, name in enumerate(("ExternalIdPDirectoryLogin", "PasswordUpdated", "CheckMfa")):
        alerts = evaluate(_failed_step(name, f"t-step-{n}"), ExampleContext())
        assert [a.rule for a in alerts] == ["root_login_failed"], name
        (alert,) = alerts
        assert alert.title == f"Failed root sign-in step: {name}"
        assert alert.facts["Result"] == "failed"
        assert "succeeded" not in json.dumps(alert.facts)


def test_failed_step_without_error_message_still_fails() -> None:
    record = s.sign_in_step(s.root(console=False), "PasswordUpdated", event_id="t-step-9", success=False)
    assert set(fired(record)) == {"root_login_failed"}


def test_successful_sign_in_step_is_activity_that_says_so() -> None:
    record = s.sign_in_step(s.root(console=False), "PasswordUpdated", event_id="t-step-10", success=True)
    alert = fired(record)["root_activity"]
    assert alert.title == "Root user completed sign-in step PasswordUpdated"
    assert alert.facts["Result"] == "succeeded"


def test_sign_in_step_without_outcome_is_not_called_a_success() -> None:
    record = s.sign_in_step(s.root(console=False), "PasswordUpdated", event_id="t-step-11", success=True)
    record["responseElements"] = None
    assert fired(record)["root_activity"].facts["Result"] == "not recorded"
