"""What the key, MFA, federation and console-login rules put in their alerts beyond firing."""

from __future__ import annotations

from detections import samples as s
from tests.detections.test_rules import fired


def test_quarantine_names_the_exposed_key_and_offers_disabling_it() -> None:
    exposed = s.iam_user("ci-deployer")
    record = s.iam_call(
        "AttachUserPolicy",
        {"userName": "ci-deployer", "policyArn": s.QUARANTINE_V3},
        event_id="t-q-1",
        actor=exposed,
        user_agent="AWS Internal",
    )
    alert = fired(record)["key_quarantined"]
    assert alert.facts["Exposed key"] == exposed["accessKeyId"]
    assert alert.remediation == {"key_user": "ci-deployer", "access_key_id": exposed["accessKeyId"]}
    assert "privileged_grant" not in fired(record)


def test_quarantine_by_someone_else_offers_all_the_users_keys() -> None:
    record = s.iam_call(
        "AttachUserPolicy",
        {"userName": "test-user", "policyArn": s.QUARANTINE_V2},
        event_id="t-q-2",
        actor=s.role_session("a-role", "user.name"),
    )
    alert = fired(record)["key_quarantined"]
    assert alert.facts["Exposed key"] == "not in the record"
    assert alert.remediation == {"key_user": "test-user"}


def test_quarantine_removed_with_the_leaked_key_says_so() -> None:
    leaked = s.iam_user("ci-deployer")
    record = s.iam_call(
        "DetachUserPolicy", {"userName": "ci-deployer", "policyArn": s.QUARANTINE_V3}, event_id="t-q-3", actor=leaked
    )
    alert = fired(record)["quarantine_removed"]
    assert alert.severity == "critical"
    assert alert.facts["Removed with the user's own key"] == leaked["accessKeyId"]
    assert alert.remediation == {"key_user": "ci-deployer"}
