"""App Home over signed HTTP: `app_home_opened` publishes the tab (views.publish in the Slack stand-in) with open
alerts by severity and their buttons for admins, findings by check, expiring mutes, the last audit and the feed's
health; a read-only view for everyone else; a button pressed on the tab acts and republishes it."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from slack_sdk.models.views import View

from core.alert import Alert
from core.feed import AccountFeed, FeedHealth
from core.rows import AlertRow, CheckFindings
from core.rule_mutes import MuteScope
from core.severity import Severity
from core.times import stored
from slackui import blocks
from tests.conftest import CHANNEL, OUTSIDER, RESPONDER, post, sign
from tests.delivery.test_incidents import account, incident_bot, wait_done
from tests.findings import failing
from tests.handlers.test_buttons import ACCOUNT, ADMIN_POLICY, attached, iam_user, posted_alert, wait_action

__all__ = ["account"]  # the fixture, imported for the incident test

ADMIN = "U0ADMIN1"
OTHER_ACCOUNT = "111122223333"


def open_home(bot, user: str, tab: str = "home", kind: str = "app_home_opened") -> int:
    """POST a signed app_home_opened event as Slack's Events API sends it; returns the HTTP status."""
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T0TEST",
            "api_app_id": "A0TEST",
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0TEST", "user_id": "UBOT", "is_bot": True}],
            "event": {
                "type": kind,
                "user": user,
                "channel": "D0HOME",
                "tab": tab,
                "event_ts": f"{time.time():.6f}",
            },
        }
    )
    return post(bot.url, body, sign(body), "application/json").status


def published(bot, user: str, count: int = 1) -> dict:
    """The Home tab published to `user` once `count` views.publish calls for them have been made."""

    def done() -> bool:
        return len([c for c in bot.fake.calls_of("views.publish") if c.args.get("user_id") == user]) >= count

    assert bot.fake.wait_for(done), [c.args.get("user_id") for c in bot.fake.calls_of("views.publish")]
    view = bot.fake.home_view(user)
    assert view is not None
    return view


def valid_view(view: dict) -> str:
    """The view parsed and validated by slack_sdk's models, within Slack's limits; returns its text."""
    View(**{k: v for k, v in view.items() if k not in ("id", "hash")}).validate_json()
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    texts = []
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(texts)


def action_blocks(view: dict) -> dict[str, list[dict]]:
    """The view's actions blocks by block id."""
    return {b["block_id"]: b["elements"] for b in view["blocks"] if b["type"] == "actions"}


def seed(bot) -> tuple[AlertRow, AlertRow]:
    """Two open posted alerts (critical, low), findings, expiring mutes, a finished audit and the feed's life."""
    critical = posted_alert(bot)
    low = posted_alert(
        bot,
        severity=Severity.LOW,
        rule="console_login_no_mfa",
        title="Console sign-in without MFA",
        target=None,  # a sign-in targets nobody: not one incident with the grant to bob
        remediation={},
    )
    store = bot.store
    audit = store.start_audit("command", ADMIN, [ACCOUNT])
    store.record_findings(
        audit,
        [
            failing("root_mfa", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", "critical", "Root user without MFA"),
            failing("key_rotation", ACCOUNT, "user/a", "medium", "Access key older than 90 days"),
            failing("key_rotation", ACCOUNT, "user/b", "medium", "Access key older than 90 days"),
        ],
        {(ACCOUNT, "root_mfa"), (ACCOUNT, "key_rotation")},
        [],
    )
    store.add_mute("key_rotation", ACCOUNT, "user/c", "vendor key", ADMIN, days=3)
    store.add_mute("key_rotation", ACCOUNT, "user/d", "long mute", ADMIN, days=30)
    store.add_rule_mute("console_login_no_mfa", MuteScope.ACTOR, "arn:aws:iam::1:user/kiosk", "kiosk", ADMIN, 2)
    store.store_batch(
        [
            {
                "event_id": "other-1",
                "event_name": "GetUser",
                "event_time": "2026-11-20T10:00:00Z",
                "account": OTHER_ACCOUNT,
                "source": "test",
            }
        ],
        [],
    )
    store.set_cursor("lookup:us-east-1", stored(datetime.now(UTC) - timedelta(minutes=3)))
    return critical, low


def test_admin_home_shows_every_section_with_the_alert_buttons(make_bot, aws):
    bot = make_bot(session=aws)
    critical, low = seed(bot)
    assert open_home(bot, ADMIN) == 200
    view = published(bot, ADMIN)
    text = valid_view(view)
    assert "Open alerts (2)" in text
    assert text.index("Admin policy attached to user bob") < text.index("Console sign-in without MFA")  # critical first
    assert "you are an IAM Warden admin" in text
    actions = action_blocks(view)
    buttons = {e["action_id"]: e for e in actions[f"iam_home_alert_{critical.id}"]}
    # the alert's own buttons, with the ids and values the alert listeners act on
    assert {"iam_ack", "iam_detach_policy", "iam_disable_key", "iam_disable_actor_key"} <= set(buttons)
    assert {e["value"] for e in buttons.values()} == {str(critical.id)}
    assert buttons["iam_detach_policy"]["confirm"]["title"]["text"] == "Detach policy?"
    assert actions[f"iam_home_alert_{low.id}"][0]["action_id"] == "iam_ack"
    assert [e["action_id"] for e in actions["iam_home_controls"]] == ["iam_home_refresh"]
    # findings by check, most severe check first, counted per check
    assert "*Open findings (3) by check*" in text
    assert text.index("`root_mfa`: *1* resource") < text.index("`key_rotation`: *2* resources")
    # mutes expiring within 7 days: the 3-day finding mute and the 2-day rule mute, not the 30-day one
    assert "*Mutes expiring within 7 days (2)*" in text
    assert "`user/c`" in text and "`user/d`" not in text and "`console_login_no_mfa`" in text
    assert text.index("console_login_no_mfa` for actor") < text.index("`user/c`")  # soonest first
    # the last audit and its result
    assert "*Last audit* #1 of 1 account by <@U0ADMIN1>" in text and ":white_check_mark: complete" in text
    assert ":red_circle: 1 critical" in text and "3 new, 0 resolved" in text
    # the feed: the LookupEvents polls' life, and the latest event per account
    assert "CloudTrail LookupEvents polls of us-east-1" in text and ":white_check_mark: delivering" in text
    assert "3 min ago" in text
    assert f"`{OTHER_ACCOUNT}` 2026-11-20 10:00 UTC" in text and f"`{ACCOUNT}` 2026-11-23 08:00 UTC" in text


def test_non_admins_get_a_read_only_view_and_responders_only_acknowledge(make_bot, aws):
    bot = make_bot(session=aws)
    critical, low = seed(bot)
    open_home(bot, OUTSIDER)
    view = published(bot, OUTSIDER)
    text = valid_view(view)
    assert "read-only view" in text and "Open alerts (2)" in text and "Admin policy attached" in text
    assert list(action_blocks(view)) == ["iam_home_controls"]  # Refresh only, no action on an alert
    open_home(bot, RESPONDER)
    view = published(bot, RESPONDER)
    valid_view(view)
    alert_buttons = {k: [e["action_id"] for e in v] for k, v in action_blocks(view).items() if k != "iam_home_controls"}
    assert alert_buttons == {f"iam_home_alert_{critical.id}": ["iam_ack"], f"iam_home_alert_{low.id}": ["iam_ack"]}


def home_click(bot, alert: AlertRow, action_id: str, user: str, view: dict) -> int:
    """Press one of an alert's buttons on the Home tab, as Slack sends it: a view container, no channel or message."""
    return home_press(bot, action_id, f"iam_home_alert_{alert.id}", str(alert.id), user, view)


def home_press(bot, action_id: str, block_id: str, value: str, user: str, view: dict) -> int:
    """Press a button of `block_id` on the Home tab `view` as `user`; returns the HTTP status."""
    bot.clicks += 1
    payload = {
        "type": "block_actions",
        "team": {"id": "T0TEST", "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0TEST"},
        "api_app_id": "A0TEST",
        "token": "legacy",
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": f"{bot.clicks}.trigger",
        "view": {**view, "type": "home", "state": {"values": {}}},
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return bot.send(payload).status


def test_a_button_pressed_on_the_home_tab_acts_updates_the_alert_and_republishes(make_bot, aws):
    iam = aws.client("iam")
    iam_user(iam, "alice", admin=True)  # a second admin, so detaching bob's grant is allowed
    iam_user(iam, "bob", admin=True)
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    open_home(bot, ADMIN)
    view = published(bot, ADMIN)
    assert home_click(bot, alert, "iam_detach_policy", ADMIN, view) == 200
    [action] = wait_action(bot, alert)
    assert action.state == "done" and action.requested_by == ADMIN
    assert attached(iam, "bob") == []
    # the alert's message in the channel shows it, and the thread records it, as for a click on the message
    assert bot.fake.wait_for(lambda: any(m["thread_ts"] == alert.ts for m in bot.fake.channel_messages(CHANNEL)))
    updated = bot.fake.calls_of("chat.update")[-1].args
    assert updated["channel"] == CHANNEL and updated["ts"] == alert.ts
    # the tab is published again without the finished action's button
    fresh = published(bot, ADMIN, count=2)
    valid_view(fresh)
    ids = [e["action_id"] for e in action_blocks(fresh)[f"iam_home_alert_{alert.id}"]]
    assert "iam_detach_policy" not in ids and "iam_ack" in ids
    assert not bot.fake.ephemeral  # nothing needed saying to the admin alone


def test_a_refused_press_on_the_home_tab_is_answered_in_a_direct_message(make_bot, aws):
    iam = aws.client("iam")
    iam_user(iam, "bob", admin=True)
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    open_home(bot, ADMIN)
    stale = published(bot, ADMIN)  # an admin's view, pressed by someone who is not one (a forged or stale click)
    assert home_click(bot, alert, "iam_detach_policy", OUTSIDER, stale) == 200
    assert bot.fake.wait_for(lambda: bot.fake.channel_messages(OUTSIDER))
    [note] = bot.fake.channel_messages(OUTSIDER)  # chat.postMessage to the user: the app's Messages tab
    assert "Only IAM Warden admins can run policy removal" in note["text"]
    assert attached(iam, "bob") == [ADMIN_POLICY]
    assert [a.state for a in bot.store.actions(alert.id)] == ["refused"]
    assert not bot.fake.ephemeral  # no ephemeral without a channel


def test_acknowledge_and_refresh_from_the_home_tab(make_bot, aws):
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    open_home(bot, RESPONDER)
    view = published(bot, RESPONDER)
    assert home_click(bot, alert, "iam_ack", RESPONDER, view) == 200
    fresh = published(bot, RESPONDER, count=2)
    assert bot.store.alert(alert.id).acked_by == RESPONDER
    assert "Open alerts (0)" in valid_view(fresh) and f"iam_home_alert_{alert.id}" not in action_blocks(fresh)
    posted_alert(  # arrives after the tab was drawn: Refresh shows it (about carol: not bob's incident)
        bot,
        title="Another grant",
        target=f"arn:aws:iam::{ACCOUNT}:user/carol",
        remediation={"principal_type": "user", "principal_name": "carol", "policy_arn": ADMIN_POLICY},
    )
    refresh = {
        "type": "block_actions",
        "user": {"id": RESPONDER},
        "team": {"id": "T0TEST"},
        "container": {"type": "view", "view_id": fresh["id"]},
        "view": fresh,
        "actions": [{"action_id": "iam_home_refresh", "block_id": "iam_home_controls", "value": "home"}],
    }
    assert bot.send(refresh).status == 200
    assert "Another grant" in valid_view(published(bot, RESPONDER, count=3))


def test_counts_agree_with_iam_status_and_an_unposted_alert_has_no_buttons_yet(make_bot, aws):
    bot = make_bot(session=aws)
    posted = posted_alert(bot)
    waiting = Alert(
        rule="privileged_grant",
        severity=Severity.HIGH,
        title="Waiting for the outbox",
        event_id="evt-waiting",
        event_name="AttachUserPolicy",
        event_source="iam.amazonaws.com",
        event_time="2026-11-23T08:05:00Z",
        account=ACCOUNT,
        region="us-east-1",
        actor_arn=f"arn:aws:iam::{ACCOUNT}:user/mallory",
        actor_type="IAMUser",
        dedup_key="evt-waiting",
        thread_key="evt-waiting",
    )
    assert bot.store.store_batch([{"event_id": "evt-waiting", "account": ACCOUNT, "source": "t"}], [waiting])
    bot.store.db.execute("UPDATE alerts SET post_state = 'muted' WHERE id = ?", [posted.id])  # kept out by a mute
    open_home(bot, ADMIN)
    view = published(bot, ADMIN)
    text = valid_view(view)
    assert bot.store.counts().open == 1 and "Open alerts (1)" in text
    assert "Waiting for the outbox" in text and "_not posted yet_" in text and "Admin policy attached" not in text
    assert list(action_blocks(view)) == ["iam_home_controls"]


def test_the_messages_tab_and_an_event_without_a_user_publish_nothing(make_bot, aws, caplog):
    bot = make_bot(session=aws)
    caplog.set_level(logging.WARNING)
    assert open_home(bot, ADMIN, tab="messages") == 200
    assert open_home(bot, "", tab="home") == 200
    assert bot.fake.wait_for(lambda: "app_home_opened without a user" in caplog.text)
    assert open_home(bot, OUTSIDER) == 200  # a later event is still answered
    published(bot, OUTSIDER)
    assert [c.args["user_id"] for c in bot.fake.calls_of("views.publish")] == [OUTSIDER]


def test_a_silent_feed_and_an_incomplete_audit_read_as_such(make_bot, aws):
    bot = make_bot(session=aws)
    audit = bot.store.start_audit("schedule", None, [ACCOUNT, OTHER_ACCOUNT])
    bot.store.record_findings(
        audit, [], set(), [f"{OTHER_ACCOUNT}: AccessDenied on iam:GetAccountAuthorizationDetails"]
    )
    bot.store.set_cursor("feed.silence", json.dumps({"alert_id": 7, "since": "2026-11-23T08:00:00+00:00"}))
    open_home(bot, ADMIN)
    text = valid_view(published(bot, ADMIN))
    assert ":warning: *incomplete*: 1 gap(s)" in text and "AccessDenied" in text and "(schedule)" in text
    assert ":red_circle: *silent*: alert #7 is open" in text
    assert "no heartbeat or message stored yet" in text and "no event stored yet" in text
    assert "no open alerts" in text and "no open findings" in text


def content(alerts: list[AlertRow], **fields) -> blocks.HomeContent:
    counts: dict[Severity, int] = {}
    for a in alerts:
        counts[a.severity] = counts.get(a.severity, 0) + 1
    values = dict(
        user=ADMIN,
        now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        alerts=[(a, frozenset()) for a in alerts[: blocks.HOME_ALERTS]],
        open_alerts=counts,
        findings=[],
        finding_mutes=[],
        rule_mutes=[],
        last_audit=None,
        feed=None,
        may_remediate=True,
        may_acknowledge=True,
    )
    values.update(fields)
    return blocks.HomeContent(**values)


@pytest.mark.parametrize("many", [1, 60])
def test_the_view_stays_within_slack_limits_with_many_and_long_entries(many):
    severities = list(Severity)
    alerts = [
        AlertRow(
            id=i + 1,
            rule="privileged_grant",
            severity=severities[i % 5],
            title="T<&>" * 100,
            event_source="iam.amazonaws.com",
            event_time="2026-11-23T08:00:00Z",
            account=ACCOUNT,
            actor_arn=f"arn:aws:iam::{ACCOUNT}:user/" + "m" * 300,
            actor_key_id="AKIAEXAMPLEACTOR0001",
            actor_user="mallory",
            remediation={"principal_type": "user", "principal_name": "bob", "policy_arn": ADMIN_POLICY},
            status="open",
            post_state="posted",
            channel=CHANNEL,
            ts="1.2",
        )
        for i in range(many)
    ]
    feed = FeedHealth(
        "SQS queue q",
        datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        30,
        accounts=tuple(AccountFeed(f"{i:012d}", None, None) for i in range(400)),
    )
    checks = [CheckFindings(f"check_{i}", Severity.HIGH, "A long check title " * 6, 3) for i in range(200)]
    view = blocks.home_view(content(alerts, feed=feed, findings=checks))
    text = valid_view(view)
    shown = [b for b in view["blocks"] if b.get("block_id", "").startswith("iam_home_alert_")]
    assert len(shown) == min(many, blocks.HOME_ALERTS)
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    ranks = [next(s.rank for s in Severity if t.startswith(s.emoji)) for t in sections if "T&lt;&amp;&gt;" in t]
    assert ranks == sorted(ranks)  # critical -> info
    assert "<&>" not in text  # untrusted text escaped
    assert ":warning: nothing heard for over 30 min" in text
    assert "*Open findings (600) by check*" in text
    assert text.count("…and ") == 2  # the checks and the accounts cut at a whole line, the rest counted
    if many > blocks.HOME_ALERTS:
        assert f"{many - blocks.HOME_ALERTS} more open alerts" in text


def test_the_manifest_enables_the_home_tab_and_subscribes_to_every_event_a_listener_handles(make_bot, aws):
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    # refusals of Home tab clicks come as direct messages: the Messages tab is on, read-only for users
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is True
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert events == ["app_home_opened"]
    bot = make_bot(session=aws)
    for kind in events:
        assert open_home(bot, OUTSIDER, tab="messages", kind=kind) == 200, f"{kind} is subscribed but unhandled"
    assert open_home(bot, OUTSIDER, kind="reaction_added") == 404  # Bolt's answer when no listener takes it


def test_an_incident_shows_once_with_its_buttons_and_its_button_acts_from_the_home_tab(account, make_bot):
    """The Home tab lists an open incident as one entry (highest severity, summary, the incident's buttons), not its
    three alerts one by one; its Detach every grant pressed there acts on the incident and republishes the tab."""
    bot, _parent, incident = incident_bot(make_bot, account)
    assert open_home(bot, ADMIN) == 200
    view = published(bot, ADMIN)
    text = valid_view(view)
    assert f"*Incident #{incident.id}*: ci-deployer created backup-svc, gave AdministratorAccess" in text
    assert "*Open alerts (3)*" in text and "1 incident" in text
    assert text.count("alert #") == 0  # none of its alerts listed on its own
    ids = [e["action_id"] for e in action_blocks(view)[f"iam_home_incident_{incident.id}"]]
    assert ids == ["iam_incident_detach_all", "iam_incident_disable_keys"]
    # A responder sees the incident but not its buttons.
    open_home(bot, RESPONDER)
    assert f"iam_home_incident_{incident.id}" not in action_blocks(published(bot, RESPONDER))

    root = bot.store.alert(incident.root_alert_id)
    assert root is not None
    block = f"iam_home_incident_{incident.id}"
    assert home_press(bot, "iam_incident_detach_all", block, str(incident.id), ADMIN, view) == 200
    wait_done(bot, root.id, "iam_incident_detach_all")
    assert account.client("iam").list_attached_user_policies(UserName="backup-svc")["AttachedPolicies"] == []
    fresh = published(bot, ADMIN, count=2)
    valid_view(fresh)
    assert [e["action_id"] for e in action_blocks(fresh)[f"iam_home_incident_{incident.id}"]] == [
        "iam_incident_disable_keys"
    ]
