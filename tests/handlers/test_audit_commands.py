"""/iam audit, mute, unmute, status and the mute button, over signed HTTP against the real app."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest

from tests.audit.test_lifecycle import A1, CHECKS, World, user
from tests.conftest import CHANNEL, OUTSIDER


@pytest.fixture
def audited_bot(make_bot, aws):
    """The bot with its auditor reading a fake world (the collector itself is tested on moto elsewhere)."""
    bot = make_bot(session=aws)
    world = World({A1: [user(A1, "bad-alice"), user(A1, "carol")]})
    auditor = bot.rt.audits.auditor
    auditor.collect, auditor.checks, auditor.accounts_setting = world.collect, CHECKS, (A1,)
    return bot, world


def report_messages(bot) -> list[dict]:
    return [m for m in bot.fake.channel_messages(CHANNEL) if m["text"].startswith("IAM audit")]


def test_audit_acks_before_any_aws_work_then_posts_report_and_files(audited_bot):
    bot, world = audited_bot
    release = threading.Event()
    collect = world.collect

    def slow_collect(*args):
        release.wait(10)
        return collect(*args)

    bot.rt.audits.auditor.collect = slow_collect
    reply = bot.command("audit")
    assert reply.status == 200 and reply.json()["text"].startswith(":mag: Auditing account 111122223333")
    assert report_messages(bot) == []  # the ack came back while the audit was still waiting on AWS
    release.set()
    uploads = bot.fake.uploads
    assert bot.fake.wait_for(lambda: len(uploads) == 2 and all(u.get("channel") for u in uploads.values()))
    [report] = report_messages(bot)
    assert "1 critical" in report["text"] and "1 high" in report["text"]
    text = str(report["blocks"])
    assert "bad-alice" in text and "first audit" in text and "iam_mute_finding" in text
    files = {u["filename"]: u for u in bot.fake.uploads.values()}
    assert set(files) == {"iam-audit-1.csv", "iam-audit-1.json"}
    assert all(f["thread_ts"] == report["ts"] and f["channel"] == CHANNEL for f in files.values())
    body = json.loads(files["iam-audit-1.json"]["content"])
    assert body["accounts"] == [A1] and {f["status"] for f in body["findings"]} == {"fail", "pass"}


def test_second_audit_while_one_runs_says_so(audited_bot):
    bot, world = audited_bot
    release = threading.Event()
    collect = world.collect
    bot.rt.audits.auditor.collect = lambda *a: (release.wait(10), collect(*a))[1]
    bot.command("audit")
    assert bot.fake.wait_for(
        lambda: not bot.rt.audits._running.acquire(blocking=False) or bot.rt.audits._running.release()
    )
    bot.command("audit")
    assert bot.fake.wait_for(lambda: any("already running" in m["text"] for m in bot.fake.channel_messages(CHANNEL)))
    release.set()
    assert bot.fake.wait_for(lambda: len(report_messages(bot)) == 1)


def mute_click(bot, finding_id: int, user_id: str, message_ts: str):
    return bot.send(
        {
            "type": "block_actions",
            "user": {"id": user_id},
            "team": {"id": "T0TEST"},
            "api_app_id": "A0TEST",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL},
            "channel": {"id": CHANNEL},
            "message": {"ts": message_ts},
            "trigger_id": "1.1",
            "response_url": bot.fake.response_url("mute"),
            "actions": [
                {
                    "action_id": "iam_mute_finding",
                    "value": str(finding_id),
                    "type": "button",
                    "block_id": "b",
                    "action_ts": "1",
                }
            ],
        }
    )


def test_mute_button_admin_once_then_already_outsider_refused(audited_bot):
    bot, _ = audited_bot
    bot.command("audit")
    assert bot.fake.wait_for(lambda: report_messages(bot))
    [report] = report_messages(bot)
    finding = next(f for f in bot.store.findings("open") if f["resource"].endswith("bad-alice"))
    mute_click(bot, finding["id"], OUTSIDER, report["ts"])
    assert bot.fake.wait_for(lambda: bot.fake.ephemeral)
    assert "Only IAM Warden admins" in bot.fake.ephemeral[0]["text"] and bot.store.active_mutes() == []
    mute_click(bot, finding["id"], "U0ADMIN1", report["ts"])
    assert bot.fake.wait_for(lambda: bot.store.active_mutes())
    [mute] = bot.store.active_mutes()
    assert (mute["check_id"], mute["resource"], mute["muted_by"]) == ("test_mfa", finding["resource"], "U0ADMIN1")
    mute_click(bot, finding["id"], "U0ADMIN2", report["ts"])
    assert bot.fake.wait_for(lambda: len(bot.fake.ephemeral) == 2)
    assert "Already muted by <@U0ADMIN1>" in bot.fake.ephemeral[1]["text"]
    assert len(bot.store.active_mutes()) == 1
    bot.command("audit")  # the next audit reports it as muted
    assert bot.fake.wait_for(lambda: len(report_messages(bot)) == 2)
    assert "1 muted" in str(report_messages(bot)[1]["blocks"])


def test_mute_and_unmute_commands(audited_bot):
    bot, _ = audited_bot
    arn = f"arn:aws:iam::{A1}:user/bad-alice"
    assert "Only IAM Warden admins" in bot.command(f"mute test_mfa {arn} 14 why", user=OUTSIDER).json()["text"]
    assert "No check is called `nope`" in bot.command(f"mute nope {arn} 14 because").json()["text"]
    assert "REASON is required" in bot.command(f"mute test_mfa {arn} 14").json()["text"]
    assert "is not a resource ARN" in bot.command("mute test_mfa alice 14 because").json()["text"]
    done = bot.command(f"mute test_mfa {arn} 14 break-glass user, reviewed").json()["text"]
    assert done.startswith(":mute: Mute #1: `test_mfa`")
    [mute] = bot.store.active_mutes()
    assert mute["reason"] == "break-glass user, reviewed" and mute["account"] == A1
    account_wide = bot.command(f"mute test_password account:{A1} policy managed by SSO").json()["text"]
    assert "until" in account_wide and bot.store.active_mutes()[-1]["resource"] == "account"
    assert "Mute #1 lifted" in bot.command("unmute 1").json()["text"]
    assert "No active mute #1" in bot.command("unmute 1").json()["text"]
    assert "Active mutes" in bot.command("unmute").json()["text"]


def test_status_after_an_audit(audited_bot):
    bot, _ = audited_bot
    assert "no audit yet" in bot.command("status").json()["text"]
    bot.command("audit")
    assert bot.fake.wait_for(lambda: report_messages(bot))
    status = bot.command("status").json()["text"]
    assert "last audit #1" in status and "1 critical" in status and "muted findings: 0" in status


def test_an_audit_that_crashes_is_reported_in_the_channel_and_the_next_one_runs(audited_bot, caplog):
    bot, _world = audited_bot
    auditor = bot.rt.audits.auditor
    working = auditor.run

    def crash(*args, **kwargs):
        raise RuntimeError("database is locked")

    auditor.run = crash
    assert bot.command("audit").status == 200
    assert bot.fake.wait_for(
        lambda: any("could not finish (RuntimeError)" in m["text"] for m in bot.fake.channel_messages(CHANNEL))
    )
    assert "RuntimeError: database is locked" in caplog.text  # the traceback is in the log, not in Slack
    auditor.run = working
    bot.command("audit")
    assert bot.fake.wait_for(lambda: len(report_messages(bot)) == 1)


def test_a_scheduled_audit_that_crashes_is_recorded_as_failed(audited_bot):
    bot, _world = audited_bot

    def crash(*args, **kwargs):
        raise RuntimeError("database is locked")

    bot.rt.audits.auditor.run = crash
    slot = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert bot.rt.jobs.fire("audit", slot) is True
    assert bot.store.db["job_runs"].get(("audit", "2026-11-23T06:00:00.000000Z"))["outcome"] == "failed: RuntimeError"
    assert any("could not finish" in m["text"] for m in bot.fake.channel_messages(CHANNEL))
