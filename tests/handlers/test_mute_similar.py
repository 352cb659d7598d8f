"""The Mute similar button and /iam mute-rule, unmute-rule, mutes over signed HTTP against the real app: what the
confirm says, the mute it makes (once), refusals, and the pipeline then keeping similar alerts out of Slack."""

from __future__ import annotations

import pytest

from core.severity import Severity
from core.states import PostState
from detections import example_records
from tests.conftest import CHANNEL, OUTSIDER, RESPONDER
from tests.handlers.test_audit_commands import problem
from tests.handlers.test_buttons import ACCOUNT, posted_alert, thread_replies, wait_action, wait_ephemeral

CFN = "IdentityCFNServiceRole"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/{CFN}/cfn-session-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{CFN}"


def answer(bot, text: str, user: str = "U0ADMIN1") -> str:
    """What `user` is told: in the command's HTTP reply, or (after a write) through its response_url."""
    before = len(bot.fake.responses)
    reply = bot.command(text, user=user)
    assert reply.status == 200, (text[:80], reply.status, reply.body[:200])
    if reply.body:
        return reply.json()["text"]
    assert bot.fake.wait_for(lambda: len(bot.fake.responses) > before), text[:80]
    return bot.fake.responses[before]["text"]


def cfn_alert(bot):
    """A posted user_created alert whose actor is a CloudFormation role session."""
    return posted_alert(
        bot,
        rule="user_created",
        severity=Severity.MEDIUM,
        title="IAM user svc created",
        event_name="CreateUser",
        actor_arn=SESSION,
        actor_type="AssumedRole",
        actor_user=None,
        actor_key_id="ASIAEXAMPLESESSION01",
        target=f"arn:aws:iam::{ACCOUNT}:user/svc",
        remediation={"key_user": "svc"},
    )


def mute_button(message: dict) -> dict:
    [button] = [
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "iam_mute_similar"
    ]
    return button


def cfn_create_user(name: str) -> dict:
    record = example_records.iam_call(
        "CreateUser",
        {"userName": name},
        {"user": {"userName": name, "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "path": "/"}},
        event_id=f"evt-create-{name}",
        actor=example_records.role_session(CFN, f"cfn-{name}"),
    )
    record["recipientAccountId"] = record["userIdentity"]["accountId"] = ACCOUNT
    record["userIdentity"]["arn"] = f"arn:aws:sts::{ACCOUNT}:assumed-role/{CFN}/cfn-{name}"
    return record


def test_the_confirm_names_rule_actor_days_and_account(make_bot, aws):
    bot = make_bot(session=aws)
    alert = cfn_alert(bot)
    button = mute_button(bot.fake.calls_of("chat.postMessage")[-1].args)
    assert button["text"]["text"] == "Mute similar" and button["value"] == str(alert.id)
    said = button["confirm"]["text"]["text"]
    assert "`user_created`" in said and f"`{ROLE}` (every session of the role)" in said
    assert f"account `{ACCOUNT}`" in said and "30 days" in said


def test_admin_press_mutes_once_and_similar_alerts_are_then_stored_not_posted(make_bot, aws):
    bot = make_bot(session=aws)
    alert = cfn_alert(bot)
    assert bot.click(alert, "iam_mute_similar", "U0ADMIN1").status == 200
    [action] = wait_action(bot, alert)
    assert action.state == "done" and action.requested_by == "U0ADMIN1"
    [mute] = bot.store.active_rule_mutes()
    assert (mute.rule, mute.scope, mute.value, mute.account) == ("user_created", "actor", ROLE, ACCOUNT)
    assert (mute.muted_by, mute.alert_id) == ("U0ADMIN1", alert.id)
    assert (mute.expires_at - mute.created_at).days == 30
    assert bot.fake.wait_for(lambda: thread_replies(bot, alert))
    [reply] = thread_replies(bot, alert)
    assert f"rule mute #{mute.id}" in reply["text"] and f"/iam unmute-rule {mute.id}" in reply["text"]
    assert bot.fake.wait_for(lambda: bot.fake.calls_of("chat.update"))
    updated = bot.fake.calls_of("chat.update")[-1].args
    assert updated["ts"] == alert.ts
    assert "iam_mute_similar" not in str(updated["blocks"]) and "mute of similar alerts by <@U0ADMIN1>" in str(
        updated["blocks"]
    )

    bot.click(alert, "iam_mute_similar", "U0ADMIN2")  # a second press mutes nothing more
    note = wait_ephemeral(bot, 1)
    assert note["user"] == "U0ADMIN2" and "<@U0ADMIN1>" in note["text"] and "Nothing more to do" in note["text"]
    assert len(bot.store.active_rule_mutes()) == 1 and [a.state for a in bot.store.actions(alert.id)] == ["done"]

    posted = len(bot.fake.channel_messages(CHANNEL))
    result = bot.rt.pipeline.process([cfn_create_user("svc2")], "sqs:m1")
    [muted] = [bot.store.alert(i) for i in result.alert_ids]
    assert (muted.rule, muted.mute_id, muted.post_state) == ("user_created", mute.id, PostState.MUTED)
    assert bot.rt.poster.drain() == 0 and len(bot.fake.channel_messages(CHANNEL)) == posted


def test_non_admins_are_refused_and_nothing_is_muted(make_bot, aws):
    bot = make_bot(session=aws)
    alert = cfn_alert(bot)
    for pressed, user in enumerate((RESPONDER, OUTSIDER), start=1):
        bot.click(alert, "iam_mute_similar", user)
        # One refusal recorded before the next press: two clicks' work may run at once, in either order.
        assert bot.fake.wait_for(lambda n=pressed: len(bot.store.actions(alert.id)) == n)
    assert wait_ephemeral(bot, 2)["text"] == "Only IAM Warden admins can mute alerts. Nothing was muted."
    assert bot.store.active_rule_mutes() == []
    assert [(a.state, a.requested_by) for a in bot.store.actions(alert.id)] == [
        ("refused", RESPONDER),
        ("refused", OUTSIDER),
    ]


def test_a_mute_already_made_by_command_is_not_made_twice(make_bot, aws):
    bot = make_bot(session=aws)
    alert = cfn_alert(bot)
    bot.store.add_rule_mute("user_created", "actor", ROLE, "deploys", "U0ADMIN2", 30, account=ACCOUNT)
    bot.click(alert, "iam_mute_similar", "U0ADMIN1")
    [action] = wait_action(bot, alert)
    assert action.state == "noop" and "already muted by rule mute #1" in action.detail
    assert len(bot.store.active_rule_mutes()) == 1


# -- /iam mute-rule, unmute-rule, mutes ------------------------------------------------------------------------


@pytest.fixture
def bot(make_bot, aws):
    return make_bot(session=aws)


def test_mute_rule_stores_the_mute_and_mutes_lists_and_unmute_rule_lifts_it(bot):
    said = answer(bot, f"mute-rule user_created actor arn:aws:iam::*:role/{CFN} 14 CloudFormation deploys")
    [mute] = bot.store.active_rule_mutes()
    assert said.startswith(f":mute: Rule mute #{mute.id} `user_created` for actor `arn:aws:iam::*:role/{CFN}`")
    assert (mute.scope, mute.value, mute.account, mute.reason) == (
        "actor",
        f"arn:aws:iam::*:role/{CFN}",
        None,
        "CloudFormation deploys",
    )
    assert (mute.expires_at - mute.created_at).days == 14 and mute.muted_by == "U0ADMIN1"
    again = answer(bot, f"mute-rule user_created actor arn:aws:iam::*:role/{CFN} 30 again")
    assert again.startswith(":mute: Already muted (nothing added)") and len(bot.store.active_rule_mutes()) == 1
    answer(bot, "mute-rule root_login account 111122223333 7 sandbox account")  # root_login is critical: refused
    answer(bot, "mute-rule iam_writes_refused account 111122223333 7 sandbox account")
    listing = answer(bot, "mutes")
    assert "*Rule mutes (2)*" in listing and f"`arn:aws:iam::*:role/{CFN}`" in listing
    assert "`iam_writes_refused` for account `111122223333`" in listing and "*Finding mutes (0)*" in listing
    assert answer(bot, "mutes", user=OUTSIDER) == listing  # reading is for everyone
    lifted = answer(bot, f"unmute-rule {mute.id}")
    assert lifted.startswith(f":loud_sound: Rule mute #{mute.id} lifted")
    assert [m.rule for m in bot.store.active_rule_mutes()] == ["iam_writes_refused"]
    assert answer(bot, f"unmute-rule #{mute.id}") == f"No active rule mute #{mute.id}."


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("mute-rule no_such_rule actor * 7 why", "No detection rule is called `no_such_rule`"),
        ("mute-rule user_created person arn:aws:iam::1:user/a 7 why", "Scope `person` must be `actor`, `target` or"),
        ("mute-rule user_created account 12345 7 why", "VALUE `12345` is not an account id (12 digits)"),
        ("mute-rule user_created actor arn:aws:iam::1:user/a 0 why", "DAYS `0` must be a whole number from 1 to 365"),
        ("mute-rule user_created actor arn:aws:iam::1:user/a 400 why", "DAYS `400` must be a whole number"),
        ("mute-rule user_created actor arn:aws:iam::1:user/a soon why", "DAYS `soon` must be a whole number"),
        ("mute-rule user_created actor arn:aws:iam::1:user/a 7", "needs a RULE, a scope, a VALUE, DAYS and a REASON"),
        ("mute-rule privileged_grant actor * 7 noisy", "`privileged_grant` is critical"),
        ("mute-rule privileged_grant target arn:aws:iam::*:role/* 7 noisy", "a mute never hides a critical rule"),
        ("mute-rule root_login account 111122223333 7 sandbox", "an account-wide mute"),
        ("unmute-rule twelve", "MUTE_ID `twelve` is not one mute number"),
    ],
)
def test_bad_mute_rule_arguments_get_a_clear_answer_and_store_nothing(bot, text, said):
    assert said in problem(answer(bot, text))
    assert bot.store.db["rule_mutes"].count == 0


def test_a_critical_rule_can_be_muted_for_a_named_actor(bot):
    said = answer(bot, "mute-rule privileged_grant actor arn:aws:iam::*:role/OrgBootstrap 3 landing zone setup")
    assert said.startswith(":mute: Rule mute #1 `privileged_grant`")


def test_only_admins_mute_rules_or_lift_rule_mutes(bot):
    for text in ("mute-rule user_created actor * 7 why", "unmute-rule 1"):
        assert answer(bot, text, user=RESPONDER) == "Only IAM Warden admins can mute rules or lift rule mutes."
    assert bot.store.db["rule_mutes"].count == 0


def test_help_names_the_rule_mute_commands_and_the_button(bot):
    said = answer(bot, "help")
    assert "`/iam mute-rule RULE actor|target|account VALUE DAYS REASON`" in said
    assert "`/iam mutes`" in said and "`/iam unmute-rule MUTE_ID`" in said and "*Mute similar*" in said


def test_an_alert_the_bot_raises_itself_has_no_mute_similar_button(make_bot, aws):
    bot = make_bot(session=aws)
    posted_alert(bot, rule="feed_silent", event_source="iam-warden", actor_arn="IAM Warden's feed watchdog")
    assert "iam_mute_similar" not in str(bot.fake.calls_of("chat.postMessage")[-1].args["blocks"])
    cfn_alert(bot)
    assert "iam_mute_similar" in str(bot.fake.calls_of("chat.postMessage")[-1].args["blocks"])
