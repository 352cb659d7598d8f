"""A remediation pressed on one alert updates every other posted alert about the same principal (signed HTTP,
moto, the Slack stand-in): no message keeps offering a destructive button with nothing left to do."""

from __future__ import annotations

from core.actions import ActionId
from core.rows import AlertRow
from slackui.alerts import settled_buttons
from tests.conftest import CHANNEL
from tests.handlers.test_buttons import ACCOUNT, iam, iam_user, posted_alert, statuses, wait_action

__all__ = ["iam"]  # the fixture, imported for these tests

BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"


def buttons(bot, alert: AlertRow) -> list[str]:
    """The action ids the alert's message in the stand-in offers now."""
    message = bot.fake.message(CHANNEL, alert.ts)
    assert message is not None
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def text_of(bot, alert: AlertRow) -> str:
    return str(bot.fake.message(CHANNEL, alert.ts)["blocks"])


def updates_of(bot, alert: AlertRow) -> list[dict]:
    return [c.args for c in bot.fake.calls_of("chat.update") if c.args.get("ts") == alert.ts]


def key_alert(bot, user: str, **fields) -> AlertRow:
    """An alert whose only AWS target is `user`'s keys (an access key created for them, say)."""
    values = {
        "rule": "access_key_created",
        "title": f"Access key created for {user}",
        "event_name": "CreateAccessKey",
        "target": f"arn:aws:iam::{ACCOUNT}:user/{user}",
        "remediation": {"key_user": user},
        "actor_key_id": None,
        "actor_user": None,
    }
    return posted_alert(bot, **{**values, **fields})


def test_disabling_keys_from_one_alert_updates_the_others_about_the_same_user(make_bot, aws, iam):
    iam_user(iam, "bob", admin=True, keys=2)
    [carol_key] = iam_user(iam, "carol", keys=1)
    bot = make_bot(session=aws)
    grant = posted_alert(bot)  # bob given admin: detach and disable-keys buttons
    created = key_alert(bot, "bob")
    signed_with = posted_alert(  # bob himself made a call with one of his keys: the actor-key button
        bot,
        rule="console_without_mfa",
        title="bob did something",
        actor_arn=BOB,
        actor_user="bob",
        actor_key_id=iam.list_access_keys(UserName="bob")["AccessKeyMetadata"][0]["AccessKeyId"],
        target=None,
        remediation={},
    )
    carol = key_alert(bot, "carol")
    assert "iam_disable_key" in buttons(bot, created) and "iam_disable_actor_key" in buttons(bot, signed_with)
    carol_edits = len(updates_of(bot, carol))

    assert bot.click(grant, ActionId.DISABLE_KEY, "U0ADMIN1").status == 200
    [action] = wait_action(bot, grant)
    assert action.state == "done" and statuses(iam, "bob") == {"Inactive"}
    # Both other alerts about bob were updated in place; neither offers a key button any more, and each says who.
    assert bot.fake.wait_for(lambda: updates_of(bot, created) and updates_of(bot, signed_with))
    assert "iam_disable_key" not in buttons(bot, created)
    assert "iam_disable_actor_key" not in buttons(bot, signed_with)
    for alert in (created, signed_with):
        assert f"bob's keys disabled by <@U0ADMIN1> (alert #{grant.id})" in text_of(bot, alert)
        assert "iam_ack" in buttons(bot, alert)  # acknowledging is each alert's own business
    # The grant's own message lost its key buttons (its own and the actor's, mallory's key, stays: another user).
    assert "iam_disable_key" not in buttons(bot, grant) and "iam_detach_policy" in buttons(bot, grant)
    # carol's alert is about someone else: not touched, button still there, her key still active.
    assert len(updates_of(bot, carol)) == carol_edits and "iam_disable_key" in buttons(bot, carol)
    assert statuses(iam, "carol") == {"Active"} and carol_key

    # A later render of the other alert (an acknowledgement) still knows: the button does not come back.
    bot.click(created, ActionId.ACK, "U0ADMIN2")
    assert bot.fake.wait_for(lambda: "iam_ack" not in buttons(bot, created))
    assert "iam_disable_key" not in buttons(bot, created)
    assert "bob's keys disabled by <@U0ADMIN1>" in text_of(bot, created)


def test_detaching_a_grant_updates_alerts_about_that_grant_only(make_bot, aws, iam):
    iam_user(iam, "bob", admin=True)
    iam.attach_user_policy(UserName="bob", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    bot = make_bot(session=aws)
    first = posted_alert(bot)
    again = posted_alert(bot, title="Admin policy attached to user bob (again)")
    other_policy = posted_alert(
        bot,
        title="ReadOnlyAccess attached to bob",
        remediation={
            "principal_type": "user",
            "principal_name": "bob",
            "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
        },
    )
    assert bot.click(first, ActionId.DETACH_POLICY, "U0ADMIN1").status == 200
    [action] = wait_action(bot, first)
    assert action.state == "done"
    assert bot.fake.wait_for(lambda: "iam_detach_policy" not in buttons(bot, again))
    assert f"AdministratorAccess removed from user bob by <@U0ADMIN1> (alert #{first.id})" in text_of(bot, again)
    assert "iam_disable_key" in buttons(bot, again)  # bob's keys were not touched
    assert updates_of(bot, other_policy) == [] and "iam_detach_policy" in buttons(bot, other_policy)


def test_an_alert_raised_after_the_action_keeps_its_buttons(make_bot, aws, iam):
    iam_user(iam, "bob", admin=True, keys=1)
    bot = make_bot(session=aws)
    grant = posted_alert(bot)
    bot.click(grant, ActionId.DISABLE_KEY, "U0ADMIN1")
    wait_action(bot, grant)
    later = key_alert(bot, "bob")  # a new key for bob after his keys were disabled: new work
    assert settled_buttons(bot.store, later) == {}
    bot.click(later, ActionId.ACK, "U0ADMIN2")
    assert bot.fake.wait_for(lambda: "iam_ack" not in buttons(bot, later))
    assert "iam_disable_key" in buttons(bot, later)


def test_the_home_tab_offers_no_button_a_remediation_on_another_alert_made_moot(make_bot, aws, iam):
    from tests.handlers.test_app_home import action_blocks, open_home, published, valid_view

    iam_user(iam, "bob", admin=True, keys=2)
    bot = make_bot(session=aws, thread_minutes=0)  # two alerts about bob, yet not one incident: each its own entry
    grant = posted_alert(bot)
    created = key_alert(bot, "bob")
    open_home(bot, "U0ADMIN1")
    before = action_blocks(published(bot, "U0ADMIN1"))[f"iam_home_alert_{created.id}"]
    assert "iam_disable_key" in [e["action_id"] for e in before]
    assert bot.click(grant, ActionId.DISABLE_KEY, "U0ADMIN1").status == 200
    [action] = wait_action(bot, grant)
    assert action.state == "done"
    open_home(bot, "U0ADMIN1")
    view = published(bot, "U0ADMIN1", count=2)
    valid_view(view)
    ids = [e["action_id"] for e in action_blocks(view)[f"iam_home_alert_{created.id}"]]
    assert "iam_disable_key" not in ids and "iam_ack" in ids
