"""The incident parent: slack_sdk's models accept it and it stays within Slack's limits however big the incident."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.blocks import Block

from core.actions import ActionId
from core.rows import ActionRow, AlertRow, IncidentRow
from core.severity import Severity
from core.states import ActionState
from slackui.blocks import incident_parent, incident_summary

ACTOR = "arn:aws:iam::111122223333:user/alice"


def event(n: int, **fields) -> AlertRow:
    values = dict(
        id=n,
        rule="user_created",
        severity=Severity.LOW,
        title=f"IAM user {'x' * 120}{n} created",
        event_id=f"e{n}",
        event_name="CreateUser",
        event_source="iam.amazonaws.com",
        event_time=f"2026-11-23T08:{n % 60:02d}:00Z",
        account="111122223333",
        region="us-east-1",
        actor_arn=ACTOR,
        actor_type="IAMUser",
        target=f"arn:aws:iam::111122223333:user/{'u' * 60}{n}",
        remediation={"key_user": f"u{n}"},
    )
    values.update(fields)
    return AlertRow(**values)


def grant(n: int) -> AlertRow:
    return event(
        n,
        severity=Severity.CRITICAL,
        event_name="AttachUserPolicy",
        title="Admin policy attached",
        remediation={"principal_type": "user", "principal_name": "mallory", "policy_arn": "arn:aws:iam::aws:policy/X"},
    )


def checked(message: dict) -> None:
    assert len(message["blocks"]) <= 50 and len(message["text"]) <= 3000
    for block in message["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None and parsed.to_dict() == block
        parsed.validate_json()
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))


def test_a_large_incident_stays_within_slacks_limits():
    alerts = [event(n) for n in range(1, 200)] + [grant(200)]
    incident = IncidentRow(id=1, key="k", root_alert_id=1, severity=Severity.CRITICAL, events=len(alerts))
    message = incident_parent(incident, alerts, {})
    checked(message)
    assert message["blocks"][0]["text"]["text"].startswith(":red_circle: *CRITICAL* · alice created ")
    assert "200 events" in message["text"] and "1 critical" in str(message["blocks"])


def test_the_summary_names_each_thing_once_in_order():
    alerts = [
        event(1, target="arn:aws:iam::111122223333:user/mallory"),
        grant(2),
        event(3, event_name="CreateAccessKey", title="key", target="arn:aws:iam::111122223333:user/mallory"),
        event(4, event_name="CreateAccessKey", title="key", target="arn:aws:iam::111122223333:user/mallory"),
    ]
    assert incident_summary(alerts) == "alice created mallory, gave X, created a key: 4 events"


def ids(message: dict) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_a_finished_incident_action_hides_its_button():
    alerts = [event(1), grant(2)]
    incident = IncidentRow(id=1, key="k", root_alert_id=1, severity=Severity.CRITICAL, events=2)
    assert "iam_incident_detach_all" in ids(incident_parent(incident, alerts, {}))
    ran = ActionRow(1, 1, ActionId.INCIDENT_DETACH_ALL, ActionState.DONE, "U1", datetime(2026, 11, 23, tzinfo=UTC))
    after = incident_parent(incident, alerts, {1: [ran]})
    assert "iam_incident_detach_all" not in ids(after)
    checked(after)
