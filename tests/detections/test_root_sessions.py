"""Root sign-in steps read from responseElements, and root task sessions (AssumeRoot) told from the root user."""

from __future__ import annotations

import json
from pathlib import Path

from detections import example_records as s
from detections.engine import evaluate
from ingest.context import PipelineContext
from storage import Store
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


def _task_call(key: str, minute: int, event_id: str) -> dict:
    return s.event(
        "DeleteBucketPolicy",
        "s3.amazonaws.com",
        event_id=event_id,
        actor=s.root_task_session(key),
        request={"bucketName": "payments-exports"},
        time=f"2024-05-14T09:{minute:02d}:00Z",
        recipientAccountId=s.MEMBER_ACCOUNT,
    )


def test_task_session_is_named_from_the_assume_root_for_the_sessions_lifetime_only(tmp_path: Path) -> None:
    context = PipelineContext(Store(tmp_path / "warden.db"))
    issued = s.assume_root("S3UnlockBucketPolicy", event_id="t-ar-1") | {"eventTime": "2024-05-14T09:00:00Z"}
    key = issued["responseElements"]["credentials"]["accessKeyId"]
    assert [a.rule for a in evaluate(issued, context, memory=context.memory)] == ["assume_root"]
    (during,) = evaluate(_task_call(key, 10, "t-ar-2"), context, memory=context.memory)
    assert during.title == "Root task session (S3UnlockBucketPolicy) called DeleteBucketPolicy"
    assert during.facts["Requested by"] == issued["userIdentity"]["arn"]
    assert during.facts["Task policy"] == s.ROOT_TASK + "S3UnlockBucketPolicy"
    (after,) = evaluate(_task_call(key, 45, "t-ar-3"), context, memory=context.memory)  # the key outlived 15 min
    assert after.title == "Root user called DeleteBucketPolicy" and "Requested by" not in after.facts


def test_refused_assume_root_names_no_session(tmp_path: Path) -> None:
    context = PipelineContext(Store(tmp_path / "warden.db"))
    refused = s.assume_root("S3UnlockBucketPolicy", event_id="t-ar-4", error="AccessDenied")
    assert evaluate(refused, context, memory=context.memory) == []
    assert context.memory.size("root_task_sessions") == 0
