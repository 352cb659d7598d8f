"""The incident parent: slack_sdk's models accept it and it stays within Slack's limits however big the incident."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from slack_sdk.models.blocks import Block

from core.actions import ActionId
from core.rows import ActionRow, AlertRow, IncidentRow
from core.severity import Severity
from core.states import ActionState
from slackui.blocks import incident_action_reply, incident_approval_request, incident_parent, incident_summary
from tests.slackui.layout import lines

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
        for element in getattr(parsed, "elements", None) or []:
            if hasattr(element, "validate_json"):
                element.validate_json()  # a button: its text, value and confirm dialog within Slack's limits
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
    assert lines(message) <= 12  # long names are cut: the parent stays one laptop screen


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


def call(n: int, actor: str, event_name: str, target: str, severity=Severity.MEDIUM, **remediation) -> AlertRow:
    """Event `n`: `actor` (a user of the account) calls `event_name` on `target` (a user, role or trail ARN)."""
    return event(
        n,
        title=f"{event_name} on {target.rsplit('/', 1)[-1]}",
        event_name=event_name,
        severity=severity,
        actor_arn=f"arn:aws:iam::111122223333:user/{actor}",
        actor_user=actor,
        target=target,
        remediation=remediation,
    )


def takeover() -> list[AlertRow]:
    """Ten events of one incident: alice makes mallory an admin with a key; mallory, its target, then acts."""
    user, role = "arn:aws:iam::111122223333:user/", "arn:aws:iam::111122223333:role/"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    return [
        call(1, "alice", "CreateUser", user + "mallory", key_user="mallory"),
        call(
            2,
            "alice",
            "AttachUserPolicy",
            user + "mallory",
            Severity.CRITICAL,
            principal_type="user",
            principal_name="mallory",
            policy_arn=admin,
        ),
        call(3, "alice", "CreateLoginProfile", user + "mallory"),
        call(
            4,
            "alice",
            "CreateAccessKey",
            user + "mallory",
            Severity.HIGH,
            key_user="mallory",
            access_key_id="AKIAEXAMPLEMALLORY01",
        ),
        call(5, "mallory", "CreateUser", user + "svc-backdoor"),
        call(
            6,
            "mallory",
            "AttachUserPolicy",
            user + "svc-backdoor",
            Severity.CRITICAL,
            principal_type="user",
            principal_name="svc-backdoor",
            policy_arn=admin,
        ),
        call(
            7,
            "mallory",
            "CreateAccessKey",
            user + "svc-backdoor",
            Severity.HIGH,
            key_user="svc-backdoor",
            access_key_id="AKIAEXAMPLEBACKDOOR1",
        ),
        call(
            8,
            "mallory",
            "PutRolePolicy",
            role + "Deploy",
            Severity.HIGH,
            principal_type="role",
            principal_name="Deploy",
            inline_policy_name="everything",
        ),
        call(9, "mallory", "UpdateAssumeRolePolicy", role + "Deploy", Severity.HIGH),
        call(10, "mallory", "StopLogging", "arn:aws:cloudtrail:us-east-1:111122223333:trail/org", Severity.CRITICAL),
    ]


def test_a_ten_event_parent_fits_one_laptop_screen_and_says_who_did_what():
    alerts = takeover()
    incident = IncidentRow(id=3, key="k", root_alert_id=1, severity=Severity.CRITICAL, events=len(alerts))
    message = incident_parent(incident, alerts, {})
    checked(message)
    assert len(message["blocks"]) <= 6 and lines(message) <= 12, (len(message["blocks"]), lines(message))
    head = message["blocks"][0]["text"]["text"]
    assert head.startswith(":red_circle: *CRITICAL* · alice created mallory, gave AdministratorAccess, ")
    assert "; mallory created svc-backdoor, " in head and head.endswith(": 10 events")
    assert "alice, mallory" in message["blocks"][0]["fields"][0]["text"]
    assert "2 to 10 in the thread" in str(message["blocks"])
    assert ids(message)[:2] == ["iam_incident_detach_all", "iam_incident_disable_keys"]
    assert "Detach every grant (3)" in str(message["blocks"]) and "Disable created keys (2)" in str(message["blocks"])

    # After both incident buttons ran and the first event was acknowledged: status lines in, buttons out, still short.
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    ran = [
        ActionRow(1, 1, ActionId.INCIDENT_DETACH_ALL, ActionState.DONE, "U1", at, finished_at=at, detail="x" * 600),
        ActionRow(2, 1, ActionId.INCIDENT_DISABLE_KEYS, ActionState.DONE, "U2", at, finished_at=at, detail="keys"),
    ]
    acked = [replace(alerts[0], status="acknowledged", acked_by="U1", acked_at=at), *alerts[1:]]
    after = incident_parent(incident, acked, {1: ran})
    checked(after)
    assert "iam_incident_detach_all" not in ids(after) and lines(after) <= 12, lines(after)


def test_the_incident_replies_are_valid_blocks_within_slacks_limits():
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    incident = IncidentRow(id=3, key="k", root_alert_id=1, severity=Severity.CRITICAL, events=10, ts="1.1")
    done = ActionRow(1, 1, ActionId.INCIDENT_DETACH_ALL, ActionState.DONE, "U1", at, detail="alert #2: " * 900)
    waiting = ActionRow(2, 1, ActionId.INCIDENT_DISABLE_KEYS, ActionState.AWAITING_APPROVAL, "U1", at)
    for message in (incident_action_reply(done, incident), incident_approval_request(waiting, incident, 2)):
        checked(message)


def test_untrusted_times_names_and_titles_are_escaped_on_the_parent():
    hostile = "<!channel>"
    alerts = [
        event(1, event_time=f"2026-11-23T{hostile}", title=hostile, actor_user=hostile),
        grant(2),
        event(3, actor_arn=f"arn:aws:iam::111122223333:user/{hostile}", event_time=f"2026-11-23T08:{hostile}"),
    ]
    incident = IncidentRow(id=1, key="k", root_alert_id=1, severity=Severity.CRITICAL, events=3)
    message = incident_parent(incident, alerts, {})
    checked(message)
    shown = mrkdwn_texts(message["blocks"])  # plain_text (button labels) is never parsed for mentions
    assert not [t for t in shown if "<!" in t] and sum("&lt;!channel&gt;" in t for t in shown) >= 3


def mrkdwn_texts(value) -> list[str]:
    if isinstance(value, list):
        return [t for v in value for t in mrkdwn_texts(v)]
    if isinstance(value, dict):
        own = [value["text"]] if value.get("type") == "mrkdwn" else []
        return own + [t for v in value.values() if isinstance(v, dict | list) for t in mrkdwn_texts(v)]
    return []
