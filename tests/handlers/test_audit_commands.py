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
    bot = make_bot(session=aws, checks=CHECKS)
    world = World({A1: [user(A1, "bad-alice"), user(A1, "carol")]})
    auditor = bot.rt.audits.auditor
    auditor.collect, auditor.accounts_setting = world.collect, (A1,)
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
    finding = next(f for f in bot.store.findings("open") if f.resource.endswith("bad-alice"))
    mute_click(bot, finding.id, OUTSIDER, report["ts"])
    assert bot.fake.wait_for(lambda: bot.fake.ephemeral)
    assert "Only IAM Warden admins" in bot.fake.ephemeral[0]["text"] and bot.store.active_mutes() == []
    mute_click(bot, finding.id, "U0ADMIN1", report["ts"])
    assert bot.fake.wait_for(lambda: bot.store.active_mutes())
    [mute] = bot.store.active_mutes()
    assert (mute.check_id, mute.resource, mute.muted_by) == ("test_mfa", finding.resource, "U0ADMIN1")
    mute_click(bot, finding.id, "U0ADMIN2", report["ts"])
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
    done = answer(bot, f"mute test_mfa {arn} 14 break-glass user, reviewed")
    assert done.startswith(":mute: Mute #1: `test_mfa`")
    [mute] = bot.store.active_mutes()
    assert mute.reason == "break-glass user, reviewed" and mute.account == A1
    account_wide = answer(bot, f"mute test_password account:{A1} policy managed by SSO")
    assert "until" in account_wide and bot.store.active_mutes()[-1].resource == "account"
    assert "Mute #1 lifted" in answer(bot, "unmute 1")
    assert "No active mute #1" in answer(bot, "unmute 1")
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


# --- /iam mute and unmute arguments: hostile input gets a one-line usage answer and stores nothing -------------

ARN_A1 = f"arn:aws:iam::{A1}:user/bad-alice"


@pytest.fixture
def catalog_bot(make_bot, aws):
    """The bot with the real check catalog (so `admin_principals` is a known check)."""
    return make_bot(session=aws)


def mutes_stored(bot) -> int:
    return bot.store.db["mutes"].count


def answer(bot, text: str) -> str:
    """What the user is told: in the command's HTTP reply, or (after a write) through its response_url."""
    before = len(bot.fake.responses)
    reply = bot.command(text)
    assert reply.status == 200, (text[:80], reply.status, reply.body[:200])
    if reply.body:
        return reply.json()["text"]
    assert bot.fake.wait_for(lambda: len(bot.fake.responses) > before), text[:80]
    return bot.fake.responses[before]["text"]


def problem(said: str) -> str:
    """What an answer says before its usage line (the usage line itself names every argument)."""
    return said.split("Usage:")[0]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("mute admin_principals account:123456789012 ² r", "DAYS"),
        ("mute admin_principals account:123456789012 -5 rotation is scheduled", "DAYS"),
        ("mute admin_principals arn:aws:iam::123456789012:user/" + "a" * 10_000 + " 14 why", "TARGET"),
        ("mute admin_principals tag:= 14 why", "TARGET"),
        ("unmute ²", "MUTE_ID"),
        ("unmute 99999999999999999999999", "MUTE_ID"),
    ],
)
def test_the_issues_inputs_get_a_usage_answer_and_store_nothing(catalog_bot, text, named):
    bot = catalog_bot
    kept = bot.store.add_mute("admin_principals", "123456789012", "account", "kept", "U0ADMIN1", 30)
    said = answer(bot, text)
    assert named in problem(said) and "Usage: `/iam " in said and "\n" not in said
    assert mutes_stored(bot) == 1 and [m.id for m in bot.store.active_mutes()] == [kept.id]


def test_every_bad_mute_argument_is_named_and_nothing_is_stored(catalog_bot):
    bot = catalog_bot
    acct = "account:123456789012"
    cases = {
        f"mute admin_principals {acct} 0 why": "DAYS",
        f"mute admin_principals {acct} 366 why": "DAYS",
        f"mute admin_principals {acct} 99999999999999999999 why": "DAYS",
        f"mute admin_principals {acct} ٣ why": "DAYS",  # an Arabic-Indic digit: no int() of it is stored
        f"mute admin_principals {acct} +7 why": "DAYS",
        "mute admin_principals tag:team= 14 why": "TARGET",
        "mute admin_principals tag:=ci 14 why": "TARGET",
        f"mute admin_principals tag:{'k' * 129}=v 14 why": "TARGET",
        f"mute admin_principals tag:team={'v' * 257} 14 why": "TARGET",
        "mute admin_principals tag:te<am>=ci 14 why": "TARGET",
        "mute admin_principals account:12345678901 14 why": "TARGET",
        "mute admin_principals account:" + "".join(chr(0xFF10 + int(d)) for d in "123456789012") + " 14 why": "TARGET",
        "mute admin_principals arn:aws:iam::12345678901x:user/a 14 why": "TARGET",
        "mute admin_principals arn:aws:iam::123456789012:user/é 14 why": "TARGET",
        "mute admin_principals arn:aws:iam::123456789012:user/a\x00b 14 why": "TARGET",
        f"mute admin_principals arn:aws:iam::123456789012:user/{'a' * 1100} 14 why": "TARGET",
        f"mute admin_principals {acct} 14 " + "word " * 70: "REASON",
        f"mute admin_principals {acct} 14 bad\x07bell": "REASON",
        f"mute {'x' * 5000} {acct} 14 why": "CHECK",
    }
    for text, named in cases.items():
        said = answer(bot, text)
        assert named in problem(said) and "Usage: `/iam mute" in said and "\n" not in said, (text[:80], said)
        assert len(said) < 600, (text[:80], len(said))  # the answer never echoes a huge argument back
    assert mutes_stored(bot) == 0
    for text in ("unmute #", "unmute 1 2", "unmute -1", "unmute 1234567890", "unmute #²"):
        said = answer(bot, text)
        assert "MUTE_ID" in problem(said) and "Usage: `/iam unmute MUTE_ID`" in said and "\n" not in said, (text, said)


def test_good_mute_targets_still_work(catalog_bot):
    bot = catalog_bot
    trail = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail"
    role = "arn:aws:iam::123456789012:role/path/with!odd$chars/deploy"
    assert answer(bot, "mute admin_principals tag:team=ci-é:/+-@.= 365 CI users sign in with SSO").startswith(
        ":mute: Mute #1"
    )
    assert answer(bot, f"mute cloudtrail_delivering {trail} 1 moving the trail today").startswith(":mute: Mute #2")
    assert answer(bot, f"mute admin_principals {role} 2fa reviewed").startswith(":mute: Mute #3")
    rows = {m.id: m for m in bot.store.active_mutes()}
    assert set(rows) == {1, 2, 3}
    assert (rows[1].account, rows[1].resource, rows[1].reason) == (
        "*",
        "tag:team=ci-é:/+-@.=",
        "CI users sign in with SSO",
    )
    assert (rows[2].account, rows[2].resource) == ("123456789012", trail)
    assert rows[3].reason == "2fa reviewed"  # a reason starting with digits and letters is not DAYS
    days = {i: (rows[i].expires_at - rows[i].created_at).days for i in rows}
    assert days == {1: 365, 2: 1, 3: 30}
    assert "Mute #2 lifted" in answer(bot, "unmute #2")
    assert sorted(m.id for m in bot.store.active_mutes()) == [1, 3]


FUZZ_PIECES = ["\u00a0", "\u200b", "\u202e", "\x00", "\x1b[31m", "<!channel>", "`", "=", "🙂", "a\u0301", "é" * 3000]
DIGIT_ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0xFF10, 0x1D7CE]  # ASCII, Arabic-Indic, Persian, Devanagari, fullwidth, math


def fuzz_number(rng) -> str:
    """A number as a hostile user might type one: huge, negative, in another script, superscript, with a #."""
    shape = rng.randrange(5)
    if shape == 0:
        return str(rng.randint(-(10**30), 10**30))
    if shape == 1:
        zero = rng.choice(DIGIT_ZEROS)
        return "".join(chr(zero + int(d)) for d in str(rng.randint(0, 10 ** rng.randint(1, 12))))
    if shape == 2:
        return "".join(rng.choices("¹²³⁴⁵⁶⁷⁸⁹⁰½", k=rng.randint(1, 4)))
    if shape == 3:
        return rng.choice(["#", "+", "-", ""]) + str(rng.randint(0, 400))
    return rng.choice(["0", "366", "365", "1", "#0", "-0"])


def fuzz_word(rng) -> str:
    shape = rng.randrange(4)
    if shape == 0:
        return fuzz_number(rng)
    if shape == 1:
        return "".join(rng.choices(FUZZ_PIECES, k=rng.randint(1, 3)))
    if shape == 2:
        char = chr(rng.choice([rng.randint(0x21, 0xD7FF), rng.randint(0xE000, 0x2FFFF)]))  # no lone surrogates
        return char * rng.randint(1, 600)
    return rng.choice(["tag:", "tag:=", "tag:k=", "tag:=v", "account:", "arn:aws:iam::", "arn:aws:iam::123456789012:"])


def fuzz_text(rng) -> str:
    """`mute CHECK TARGET [DAYS] REASON` or `unmute MUTE_ID`, each part either plausible or hostile."""
    if rng.random() < 0.4:
        words = ["unmute", fuzz_number(rng) if rng.random() < 0.8 else fuzz_word(rng)]
        words += [fuzz_word(rng) for _ in range(rng.choice([0, 0, 0, 1]))]
    else:
        check = rng.choice(["admin_principals", "admin_principals", fuzz_word(rng)])
        target = rng.choice(["account:123456789012", "tag:team=ci", ARN_A1, fuzz_word(rng), fuzz_word(rng)])
        days = [rng.choice([fuzz_number(rng), fuzz_number(rng), "14"])] if rng.random() < 0.7 else []
        reason = [rng.choice(["reviewed", fuzz_word(rng)]) for _ in range(rng.randint(0, 2))]
        words = ["mute", check, target, *days, *reason]
    return rng.choice([" ", "  ", "\t", "\u00a0", "\u3000"]).join(words)


def test_seeded_fuzz_of_mute_and_unmute_never_errors_and_stores_nothing_on_a_usage_answer(catalog_bot):
    import random

    bot = catalog_bot
    kept = bot.store.add_mute("admin_principals", "123456789012", "account", "kept", "U0ADMIN1", 30)
    rng = random.Random(20261201)
    usage_answers = 0
    for _ in range(200):
        text = fuzz_text(rng)
        before = (mutes_stored(bot), [m.id for m in bot.store.active_mutes()])
        said = answer(bot, text)
        if said.startswith((":mute:", ":loud_sound:")):
            continue
        usage_answers += 1
        assert "\n" not in said and len(said) < 600, (text[:80], said[:200])
        assert (mutes_stored(bot), [m.id for m in bot.store.active_mutes()]) == before, (text[:80], said)
    assert usage_answers > 150
    assert kept.id in [m.id for m in bot.store.active_mutes()]
    for mute in bot.store.db["mutes"].rows:  # whatever was stored is bounded and well formed
        lasts = datetime.fromisoformat(mute["expires_at"]) - datetime.fromisoformat(mute["created_at"])
        assert 1 <= lasts.days <= 365 and 0 < len(mute["reason"]) <= 300, mute
        assert mute["resource"] == "account" or mute["resource"].startswith(("arn:", "tag:")), mute
        assert len(mute["resource"]) <= 1024 and mute["resource"].isprintable() and " " not in mute["resource"], mute


def test_an_audit_that_reached_no_account_says_why_instead_of_a_clean_report(audited_bot):
    bot, world = audited_bot
    world.unreachable.add(A1)
    assert bot.command("audit").status == 200
    assert bot.fake.wait_for(
        lambda: any("could not audit any account" in m["text"] for m in bot.fake.channel_messages(CHANNEL))
    )
    [said] = [m["text"] for m in bot.fake.channel_messages(CHANNEL) if "could not audit any account" in m["text"]]
    assert f"cannot assume arn:aws:iam::{A1}:role/IAMWardenMember" in said
    assert report_messages(bot) == [] and bot.fake.uploads == {}  # no "no open findings" report, no files
    slot = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert bot.rt.jobs.fire("audit", slot) is True
    outcome = bot.store.db["job_runs"].get(("audit", "2026-11-23T06:00:00.000000Z"))["outcome"]
    assert outcome.startswith("failed"), outcome


def test_mute_and_unmute_are_written_after_the_ack(audited_bot, monkeypatch):
    """Slack gets the command's HTTP answer before the store is written (a slow disk cannot break the 3 s ack)."""
    bot, _ = audited_bot
    answered = threading.Event()
    written_after_the_answer: list[bool] = []

    def gate(write):
        def gated(*args, **kwargs):
            # set by the test once it holds the HTTP reply; a write inside the ack waits here in vain and sees False
            written_after_the_answer.append(answered.wait(3))
            return write(*args, **kwargs)

        return gated

    monkeypatch.setattr(bot.store, "add_mute", gate(bot.store.add_mute))
    monkeypatch.setattr(bot.store, "remove_mute", gate(bot.store.remove_mute))
    for text, said in (
        (f"mute test_mfa arn:aws:iam::{A1}:user/bad-alice 14 reviewed", ":mute: Mute #1"),
        ("unmute 1", ":loud_sound: Mute #1 lifted"),
    ):
        answered.clear()
        before, writes = len(bot.fake.responses), len(written_after_the_answer)
        reply = bot.command(text)
        answered.set()
        assert bot.fake.wait_for(lambda n=writes: len(written_after_the_answer) > n)
        assert written_after_the_answer[-1], f"{text.split()[0]} was written before Slack had the ack"
        assert reply.status == 200 and reply.body == ""  # the ack itself says nothing: the answer follows the write
        assert bot.fake.wait_for(lambda n=before: len(bot.fake.responses) > n)
        assert bot.fake.responses[before]["text"].startswith(said)
    assert written_after_the_answer == [True, True]  # one write each
    assert bot.store.active_mutes() == []
