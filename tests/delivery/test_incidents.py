"""One incident, one message: an actor's alerts in the thread window under one parent, redrawn in place, and the
parent's buttons acting on the whole incident, through the real Bolt app over signed HTTP with moto."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from slack_sdk.models.blocks import Block

from detections import example_records
from tests.conftest import CHANNEL, OUTSIDER
from tests.test_end_to_end import attack

ACCOUNT = example_records.ACCOUNT
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture
def account(aws_env, monkeypatch):
    """moto as the sample account: alice (an admin who stays), the attacker ci-deployer."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        iam = session.client("iam")
        iam.create_user(UserName="alice")
        iam.attach_user_policy(UserName="alice", PolicyArn=ADMIN)
        iam.create_user(UserName="ci-deployer")
        yield session


def valid(message: dict) -> None:
    """Every block parses and validates as slack_sdk's model, within Slack's limits."""
    assert len(message["blocks"]) <= 50
    for block in message["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None and parsed.to_dict() == block
        parsed.validate_json()
        for element in getattr(parsed, "elements", None) or []:
            if hasattr(element, "validate_json"):
                element.validate_json()
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000


def incident_bot(make_bot, session, **overrides):
    """The bot after the attack (user created, given AdministratorAccess, key created) went through the pipeline
    and the outbox; returns (bot, the parent message, the incident)."""
    bot = make_bot(session=session, **overrides)
    bot.rt.pipeline.process(attack(session, ADMIN), "test")
    assert bot.rt.poster.drain() == 3
    [parent] = [m for m in bot.fake.channel_messages(CHANNEL) if m["thread_ts"] is None]
    incident = bot.store.incident_at(CHANNEL, parent["ts"])
    return bot, parent, incident


def click_incident(bot, incident, action_id: str, user: str):
    """Press one of the parent's incident buttons as Slack sends it (value: the incident id)."""
    root = bot.store.alert(incident.root_alert_id)
    payload = bot.click_payload(root, action_id, user)
    payload["actions"][0].update(value=str(incident.id), block_id="iam_incident_actions")
    return bot.send(payload)


def wait_done(bot, alert_id: int, action: str, count: int = 1) -> None:
    def ready() -> bool:
        rows = [a for a in bot.store.actions(alert_id) if a.action == action]
        return len(rows) >= count and rows[-1].state not in ("running", "awaiting_approval")

    assert bot.fake.wait_for(ready, timeout=15)


def buttons(message: dict) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_one_actor_three_events_make_one_critical_parent_updated_in_place(account, make_bot):
    bot, parent, incident = incident_bot(make_bot, account)
    alerts = bot.store.alerts()
    assert [a.rule for a in alerts] == ["user_created", "privileged_user_created", "access_key_created"]
    assert {a.incident_id for a in alerts} == {incident.id}
    assert (incident.events, incident.severity, incident.root_alert_id) == (3, "critical", alerts[0].id)
    # The parent is the first event's message, redrawn as each later event folded in.
    assert parent["ts"] == alerts[0].ts and parent["edits"] == 2
    assert len(bot.fake.calls_of("chat.update")) == 2
    assert parent["text"].startswith(
        "[CRITICAL] ci-deployer created backup-svc, gave AdministratorAccess, created a key: 3 events"
    )
    head = parent["blocks"][0]["text"]["text"]
    assert head.startswith(":red_circle: *CRITICAL* · ") and "3 events" in head
    assert "iam_incident_detach_all" in buttons(parent) and "iam_incident_disable_keys" in buttons(parent)
    valid(parent)
    # Every later event in the thread with its details and buttons; the critical one also in the channel.
    replies = [m for m in bot.fake.channel_messages(CHANNEL) if m["thread_ts"] == parent["ts"]]
    assert [m["metadata"]["event_payload"]["alert_id"] for m in replies] == [alerts[1].id, alerts[2].id]
    assert replies[0]["reply_broadcast"] and not replies[1]["reply_broadcast"]
    assert "Why it matters" in str(replies[0]["blocks"]) and "iam_detach_policy" in buttons(replies[0])
    for reply in replies:
        valid(reply)


def test_a_lone_alert_is_its_own_message(account, make_bot):
    bot = make_bot(session=account)
    bot.rt.pipeline.process(attack(account, ADMIN)[:1], "test")
    assert bot.rt.poster.drain() == 1
    [message] = bot.fake.channel_messages(CHANNEL)
    assert message["edits"] == 0 and "Why it matters" in str(message["blocks"])
    assert not {"iam_incident_detach_all", "iam_incident_disable_keys"} & set(buttons(message))
    assert bot.store.alerts()[0].incident_id is not None


def test_incident_buttons_detach_every_grant_and_disable_created_keys(account, make_bot):
    bot, parent, incident = incident_bot(make_bot, account)
    iam = account.client("iam")
    grant = bot.store.alerts(rule="privileged_user_created")[0]
    key_alert = bot.store.alerts(rule="access_key_created")[0]
    root = incident.root_alert_id

    # Someone who is not an admin: refused, recorded, nothing changed.
    assert click_incident(bot, incident, "iam_incident_detach_all", OUTSIDER).status == 200
    assert bot.fake.wait_for(lambda: any(e["user"] == OUTSIDER for e in bot.fake.ephemeral_log), timeout=15)
    assert [(a.action, a.state) for a in bot.store.actions(root)] == [("iam_incident_detach_all", "refused")]
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="backup-svc")["AttachedPolicies"]] == [
        ADMIN
    ]

    assert click_incident(bot, incident, "iam_incident_detach_all", "U0ADMIN1").status == 200
    wait_done(bot, root, "iam_incident_detach_all", 2)
    assert iam.list_attached_user_policies(UserName="backup-svc")["AttachedPolicies"] == []
    assert iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"][0]["PolicyArn"] == ADMIN
    # Recorded on the grant's own alert as its Detach button would, so that button is gone from its message.
    [detach] = bot.store.actions(grant.id)
    assert (detach.action, detach.state) == ("iam_detach_policy", "done")
    assert bot.fake.wait_for(
        lambda: "iam_detach_policy" not in buttons(bot.fake.message(CHANNEL, grant.ts)), timeout=15
    )

    assert click_incident(bot, incident, "iam_incident_disable_keys", "U0ADMIN2").status == 200
    wait_done(bot, root, "iam_incident_disable_keys")
    keys = iam.list_access_keys(UserName="backup-svc")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(key_alert.remediation["access_key_id"], "Inactive")]
    assert [(a.action, a.state) for a in bot.store.actions(key_alert.id)] == [("iam_disable_key", "done")]

    def replies() -> list[str]:
        return [m["text"] for m in bot.fake.channel_messages(CHANNEL) if m["thread_ts"] == parent["ts"]]

    assert bot.fake.wait_for(
        lambda: any("disable of the keys the incident created" in r for r in replies()), timeout=15
    )
    now = bot.fake.message(CHANNEL, parent["ts"])
    assert not {"iam_incident_detach_all", "iam_incident_disable_keys"} & set(buttons(now))
    valid(now)
    assert any("removal of every grant of the incident" in r and "detached AdministratorAccess" in r for r in replies())

    # A second press (a stale parent in another client): nothing more is done or recorded.
    before = len(bot.fake.calls_of("chat.postEphemeral"))
    click_incident(bot, incident, "iam_incident_detach_all", "U0ADMIN2")
    assert bot.fake.wait_for(lambda: len(bot.fake.calls_of("chat.postEphemeral")) > before, timeout=15)
    assert "Nothing more to do" in bot.fake.ephemeral_for("U0ADMIN2")[-1]["text"]
    assert len(bot.store.actions(grant.id)) == 1
    assert [a.state for a in bot.store.actions(root) if a.action == "iam_incident_detach_all"] == ["refused", "done"]


def test_incident_button_needs_a_second_admin_when_approvals_is_two(account, make_bot):
    bot, _, incident = incident_bot(make_bot, account, approvals=2)
    iam = account.client("iam")
    root = incident.root_alert_id
    click_incident(bot, incident, "iam_incident_disable_keys", "U0ADMIN1")
    assert bot.fake.wait_for(lambda: [a.state for a in bot.store.actions(root)] == ["awaiting_approval"], timeout=15)
    assert {k["Status"] for k in iam.list_access_keys(UserName="backup-svc")["AccessKeyMetadata"]} == {"Active"}
    click_incident(bot, incident, "iam_incident_disable_keys", "U0ADMIN1")  # the same admin cannot approve
    assert bot.fake.wait_for(lambda: "different admin" in str(bot.fake.ephemeral_for("U0ADMIN1")), timeout=15)
    click_incident(bot, incident, "iam_incident_disable_keys", "U0ADMIN2")
    wait_done(bot, root, "iam_incident_disable_keys")
    assert {k["Status"] for k in iam.list_access_keys(UserName="backup-svc")["AccessKeyMetadata"]} == {"Inactive"}
    [action] = bot.store.actions(root)
    assert (action.state, action.requested_by, action.approved_by) == ("done", "U0ADMIN1", "U0ADMIN2")


def test_a_button_for_an_unknown_or_other_incident_does_nothing(account, make_bot):
    bot, _, incident = incident_bot(make_bot, account)
    root = bot.store.alert(incident.root_alert_id)
    payload = bot.click_payload(root, "iam_incident_detach_all", "U0ADMIN1")
    payload["actions"][0]["value"] = str(incident.id + 7)
    bot.send(payload)
    assert bot.fake.wait_for(lambda: "not known here" in str(bot.fake.ephemeral_for("U0ADMIN1")), timeout=15)
    payload = bot.click_payload(bot.store.alerts(rule="access_key_created")[0], "iam_incident_detach_all", "U0ADMIN1")
    payload["actions"][0]["value"] = str(incident.id)  # the incident's id, pressed on a thread reply
    bot.send(payload)

    def refused() -> list[str]:
        return [e["text"] for e in bot.fake.ephemeral_for("U0ADMIN1") if "not known here" in e["text"]]

    assert bot.fake.wait_for(lambda: len(refused()) == 2, timeout=15)
    assert refused() == [
        f"Incident #{incident.id + 7} is not known here; nothing was done.",
        f"Incident #{incident.id} is not known here; nothing was done.",
    ]
    assert bot.store.actions(root.id) == []
    assert account.client("iam").list_attached_user_policies(UserName="backup-svc")["AttachedPolicies"]


def test_the_first_events_own_button_on_the_parent_keeps_the_incident_view(account, make_bot):
    bot, parent, incident = incident_bot(make_bot, account)
    root = bot.store.alert(incident.root_alert_id)
    assert "iam_ack" in buttons(parent)
    bot.click(root, "iam_ack", "U0ADMIN1")
    assert bot.fake.wait_for(lambda: bot.fake.message(CHANNEL, parent["ts"])["edits"] == 3, timeout=15)
    now = bot.fake.message(CHANNEL, parent["ts"])
    assert now["text"] == parent["text"] and "3 events" in now["blocks"][0]["text"]["text"]
    assert "Acknowledged by <@U0ADMIN1>" in str(now["blocks"]) and "iam_ack" not in buttons(now)
    assert {"iam_incident_detach_all", "iam_incident_disable_keys"} <= set(buttons(now))
    valid(now)


def test_the_created_user_acting_folds_in_and_the_parents_button_disables_the_key_it_made(account, make_bot):
    """ci-deployer creates backup-svc and gives it AdministratorAccess; then backup-svc, a target of the incident,
    makes a key for alice: one incident, whose Disable created keys button (signed HTTP) disables that key."""
    bot = make_bot(session=account)
    iam = account.client("iam")
    records = attack(account, ADMIN)[:2]
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    records.append(
        example_records.iam_call(
            "CreateAccessKey",
            {"userName": "alice"},
            {"accessKey": {"userName": "alice", "accessKeyId": key, "status": "Active"}},
            event_id="e2e-key-by-target",
            actor=example_records.iam_user("backup-svc"),
            time="2026-11-23T08:00:30Z",
        )
    )
    bot.rt.pipeline.process(records, "test")
    assert bot.rt.poster.drain() == 3
    [parent] = [m for m in bot.fake.channel_messages(CHANNEL) if m["thread_ts"] is None]
    incident = bot.store.incident_at(CHANNEL, parent["ts"])
    key_alert = bot.store.alerts(rule="access_key_created")[0]
    assert (key_alert.actor_user, key_alert.incident_id, incident.events) == ("backup-svc", incident.id, 3)
    assert parent["text"].startswith(
        "[CRITICAL] ci-deployer created backup-svc, gave AdministratorAccess; backup-svc created a key: 3 events"
    )
    assert "ci-deployer, backup-svc" in str(parent["blocks"][0]["fields"])
    assert "Disable created keys (1)" in str(parent["blocks"])
    valid(parent)

    assert click_incident(bot, incident, "iam_incident_disable_keys", "U0ADMIN1").status == 200
    wait_done(bot, incident.root_alert_id, "iam_incident_disable_keys")
    assert [(k["AccessKeyId"], k["Status"]) for k in iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]] == [
        (key, "Inactive")
    ]
    assert [(a.action, a.state) for a in bot.store.actions(key_alert.id)] == [("iam_disable_key", "done")]
    assert bot.fake.wait_for(
        lambda: "iam_incident_disable_keys" not in buttons(bot.fake.message(CHANNEL, parent["ts"])), timeout=15
    )
    valid(bot.fake.message(CHANNEL, parent["ts"]))
