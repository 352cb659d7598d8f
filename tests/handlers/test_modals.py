"""The modals over signed HTTP against the real Bolt app and the Slack stand-in: an alert's Details (the stored
record, secrets redacted), and the mute form (opened by `/iam mute` alone and the report's Mute… button, updated
when a check or rule is chosen, submitted valid and invalid)."""

from __future__ import annotations

import json

import pytest
from slack_sdk.models.views import View

from core.severity import Severity
from detections import example_records
from slackui import blocks
from tests.audit.test_lifecycle import A1
from tests.conftest import CHANNEL, OUTSIDER, RESPONDER
from tests.handlers.test_audit_commands import audited_bot, report_messages  # noqa: F401 (a fixture)
from tests.handlers.test_buttons import ACCOUNT, posted_alert

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue0123456789"


def valid_modal(view: dict) -> str:
    """The modal parsed and validated by slack_sdk's models, within Slack's limits; returns its text."""
    View(**{k: v for k, v in view.items() if k not in ("id", "hash", "state")}).validate_json()
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    return json.dumps(view["blocks"])


def opened(bot, count: int = 1) -> dict:
    """The view of the `count`th views.open call, once it came."""
    assert bot.fake.wait_for(lambda: len(bot.fake.calls_of("views.open")) >= count), bot.fake.calls_of("views.open")
    call = bot.fake.calls_of("views.open")[count - 1]
    assert call.args["trigger_id"]
    stored = bot.fake.modals[f"VO{count:06d}"]  # the stand-in's copy carries the view's id and hash
    assert stored["blocks"] == call.args["view"]["blocks"]
    return stored


def key_for_bob() -> dict:
    """alice creates an access key for bob: the response carries the secret key, the session a token."""
    record = example_records.iam_call(
        "CreateAccessKey",
        {"userName": "bob"},
        {
            "accessKey": {
                "accessKeyId": "AKIAEXAMPLEBOBKEY001",
                "secretAccessKey": SECRET,
                "status": "Active",
                "userName": "bob",
            }
        },
        event_id="evt-key-for-bob",
    )
    record["recipientAccountId"] = record["userIdentity"]["accountId"] = ACCOUNT
    record["userIdentity"]["arn"] = f"arn:aws:iam::{ACCOUNT}:user/alice"
    record["additionalEventData"] = {"note": f"export AWS_SESSION_TOKEN={SESSION_TOKEN}"}
    return record


def alert_from_pipeline(bot, record: dict):
    """Run a record through the real pipeline and outbox; the posted alert."""
    result = bot.rt.pipeline.process([record], "sqs:m1")
    assert result.alert_ids, "no rule fired"
    bot.rt.poster.drain()
    return bot.store.alert(result.alert_ids[0])


def details_buttons(message: dict) -> list[dict]:
    """The Details button: the accessory of the alert's headline."""
    return [b["accessory"] for b in message["blocks"] if b.get("accessory", {}).get("action_id") == "iam_event_details"]


# -- Details ----------------------------------------------------------------------------------------------------


def test_details_opens_the_stored_record_with_secrets_redacted(make_bot, aws):
    bot = make_bot(session=aws)
    alert = alert_from_pipeline(bot, key_for_bob())
    kept = bot.store.event_record(alert.event_id)
    assert kept["eventName"] == "CreateAccessKey"
    assert SECRET not in json.dumps(kept) and SESSION_TOKEN not in json.dumps(kept)  # never stored in the clear
    [details] = details_buttons(bot.fake.calls_of("chat.postMessage")[-1].args)
    assert (details["text"]["text"], details["value"]) == ("Details", str(alert.id))

    assert bot.click(alert, "iam_event_details", RESPONDER).status == 200
    view = opened(bot)
    text = valid_modal(view)
    assert view["type"] == "modal" and view["title"]["text"] == "Event details"
    assert "CreateAccessKey" in text and "AKIAEXAMPLEBOBKEY001" in text and "evt-key-for-bob" in text
    assert SECRET not in text and SESSION_TOKEN not in text
    assert '\\"secretAccessKey\\": \\"[REDACTED]\\"' in text and "AWS_SESSION_TOKEN=[REDACTED]" in text
    assert bot.fake.calls_of("views.open")[0].args["trigger_id"] == f"{bot.clicks}.trigger"


def test_details_are_refused_to_outsiders(make_bot, aws):
    bot = make_bot(session=aws)
    alert = alert_from_pipeline(bot, key_for_bob())
    bot.click(alert, "iam_event_details", OUTSIDER)
    assert bot.fake.wait_for(lambda: bot.fake.ephemeral)
    assert bot.fake.ephemeral[0]["text"] == "Only IAM Warden admins and responders can open an event's details."
    assert bot.fake.calls_of("views.open") == []


def test_details_of_an_alert_whose_record_was_not_kept_say_so(make_bot, aws):
    bot = make_bot(session=aws)
    alert = posted_alert(bot)  # stored directly, as an alert raised before records were kept
    bot.click(alert, "iam_event_details", "U0ADMIN1")
    text = valid_modal(opened(bot))
    assert "record was not kept" in text and alert.event_id in text


def test_a_huge_record_is_cut_into_sections_within_slacks_limits_with_a_note(make_bot, aws):
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    record = key_for_bob()
    record["requestParameters"]["tags"] = [{"key": f"k{i}", "value": "<&>" * 300} for i in range(400)]
    record["requestParameters"]["oneLongLine"] = "x" * 20_000
    view = blocks.event_details_view(alert, record)
    text = valid_modal(view)
    sections = [b for b in view["blocks"] if b["type"] == "section" and b["text"]["text"].startswith("```")]
    assert len(sections) == blocks.DETAILS_SECTIONS
    assert all(s["text"]["text"].endswith("```") for s in sections)
    assert "Truncated:" in text and "more characters of the record" in text
    assert "<&>" not in text and "&lt;&amp;&gt;" in text  # escaped, and never cut inside an entity
    assert SECRET not in text


def test_the_bots_own_alerts_have_no_details_button(make_bot, aws):
    bot = make_bot(session=aws)
    alert = posted_alert(bot, rule="feed_silent", event_source="iam-warden", actor_arn="iam-warden")
    assert details_buttons(blocks.alert_message(alert, "why", "what")) == []
    assert len(details_buttons(blocks.alert_message(posted_alert(bot), "why", "what"))) == 1


# -- the mute form ----------------------------------------------------------------------------------------------


def selection(value: str) -> dict:
    return {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}


def choose(bot, view: dict, value: str, user: str = "U0ADMIN1"):
    """Pick `value` in the form's check-or-rule select, as Slack sends it (block_actions from a modal)."""
    return bot.send(
        {
            "type": "block_actions",
            "team": {"id": "T0TEST", "domain": "test"},
            "user": {"id": user, "team_id": "T0TEST"},
            "api_app_id": "A0TEST",
            "token": "legacy",
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": "9.choose",
            "view": view,
            "actions": [
                {
                    "type": "static_select",
                    "action_id": "iam_mute_what",
                    "block_id": "iam_mute_what",
                    "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
                    "action_ts": "1.2",
                }
            ],
        }
    )


def submit(bot, view: dict, values: dict, user: str = "U0ADMIN1"):
    """Submit the form with these input values (block id -> value), as Slack sends a view_submission."""
    state = {}
    for block, value in values.items():
        if block == "iam_mute_reason":
            state[block] = {block: {"type": "plain_text_input", "value": value}}
        else:
            state[block] = {block: selection(value)}
    return bot.send(
        {
            "type": "view_submission",
            "team": {"id": "T0TEST", "domain": "test"},
            "user": {"id": user, "team_id": "T0TEST"},
            "api_app_id": "A0TEST",
            "token": "legacy",
            "trigger_id": "9.submit",
            "view": {**view, "state": {"values": state}},
        }
    )


def current_view(bot) -> dict:
    [view] = bot.fake.modals.values()
    return view


def options_of(view: dict, block_id: str) -> list[str]:
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    element = block["element"]
    if "option_groups" in element:
        return [o["value"] for g in element["option_groups"] for o in g["options"]]
    return [o["value"] for o in element["options"]]


@pytest.fixture
def audited(audited_bot):  # noqa: F811
    """The bot after one audit: test_mfa fails for bad-alice in A1, test_password for the account."""
    bot, _ = audited_bot
    bot.command("audit")
    assert bot.fake.wait_for(lambda: report_messages(bot), timeout=30)  # an audit takes seconds on a loaded machine
    return bot


def test_iam_mute_alone_opens_the_form_and_a_check_choice_lists_its_open_findings(audited):
    bot = audited
    reply = bot.command("mute")
    assert reply.status == 200 and reply.body == ""  # an empty ack: the form is the answer
    view = opened(bot)
    text = valid_modal(view)
    assert bot.fake.calls_of("views.open")[0].args["trigger_id"] == "1.2.3"
    assert view["callback_id"] == "iam_mute_form" and json.loads(view["private_metadata"]) == {"channel": CHANNEL}
    whats = options_of(view, "iam_mute_what")
    assert {"check:test_mfa", "check:test_password", "rule:privileged_grant"} <= set(whats)
    assert "arn:aws" not in text  # nothing to type: no resource until a check is chosen

    assert choose(bot, current_view(bot), "check:test_mfa").status == 200
    assert bot.fake.wait_for(lambda: bot.fake.calls_of("views.update"))
    update = bot.fake.calls_of("views.update")[0].args
    assert update["view_id"] == current_view(bot)["id"] and update["hash"]
    updated = current_view(bot)
    valid_modal(updated)
    finding = next(f for f in bot.store.findings("open") if f.check_id == "test_mfa")
    assert options_of(updated, "iam_mute_resource") == [f"finding:{finding.id}"]
    assert finding.resource.endswith("bad-alice") and "bad-alice" in json.dumps(updated["blocks"])
    initial = next(b for b in updated["blocks"] if b.get("block_id") == "iam_mute_what")["element"]["initial_option"]
    assert initial["value"] == "check:test_mfa"


def test_a_valid_submission_stores_the_mute_as_the_command_does_and_confirms(audited):
    bot = audited
    bot.command("mute")
    opened(bot)
    choose(bot, current_view(bot), "check:test_mfa")
    assert bot.fake.wait_for(lambda: bot.fake.calls_of("views.update"))
    finding = next(f for f in bot.store.findings("open") if f.check_id == "test_mfa")
    reply = submit(
        bot,
        current_view(bot),
        {
            "iam_mute_what": "check:test_mfa",
            "iam_mute_resource": f"finding:{finding.id}",
            "iam_mute_days": "14",
            "iam_mute_reason": "alice enrols her MFA device on Monday",
        },
    )
    assert reply.status == 200 and reply.body == ""  # the form closes
    assert bot.fake.wait_for(lambda: bot.store.active_mutes())
    [mute] = bot.store.active_mutes()
    assert (mute.check_id, mute.account, mute.resource, mute.muted_by) == ("test_mfa", A1, finding.resource, "U0ADMIN1")
    assert mute.reason == "alice enrols her MFA device on Monday" and (mute.expires_at - mute.created_at).days == 14
    assert bot.fake.wait_for(lambda: bot.fake.ephemeral)
    note = bot.fake.ephemeral[-1]
    assert note["channel"] == CHANNEL and note["user"] == "U0ADMIN1"
    assert note["text"].startswith(f":mute: Mute #{mute.id}: `test_mfa` on `{finding.resource}`")


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"iam_mute_days": "14", "iam_mute_reason": "why"}, {"iam_mute_what": "Choose a check or a rule."}),
        (
            {
                "iam_mute_what": "check:test_mfa",
                "iam_mute_resource": "finding:999",
                "iam_mute_days": "14",
                "iam_mute_reason": "why",
            },
            {"iam_mute_resource": "Choose a resource with an open finding of this check."},
        ),
        (
            {
                "iam_mute_what": "check:test_mfa",
                "iam_mute_resource": "FINDING",
                "iam_mute_days": "400",
                "iam_mute_reason": "   ",
            },
            {
                "iam_mute_resource": "Choose a resource with an open finding of this check.",
                "iam_mute_days": "Choose how many days (1 to 365).",
                "iam_mute_reason": "A reason is required.",
            },
        ),
        (
            {"iam_mute_what": "check:no_such_check", "iam_mute_days": "7", "iam_mute_reason": "why"},
            {"iam_mute_what": "That check is not run by this bot."},
        ),
        (
            {
                "iam_mute_what": "check:test_mfa",
                "iam_mute_resource": "finding:1",
                "iam_mute_days": "7",
                "iam_mute_reason": "bad\x07bell",
            },
            {"iam_mute_reason": "The reason contains control characters."},
        ),
    ],
)
def test_an_invalid_submission_gets_errors_per_input_and_stores_nothing(audited, values, errors):
    bot = audited
    bot.command("mute")
    view = opened(bot)
    if values.get("iam_mute_resource") == "finding:1":  # a real finding of the other check
        other = next(f for f in bot.store.findings("open") if f.check_id == "test_password")
        values = {**values, "iam_mute_resource": f"finding:{other.id}"}
        errors = {**errors, "iam_mute_resource": "Choose a resource with an open finding of this check."}
    reply = submit(bot, view, values)
    assert reply.status == 200
    assert reply.json() == {"response_action": "errors", "errors": errors}
    assert bot.store.active_mutes() == []


def test_a_finding_resolved_since_the_form_opened_is_not_muted(audited):
    bot = audited
    bot.command("mute")
    view = opened(bot)
    finding = next(f for f in bot.store.findings("open") if f.check_id == "test_mfa")
    bot.store.db["findings"].update(finding.id, {"status": "resolved"})
    values = {"iam_mute_what": "check:test_mfa", "iam_mute_resource": f"finding:{finding.id}", "iam_mute_days": "7"}
    reply = submit(bot, view, {**values, "iam_mute_reason": "why"})
    assert reply.json()["errors"] == {
        "iam_mute_resource": "That finding was resolved since the form opened; nothing to mute."
    }
    assert bot.store.active_mutes() == []


def test_the_report_mute_button_opens_the_form(audited):
    bot = audited
    [report] = report_messages(bot)
    [button] = [
        e
        for b in report["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "iam_open_mute_form"
    ]
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ADMIN2"},
        "team": {"id": "T0TEST"},
        "api_app_id": "A0TEST",
        "container": {"type": "message", "message_ts": report["ts"], "channel_id": CHANNEL},
        "channel": {"id": CHANNEL},
        "message": {"ts": report["ts"]},
        "trigger_id": "7.report",
        "response_url": bot.fake.response_url("form"),
        "actions": [{**button, "block_id": "iam_report_actions", "action_ts": "1"}],
    }
    assert bot.send(payload).status == 200
    view = opened(bot)
    assert bot.fake.calls_of("views.open")[0].args["trigger_id"] == "7.report"
    assert view["callback_id"] == "iam_mute_form" and "check:test_mfa" in options_of(view, "iam_mute_what")

    bot.send({**payload, "user": {"id": OUTSIDER}, "trigger_id": "8.report"})
    assert bot.fake.wait_for(lambda: bot.fake.ephemeral)
    assert bot.fake.ephemeral[0]["text"] == "Only IAM Warden admins can mute findings or rules."
    assert len(bot.fake.calls_of("views.open")) == 1


def test_outsiders_get_no_form_and_their_forged_submission_is_refused(audited, caplog):
    bot = audited
    reply = bot.command("mute", user=OUTSIDER)
    assert reply.json()["text"] == "Only IAM Warden admins can mute findings."  # as before the form
    bot.command("mute", user="U0ADMIN1")
    view = opened(bot)
    finding = next(f for f in bot.store.findings("open") if f.check_id == "test_mfa")
    values = {"iam_mute_what": "check:test_mfa", "iam_mute_resource": f"finding:{finding.id}", "iam_mute_days": "7"}
    reply = submit(bot, view, {**values, "iam_mute_reason": "mine now"}, user=RESPONDER)
    assert reply.json() == {
        "response_action": "errors",
        "errors": {"iam_mute_what": "Only IAM Warden admins can mute findings or rules."},
    }
    choose(bot, view, "check:test_mfa", user=OUTSIDER)
    assert bot.fake.wait_for(lambda: f"mute form choice by {OUTSIDER} not shown" in caplog.text)
    assert bot.store.active_mutes() == [] and bot.fake.calls_of("views.update") == []


def test_the_typed_mute_commands_still_work_beside_the_form(audited):
    bot = audited
    reply = bot.command(f"mute test_password account:{A1} 7 policy change under review")
    assert reply.status == 200
    assert bot.fake.wait_for(lambda: bot.store.active_mutes())
    assert bot.fake.calls_of("views.open") == []


# -- rule mutes through the form --------------------------------------------------------------------------------


def test_a_rule_choice_offers_its_alerts_actors_targets_and_accounts_and_mutes_one(make_bot, aws):
    bot = make_bot(session=aws)
    alert = posted_alert(
        bot,
        rule="user_created",
        severity=Severity.MEDIUM,
        title="IAM user svc created",
        event_name="CreateUser",
        actor_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/run-7",
        actor_type="AssumedRole",
        target=f"arn:aws:iam::{ACCOUNT}:user/svc",
        remediation={},
    )
    assert bot.command("mute-rule").body == ""
    view = opened(bot)
    choose(bot, current_view(bot), "rule:user_created")
    assert bot.fake.wait_for(lambda: bot.fake.calls_of("views.update"))
    updated = current_view(bot)
    text = valid_modal(updated)
    assert options_of(updated, "iam_mute_applies") == [
        f"actor:{alert.id}",
        f"target:{alert.id}",
        f"account:{alert.id}",
    ]
    assert f"actor arn:aws:iam::{ACCOUNT}:role/Deployer" in text  # a session is muted as its role
    reply = submit(
        bot,
        updated,
        {
            "iam_mute_what": "rule:user_created",
            "iam_mute_applies": f"actor:{alert.id}",
            "iam_mute_days": "30",
            "iam_mute_reason": "the deploy pipeline makes service users",
        },
    )
    assert reply.body == ""
    assert bot.fake.wait_for(lambda: bot.store.active_rule_mutes())
    [mute] = bot.store.active_rule_mutes()
    assert (mute.rule, mute.scope, mute.value, mute.muted_by) == (
        "user_created",
        "actor",
        f"arn:aws:iam::{ACCOUNT}:role/Deployer",
        "U0ADMIN1",
    )
    assert bot.fake.wait_for(lambda: bot.fake.ephemeral)
    assert bot.fake.ephemeral[-1]["text"].startswith(":mute: Rule mute #")
    assert view["id"] == updated["id"]


def test_a_critical_rule_is_never_offered_or_muted_for_a_whole_account(make_bot, aws):
    bot = make_bot(session=aws)
    alert = posted_alert(bot)  # privileged_grant, critical
    bot.command("mute-rule")
    view = opened(bot)
    choose(bot, view, "rule:privileged_grant")
    assert bot.fake.wait_for(lambda: bot.fake.calls_of("views.update"))
    assert f"account:{alert.id}" not in options_of(current_view(bot), "iam_mute_applies")
    values = {"iam_mute_what": "rule:privileged_grant", "iam_mute_applies": f"account:{alert.id}"}
    reply = submit(bot, current_view(bot), {**values, "iam_mute_days": "7", "iam_mute_reason": "forged"})
    assert "a mute never hides a critical rule" in reply.json()["errors"]["iam_mute_applies"]
    assert bot.store.active_rule_mutes() == []
