"""`bot.py check`: one line per check against the Slack stand-in and moto; exit 0 when all pass, 1 when any fails.

moto implements neither iam:SimulatePrincipalPolicy nor cloudtrail:LookupEvents, so those calls are answered by
botocore's Stubber on the bot's own (cached) clients; everything else is the real stand-in and moto.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from botocore.stub import ANY, Stubber

from app.checkup import check
from app.wiring import aws_sessions, slack_client
from aws.permissions import ACTIONS
from aws.selfcheck import principal_arn
from core.routing import parse_routes
from tests.conftest import BOT_TOKEN, CHANNEL, SIGNING_SECRET, settings

ROOT = Path(__file__).resolve().parents[2]


def simulated(stubber: Stubber, source: str, denied: tuple[str, ...] = ()) -> None:
    """Answer one SimulatePrincipalPolicy call for every declared action, asserting what the bot asked."""
    results = [
        {"EvalActionName": a, "EvalResourceName": "*", "EvalDecision": "implicitDeny" if a in denied else "allowed"}
        for a in sorted(ACTIONS)
    ]
    expected = {"PolicySourceArn": source, "ActionNames": sorted(ACTIONS), "ContextEntries": ANY}
    stubber.add_response("simulate_principal_policy", {"EvaluationResults": results, "IsTruncated": False}, expected)


def test_every_check_passes_one_line_each(tmp_path, fake_slack, aws):
    queue = aws.client("sqs").create_queue(QueueName="iam-warden-events")["QueueUrl"]
    config = settings(tmp_path, fake_slack, sqs_queue_url=queue)
    sessions = aws_sessions(config, aws)
    identity = sessions.identity()["Arn"]
    out = io.StringIO()
    with Stubber(sessions.client("iam")) as stubber:
        simulated(stubber, identity)
        code = check(config, slack_client(config), lambda: sessions, out)
        stubber.assert_no_pending_responses()
    lines = out.getvalue().splitlines()
    assert code == 0, lines
    assert lines == [
        "ok    Slack token: team test, bot user iam-warden (UBOT)",
        f"ok    Slack channel {CHANNEL}: #{CHANNEL.lower()}, the bot is a member",
        f"ok    AWS identity: {identity} (account {sessions.own_account()})",
        f"ok    event queue: {queue} answers (0 message(s) waiting)",
        f"ok    AWS permissions: all {len(ACTIONS)} actions of aws/permissions.py allowed",
    ]
    assert [c.method for c in fake_slack.calls] == ["auth.test", "conversations.info"]


def test_each_failure_is_named_and_exits_1(tmp_path, fake_slack, aws):
    fake_slack.outside_channels.add(CHANNEL)
    config = settings(tmp_path, fake_slack, sqs_queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/gone")
    sessions = aws_sessions(config, aws)
    out = io.StringIO()
    with Stubber(sessions.client("iam")) as stubber:
        simulated(stubber, sessions.identity()["Arn"], denied=("iam:ListRoles", "sqs:DeleteMessage"))
        code = check(config, slack_client(config), lambda: sessions, out)
    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines[0].startswith("ok    Slack token")
    assert (
        lines[1] == f"FAIL  Slack channel {CHANNEL}: the bot is not a member of #c0alerts: invite it (/invite @the-bot)"
    )
    assert lines[2].startswith("ok    AWS identity")
    assert lines[3].startswith("FAIL  event queue: ") and "NonExistentQueue" in lines[3]
    assert lines[4] == f"FAIL  AWS permissions: 2 of {len(ACTIONS)} actions denied: iam:ListRoles, sqs:DeleteMessage"


def test_a_rejected_token_and_an_unknown_channel_fail(tmp_path, fake_slack, aws):
    fake_slack.missing_channels.add(CHANNEL)
    config = settings(tmp_path, fake_slack, bot_token="xoxb-revoked")
    sessions = aws_sessions(config, aws)
    out = io.StringIO()
    # moto has no LookupEvents either: the stubbed CloudTrail client answers that one call
    with Stubber(sessions.client("iam")) as stubber, Stubber(sessions.client("cloudtrail")) as trail:
        simulated(stubber, sessions.identity()["Arn"])
        trail.add_response("lookup_events", {"Events": []}, {"MaxResults": 1})
        assert check(config, slack_client(config), lambda: sessions, out) == 1
        trail.assert_no_pending_responses()
    lines = out.getvalue().splitlines()
    assert lines[0] == "FAIL  Slack token: Slack answered invalid_auth: check SLACK_BOT_TOKEN"
    assert lines[1] == f"FAIL  Slack channel {CHANNEL}: Slack answered invalid_auth"
    assert lines[3] == "ok    event history: CloudTrail LookupEvents answers in us-east-1 (no queue set: the bot polls)"
    assert "xoxb-revoked" not in out.getvalue()


def test_an_assumed_role_is_simulated_as_its_role():
    assert principal_arn("arn:aws:sts::111122223333:assumed-role/IAMWarden/i-0abc") == (
        "arn:aws:iam::111122223333:role/IAMWarden"
    )
    assert principal_arn("arn:aws:iam::111122223333:user/warden") == "arn:aws:iam::111122223333:user/warden"


def test_command_line_check_with_aws_unreachable_exits_1_and_prints_no_secret(tmp_path, fake_slack):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "IAMBOT_CHANNEL": CHANNEL,
        "IAMBOT_ADMINS": "U0ADMIN1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: no call leaves the machine
        "AWS_MAX_ATTEMPTS": "1",
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "check"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stderr
    assert [line.split(":")[0] for line in lines] == [
        "ok    Slack token",
        f"ok    Slack channel {CHANNEL}",
        "FAIL  AWS identity",
        "FAIL  event history",
    ]
    assert "AWS endpoint unreachable" in lines[2]
    for secret in (BOT_TOKEN, SIGNING_SECRET, "testing-secret-key"):
        assert secret not in done.stdout + done.stderr


def test_every_routed_channel_is_checked_and_one_the_bot_is_not_in_fails(tmp_path, fake_slack, aws):
    fake_slack.outside_channels.add("C0TEAM")
    routes, _ = parse_routes(f"critical=C0INCIDENT,high=C0INCIDENT,account:111122223333=C0TEAM,low={CHANNEL}")
    config = settings(tmp_path, fake_slack, routes=routes)
    sessions = aws_sessions(config, aws)
    out = io.StringIO()
    with Stubber(sessions.client("iam")) as stubber, Stubber(sessions.client("cloudtrail")) as trail:
        simulated(stubber, sessions.identity()["Arn"])
        trail.add_response("lookup_events", {"Events": []}, {"MaxResults": 1})
        assert check(config, slack_client(config), lambda: sessions, out) == 1
    lines = out.getvalue().splitlines()
    assert lines[1:4] == [
        f"ok    Slack channel {CHANNEL}: #{CHANNEL.lower()}, the bot is a member",
        "ok    Slack channel C0INCIDENT: #c0incident, the bot is a member",
        "FAIL  Slack channel C0TEAM: the bot is not a member of #c0team: invite it (/invite @the-bot)",
    ]
    assert [c.args["channel"] for c in fake_slack.calls_of("conversations.info")] == [CHANNEL, "C0INCIDENT", "C0TEAM"]
    assert all(line.startswith("ok") for line in lines[4:])
