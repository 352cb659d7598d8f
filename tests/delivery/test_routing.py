"""IAMBOT_ROUTES end to end: alerts through the real outbox and Slack stand-in, buttons acting in the routed channel,
audit reports and one digest per channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from app.wiring import slack_client
from checks.base import Status
from checks.engine import Result
from core.routing import Routes, parse_routes
from core.severity import Severity
from delivery.poster import Poster
from storage import Store
from tests.audit.test_lifecycle import A1, CHECKS, World, user
from tests.conftest import CHANNEL, OUTSIDER, post, settings, sign
from tests.handlers.test_buttons import ACCOUNT, attached, iam_user, posted_alert, wait_action
from tests.outbox import alert, stored

INCIDENT, TEAM = "C0INCIDENT", "C0TEAM"
TEAM_ACCOUNT = "444455556666"
ROUTES, _ = parse_routes(f"critical={INCIDENT},account:{TEAM_ACCOUNT}={TEAM}")


def top_level(fake, channel: str) -> list[dict]:
    return [m for m in fake.channel_messages(channel) if m["thread_ts"] is None]


@pytest.fixture
def bot(make_bot, aws):
    return make_bot(session=aws, routes=ROUTES)


def test_critical_goes_to_the_incident_channel_medium_to_the_default_and_the_account_route_wins(bot):
    critical = posted_alert(bot, title="Admin policy attached to user bob")
    medium = posted_alert(bot, severity=Severity.MEDIUM, title="Inline policy put on user eve")
    team = posted_alert(bot, account=TEAM_ACCOUNT, title="Admin policy attached to user team-bob")  # critical too
    assert (critical.channel, medium.channel, team.channel) == (INCIDENT, CHANNEL, TEAM)
    assert [m["ts"] for m in top_level(bot.fake, INCIDENT)] == [critical.ts]
    assert [m["ts"] for m in top_level(bot.fake, CHANNEL)] == [medium.ts]
    assert [m["ts"] for m in top_level(bot.fake, TEAM)] == [team.ts]
    assert "team-bob" in top_level(bot.fake, TEAM)[0]["text"]


def test_a_thread_never_spans_two_channels(tmp_path, fake_slack):
    store = Store(tmp_path / "w.db")
    poster = Poster(
        store, slack_client(settings(tmp_path, fake_slack)), CHANNEL, min_interval=0.0, routes=Routes(CHANNEL, ROUTES)
    )
    # one actor: medium, critical, medium; the critical goes to the incident channel, top level (not a reply
    # under a root it cannot see), and the second medium still threads under the first
    stored(
        store,
        alert(1, severity=Severity.MEDIUM),
        alert(2, severity=Severity.CRITICAL),
        alert(3, severity=Severity.MEDIUM),
    )
    assert poster.drain() == 3
    first, third = fake_slack.channel_messages(CHANNEL)
    [second] = fake_slack.channel_messages(INCIDENT)
    assert first["thread_ts"] is None and second["thread_ts"] is None
    assert third["thread_ts"] == first["ts"]
    assert [a.channel for a in store.alerts()] == [CHANNEL, INCIDENT, CHANNEL]
    store.close()


def test_an_alert_its_routed_channel_refuses_goes_to_the_default_channel(tmp_path, fake_slack, caplog):
    store = Store(tmp_path / "w.db")
    client = slack_client(settings(tmp_path, fake_slack))
    poster = Poster(store, client, CHANNEL, min_interval=0.0, routes=Routes(CHANNEL, ROUTES))
    [alert_id] = stored(store, alert(1, severity=Severity.CRITICAL))
    fake_slack.fail_next("chat.postMessage", error="not_in_channel", status=200)
    assert poster.drain() == 1
    assert fake_slack.channel_messages(INCIDENT) == [] and len(fake_slack.channel_messages(CHANNEL)) == 1
    assert [c.args["channel"] for c in fake_slack.calls_of("chat.postMessage")] == [INCIDENT, CHANNEL]
    assert store.alert(alert_id).channel == CHANNEL
    assert f"in its routed channel {INCIDENT}: not_in_channel (invite the bot there); posting it to {CHANNEL}" in (
        caplog.text
    )
    # the default channel refusing too keeps the alert in the outbox, as without routes
    stored(store, alert(2, severity=Severity.CRITICAL))
    fake_slack.fail_next("chat.postMessage", error="not_in_channel", status=200, times=2)
    assert poster.drain() == 0 and store.counts().unposted == 1
    store.close()


def test_recovery_looks_for_an_in_flight_alert_in_its_routed_channel(tmp_path, fake_slack):
    store = Store(tmp_path / "w.db")
    client = slack_client(settings(tmp_path, fake_slack))
    poster = Poster(store, client, CHANNEL, min_interval=0.0, routes=Routes(CHANNEL, ROUTES))
    [alert_id] = stored(store, alert(1, severity=Severity.CRITICAL))
    poster.drain()
    # a crash between Slack accepting the post and the store recording it
    store.db["alerts"].update(alert_id, {"post_state": "sending", "ts": None, "channel": None})
    assert poster.recover() == 1 and poster.drain() == 0
    assert len(fake_slack.channel_messages(INCIDENT)) == 1 and fake_slack.channel_messages(CHANNEL) == []
    history = fake_slack.calls_of("conversations.history")
    assert [c.args["channel"] for c in history] == [INCIDENT]
    assert store.alert(alert_id).channel == INCIDENT
    store.close()


def test_a_button_on_a_routed_alert_acts_and_replies_in_that_channel(bot, aws):
    iam = aws.client("iam")
    iam_user(iam, "alice", admin=True)  # a second admin, so detaching bob's grant is allowed
    iam_user(iam, "bob", admin=True)
    routed = posted_alert(bot)
    assert routed.channel == INCIDENT
    assert bot.click(routed, "iam_detach_policy", "U0ADMIN1").status == 200
    [action] = wait_action(bot, routed)
    assert action.state == "done" and attached(iam, "bob") == []
    assert bot.fake.wait_for(lambda: any(m["thread_ts"] == routed.ts for m in bot.fake.channel_messages(INCIDENT)))
    [reply] = [m for m in bot.fake.channel_messages(INCIDENT) if m["thread_ts"] == routed.ts]
    assert "detached AdministratorAccess from user bob" in reply["text"]
    [update] = [c.args for c in bot.fake.calls_of("chat.update")]
    assert (update["channel"], update["ts"]) == (INCIDENT, routed.ts)
    assert bot.fake.channel_messages(CHANNEL) == []  # nothing of it in the default channel


def record(store: Store, account: str, check: str, severity: Severity, resource: str) -> None:
    audit_id = store.start_audit("test", None, [account])
    store.record_findings(
        audit_id, [Result(check, severity, account, resource, Status.FAIL, "T", "d")], {(account, check)}, []
    )


def digest_text(fake, channel: str) -> str:
    [digest] = [m for m in fake.channel_messages(channel) if m["text"].startswith("IAM Warden digest")]
    return "\n".join(str(b) for b in digest["blocks"])


def test_the_digest_is_posted_per_channel_with_what_was_routed_there(bot):
    posted_alert(bot, title="Admin policy attached to user bob")
    posted_alert(bot, severity=Severity.MEDIUM, title="Inline policy put on user eve")
    posted_alert(bot, account=TEAM_ACCOUNT, title="Admin policy attached to user team-bob")
    record(bot.store, ACCOUNT, "root_mfa", Severity.CRITICAL, "arn:aws:iam::123456789012:root")
    record(bot.store, ACCOUNT, "old_keys", Severity.LOW, "arn:aws:iam::123456789012:user/ci")
    record(bot.store, TEAM_ACCOUNT, "admin_users", Severity.HIGH, "arn:aws:iam::444455556666:user/ops")
    slot = (datetime.now(UTC) + timedelta(minutes=1)).replace(microsecond=0)
    assert bot.rt.jobs.fire("digest", slot)  # the scheduled job, as app/wiring.py binds it
    incident, default, team = (digest_text(bot.fake, c) for c in (INCIDENT, CHANNEL, TEAM))
    assert "user bob" in incident and ":root" in incident
    assert "eve" not in incident and "team-bob" not in incident and "user/ci" not in incident
    assert "user eve" in default and "user/ci" in default
    assert "user bob" not in default and ":root" not in default and "user/ops" not in default
    assert "team-bob" in team and "user/ops" in team and "user eve" not in team and ":root" not in team
    for text in (incident, default, team):  # each counts its share: one alert raised, one finding opened
        assert "*Alerts raised*\\n1 (" in text and "*Open findings (last audit)*\\n1" in text


def test_a_channel_refusing_its_digest_leaves_the_others_theirs_and_the_run_failed(bot, caplog):
    posted_alert(bot, title="Admin policy attached to user bob")
    bot.fake.fail_next("chat.postMessage", error="not_in_channel", status=200)  # the default channel's, first
    slot = (datetime.now(UTC) + timedelta(minutes=1)).replace(microsecond=0)
    assert bot.rt.jobs.fire("digest", slot)
    assert "user bob" in digest_text(bot.fake, INCIDENT) and digest_text(bot.fake, TEAM)
    assert not any(m["text"].startswith("IAM Warden digest") for m in bot.fake.channel_messages(CHANNEL))
    [run] = bot.store.db["job_runs"].rows_where("job = ?", ["digest"])
    assert run["outcome"] == "failed: DigestUndelivered"
    assert f"the digest for channel {CHANNEL} could not be posted" in caplog.text


def test_without_routes_the_digest_is_one_message_in_the_default_channel(make_bot, aws):
    bot = make_bot(session=aws)
    posted_alert(bot)
    slot = (datetime.now(UTC) + timedelta(minutes=1)).replace(microsecond=0)
    assert bot.rt.jobs.fire("digest", slot)
    assert "user bob" in digest_text(bot.fake, CHANNEL)
    assert [c.args["channel"] for c in bot.fake.calls_of("chat.postMessage")][-1] == CHANNEL


@pytest.mark.parametrize(
    ("routes", "channel"),
    [
        # one account's report by its account's route
        (f"critical={INCIDENT},account:{A1}={TEAM}", TEAM),
        # no account route: by the report's highest failing severity (the fake world has a critical finding)
        (f"critical={INCIDENT},high=C0HIGH", INCIDENT),
        # no route for that severity: the default channel
        ("low=C0LOW", CHANNEL),
    ],
)
def test_the_scheduled_audit_report_follows_its_route(make_bot, aws, routes, channel):
    bot = make_bot(session=aws, checks=CHECKS, routes=parse_routes(routes)[0])
    world = World({A1: [user(A1, "bad-alice"), user(A1, "carol")]})
    auditor = bot.rt.audits.auditor
    auditor.collect, auditor.accounts_setting = world.collect, (A1,)
    assert bot.rt.jobs.fire("audit", datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    reports = [m for m in bot.fake.channel_messages(channel) if m["text"].startswith("IAM audit")]
    assert len(reports) == 1 and "1 critical" in reports[0]["text"]
    assert bot.fake.wait_for(lambda: len(bot.fake.uploads) == 2)
    assert {u["channel"] for u in bot.fake.uploads.values()} == {channel}
    others = [c.args["channel"] for c in bot.fake.calls_of("chat.postMessage") if c.args["channel"] != channel]
    assert others == []


def test_a_report_its_routed_channel_refuses_goes_to_the_default_channel(make_bot, aws, caplog):
    bot = make_bot(session=aws, checks=CHECKS, routes=parse_routes(f"account:{A1}={TEAM}")[0])
    world = World({A1: [user(A1, "bad-alice"), user(A1, "carol")]})
    auditor = bot.rt.audits.auditor
    auditor.collect, auditor.accounts_setting = world.collect, (A1,)
    bot.fake.fail_next("chat.postMessage", error="not_in_channel", status=200)
    assert bot.rt.jobs.fire("audit", datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert [c.args["channel"] for c in bot.fake.calls_of("chat.postMessage")] == [TEAM, CHANNEL]
    [report] = [m for m in bot.fake.channel_messages(CHANNEL) if m["text"].startswith("IAM audit")]
    assert bot.fake.wait_for(lambda: len(bot.fake.uploads) == 2)
    assert {(u["channel"], u["thread_ts"]) for u in bot.fake.uploads.values()} == {(CHANNEL, report["ts"])}
    assert f"could not post audit #1 to {TEAM}: not_in_channel" in caplog.text


def test_the_mute_button_on_a_routed_report_answers_in_that_channel(make_bot, aws):
    bot = make_bot(session=aws, checks=CHECKS, routes=parse_routes(f"account:{A1}={TEAM}")[0])
    world = World({A1: [user(A1, "bad-alice"), user(A1, "carol")]})
    auditor = bot.rt.audits.auditor
    auditor.collect, auditor.accounts_setting = world.collect, (A1,)
    assert bot.rt.jobs.fire("audit", datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    [report] = [m for m in bot.fake.channel_messages(TEAM) if m["text"].startswith("IAM audit")]
    finding = next(f for f in bot.store.findings("open") if f.resource.endswith("bad-alice"))
    # the report's own Mute button for that finding, pressed as Slack sends it from the team's channel
    [button] = [
        b["accessory"]
        for b in report["blocks"]
        if b.get("accessory", {}).get("action_id") == "iam_mute_finding" and b["accessory"]["value"] == str(finding.id)
    ]
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ADMIN1"},
        "team": {"id": "T0TEST"},
        "api_app_id": "A0TEST",
        "container": {"type": "message", "message_ts": report["ts"], "channel_id": TEAM},
        "channel": {"id": TEAM},
        "message": {"ts": report["ts"]},
        "trigger_id": "1.1",
        "response_url": bot.fake.response_url("mute"),
        "actions": [{**button, "block_id": "b", "action_ts": "1"}],
    }
    assert bot.send(payload).status == 200
    assert bot.fake.wait_for(lambda: any(m["thread_ts"] == report["ts"] for m in bot.fake.channel_messages(TEAM)))
    [reply] = [m for m in bot.fake.channel_messages(TEAM) if m["thread_ts"] == report["ts"]]
    assert reply["text"].startswith(":mute: <@U0ADMIN1> muted `test_mfa`")
    assert bot.fake.channel_messages(CHANNEL) == []


def digest_command(bot, channel: str) -> None:
    """`/iam digest 1` typed in `channel`, signed as Slack sends it."""
    body = urlencode(
        {
            "team_id": "T0TEST",
            "channel_id": channel,
            "user_id": OUTSIDER,
            "command": "/iam",
            "text": "digest 1",
            "response_url": bot.fake.response_url("cmd"),
            "trigger_id": "1.2.3",
        }
    )
    assert post(bot.url, body, sign(body), "application/x-www-form-urlencoded").status == 200


def test_a_digest_asked_for_in_a_routed_channel_is_its_share_and_elsewhere_the_whole(bot):
    posted_alert(bot, title="Admin policy attached to user bob")
    posted_alert(bot, severity=Severity.MEDIUM, title="Inline policy put on user eve")
    posted_alert(bot, account=TEAM_ACCOUNT, title="Admin policy attached to user team-bob")
    digest_command(bot, TEAM)
    assert bot.fake.wait_for(
        lambda: any(m["text"].startswith("IAM Warden digest") for m in bot.fake.channel_messages(TEAM))
    )
    team = digest_text(bot.fake, TEAM)
    assert "team-bob" in team and "user bob" not in team and "user eve" not in team
    digest_command(bot, CHANNEL)  # the default channel: what no route took
    assert bot.fake.wait_for(
        lambda: any(m["text"].startswith("IAM Warden digest") for m in bot.fake.channel_messages(CHANNEL))
    )
    default = digest_text(bot.fake, CHANNEL)
    assert "user eve" in default and "user bob" not in default and "team-bob" not in default
    digest_command(bot, "C0ELSEWHERE")  # a channel no route names: the whole digest
    assert bot.fake.wait_for(lambda: bot.fake.channel_messages("C0ELSEWHERE"))
    whole = digest_text(bot.fake, "C0ELSEWHERE")
    assert all(name in whole for name in ("user bob", "user eve", "team-bob"))
