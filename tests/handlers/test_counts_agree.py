"""One open-findings figure everywhere: `/iam status`, the audit report (message and JSON file) and the digest
show the same counts with the same meaning (the latest audit's failing results, muted ones not counted), always
listed critical -> info. Over signed HTTP, the real collector on moto seeded as the sandbox is, where one check
fails several times on one resource (the password policy, once per unmet requirement): the case in which
`/iam status` used to say 7 medium against the report's 12."""

from __future__ import annotations

import json
import re

from core.severity import Severity
from core.states import FindingState
from sandbox import seed
from tests.conftest import CHANNEL
from tests.handlers.test_audit_commands import answer

COUNTS = r"((?:\d+ (?:critical|high|medium|low|info)(?:, )?)+)"


def parsed(text: str) -> list[tuple[str, int]]:
    """`3 critical, 20 medium` -> [("critical", 3), ("medium", 20)], in the order written."""
    return [(s, int(n)) for n, s in re.findall(r"(\d+) (critical|high|medium|low|info)", text)]


def posted(bot, prefix: str) -> list[dict]:
    return [m for m in bot.fake.channel_messages(CHANNEL) if m["text"].startswith(prefix)]


def test_status_report_and_digest_show_the_same_counts_critical_first(make_bot, aws):
    seeded = seed.seed(aws)
    bot = make_bot(session=aws, accounts=(seeded.account,))
    ci = f"arn:aws:iam::{seeded.account}:user/ci-deployer"
    assert ":mute: Mute #1" in answer(bot, f"mute old_access_keys {ci} 30 rotation planned")

    assert bot.command("audit").status == 200
    uploads = bot.fake.uploads  # both files uploaded and shared (content and channel known)
    assert bot.fake.wait_for(
        lambda: posted(bot, "IAM audit") and len(uploads) == 2 and all(u.get("channel") for u in uploads.values()),
        timeout=120,
    )
    [report] = posted(bot, "IAM audit")
    files = {u["filename"]: u for u in bot.fake.uploads.values()}
    findings = json.loads(files["iam-audit-1.json"]["content"])["findings"]
    failing = [f for f in findings if f["status"] == "fail"]
    listed = {s.value: sum(1 for f in failing if f["severity"] == s) for s in Severity}
    expected = [(s, n) for s, n in listed.items() if n]
    assert any(f["status"] == "muted" for f in findings)  # the mute hid something: not counted anywhere
    # The report: its message text and its headline say one figure per line of its JSON file, critical first.
    assert parsed(report["text"]) == expected
    assert parsed(report["blocks"][0]["text"]["text"]) == expected

    status = bot.command("status").json()["text"]
    match = re.search(rf"last audit #1 finished \S+: {COUNTS} \(its failing results, muted ones not counted", status)
    assert match, status
    assert parsed(match.group(1)) == expected

    assert bot.command("digest 1").status == 200
    assert bot.fake.wait_for(lambda: posted(bot, "IAM Warden digest"))
    [digest] = posted(bot, "IAM Warden digest")
    trend = " ".join(str(f["text"]) for b in digest["blocks"] for f in b.get("fields", []))
    match = re.search(rf"\*Open findings \(last audit\)\*\n(\d+): {COUNTS}", trend)
    assert match, trend
    assert int(match.group(1)) == len(failing) and parsed(match.group(2)) == expected

    # Why the figures used to differ: the store keeps one finding per check and resource (and keeps muted ones),
    # so counting its rows gave another number than the report's lines.
    assert len(bot.store.findings(FindingState.OPEN)) != len(failing)
    ranks = [Severity(s).rank for s, _ in expected]
    assert ranks == sorted(ranks) and len(ranks) >= 3
