"""Settings: required variables, bad values, and the one-line exit 2 with no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config import VARIABLES, ConfigError, load

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": "s3cret",
    "IAMBOT_CHANNEL": "C0ALERTS",
    "IAMBOT_ADMINS": "U0ADMIN1, U0ADMIN2",
}


def test_good_settings_parse():
    settings = load(GOOD)
    assert settings.admins == {"U0ADMIN1", "U0ADMIN2"}
    assert settings.regions == ("us-east-1",) and settings.approvals == 1 and not settings.socket_mode
    assert "s3cret" not in repr(settings) and "xoxb" not in repr(settings)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "must start with xoxb-"),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is not set"),
        ({"IAMBOT_CHANNEL": "#alerts"}, "must be a channel id"),
        ({"IAMBOT_ADMINS": "alice"}, "is not a Slack user id"),
        ({"IAMBOT_ADMINS": ""}, "IAMBOT_ADMINS is not set"),
        ({"IAMBOT_APPROVALS": "3"}, "IAMBOT_APPROVALS='3' must be a whole number from 1 to 2"),
        ({"IAMBOT_SQS_QUEUE_URL": "my-queue"}, "is not an SQS queue URL"),
        ({"IAMBOT_SQS_MAX_RECEIVES": "0"}, "IAMBOT_SQS_MAX_RECEIVES='0' must be a whole number from 1 to 1000"),
        ({"IAMBOT_SQS_MAX_RECEIVES": "three"}, "IAMBOT_SQS_MAX_RECEIVES='three' must be a whole number from 1 to"),
        ({"IAMBOT_REGIONS": "eu-west-1,mars"}, "'mars' is not an AWS region"),
        ({"PORT": "http"}, "PORT='http' must be a whole number"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong"}, "must start with xapp-"),
        ({"IAMBOT_ACCOUNTS": "12345"}, "not a 12-digit account id"),
        ({"IAMBOT_AUDIT_CRON": "every day"}, "IAMBOT_AUDIT_CRON='every day' is not a crontab expression"),
        ({"IAMBOT_DIGEST_CRON": "0 25 * * *"}, "IAMBOT_DIGEST_CRON='0 25 \\* \\* \\*' is not a crontab"),
        ({"IAMBOT_FEED_SILENT_MINUTES": "5"}, "IAMBOT_FEED_SILENT_MINUTES='5' must be a whole number from 10 to 1440"),
        ({"IAMBOT_FEED_SILENT_MINUTES": "half an hour"}, "IAMBOT_FEED_SILENT_MINUTES='half an hour' must be a whole"),
        ({"IAMBOT_FEED_SILENT_MINUTES": "-30"}, "IAMBOT_FEED_SILENT_MINUTES='-30' must be a whole number from 10"),
    ],
)
def test_bad_settings_name_the_variable(change, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load({**GOOD, **change})


def test_accounts_and_crons():
    settings = load({**GOOD, "IAMBOT_ACCOUNTS": "111122223333, 444455556666", "IAMBOT_AUDIT_CRON": "30 5 * * 1-5"})
    assert settings.accounts == ("111122223333", "444455556666") and settings.audit_cron == "30 5 * * 1-5"
    assert load({**GOOD, "IAMBOT_ACCOUNTS": "organization"}).accounts == ("organization",)
    assert load(GOOD).digest_cron == "0 9 * * 1"


def test_sqs_max_receives_defaults_to_3():
    assert load(GOOD).sqs_max_receives == 3
    assert load({**GOOD, "IAMBOT_SQS_MAX_RECEIVES": "1000"}).sqs_max_receives == 1000


def test_feed_silent_minutes_defaults_to_30():
    assert load(GOOD).feed_silent_minutes == 30
    assert load({**GOOD, "IAMBOT_FEED_SILENT_MINUTES": " 45 "}).feed_silent_minutes == 45


def test_feed_silent_minutes_must_cover_two_lookup_polls():
    slow = {**GOOD, "IAMBOT_POLL_SECONDS": "901", "IAMBOT_FEED_SILENT_MINUTES": "30"}
    with pytest.raises(ConfigError, match=r"^IAMBOT_FEED_SILENT_MINUTES=30 must cover two LookupEvents polls"):
        load(slow)
    assert load({**slow, "IAMBOT_POLL_SECONDS": "900"}).poll_seconds == 900
    queue = "https://sqs.us-east-1.amazonaws.com/111122223333/iam-warden-events"
    assert load({**slow, "IAMBOT_SQS_QUEUE_URL": queue}).feed_silent_minutes == 30  # no polls with a queue


def test_bad_feed_silent_minutes_exits_2_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **GOOD, "IAMBOT_FEED_SILENT_MINUTES": "0"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: IAMBOT_FEED_SILENT_MINUTES='0' must be a whole number from 10 to 1440; it is minutes without a "
        "heartbeat or event after which feed_silent is raised (the queue gets a heartbeat every 5 minutes; in "
        "LookupEvents mode, minutes of failing polls)"
    ]


def test_socket_mode_needs_no_signing_secret():
    settings = load({**GOOD, "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": "xapp-1-abc"})
    assert settings.socket_mode


def test_regions_always_include_us_east_1_once():
    assert load({**GOOD, "IAMBOT_REGIONS": "eu-west-1, us-east-1"}).regions == ("us-east-1", "eu-west-1")


def test_missing_setting_exits_2_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **GOOD, "IAMBOT_ADMINS": "bob"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: IAMBOT_ADMINS: bob is not a Slack user id (U… or W…); it is comma-separated Slack user ids "
        "allowed to press the remediation buttons"
    ]
    assert "Traceback" not in done.stderr


def test_help_documents_commands_and_variables():
    done = subprocess.run([sys.executable, str(ROOT / "bot.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for word in ("replay", "serve", "IAMBOT_SQS_QUEUE_URL", "SLACK_SIGNING_SECRET", "AWS_ENDPOINT_URL"):
        assert word in done.stdout


def test_every_bad_setting_is_reported_at_once():
    bad = {**GOOD, "SLACK_BOT_TOKEN": "", "IAMBOT_CHANNEL": "#alerts", "IAMBOT_APPROVALS": "3", "PORT": "http"}
    with pytest.raises(ConfigError) as caught:
        load({**bad, "IAMBOT_REGIONS": "mars", "LOG_FORMAT": "xml", "IAMBOT_TRUSTED_ACCOUNTS": "42"})
    lines = str(caught.value).splitlines()
    assert [line.split()[0].split("=")[0].rstrip(":") for line in lines] == [
        "SLACK_BOT_TOKEN",
        "IAMBOT_CHANNEL",
        "IAMBOT_REGIONS",
        "LOG_FORMAT",
        "IAMBOT_APPROVALS",
        "IAMBOT_TRUSTED_ACCOUNTS",
        "PORT",
    ]


def test_command_line_lists_every_bad_setting_one_per_line_and_exits_2(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **GOOD, "IAMBOT_ADMINS": "bob", "IAMBOT_APPROVALS": "9"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("error: IAMBOT_ADMINS: bob is not a Slack user id")
    assert lines[1].startswith("IAMBOT_APPROVALS='9' must be a whole number from 1 to 2")
    assert len(lines) == 2


def test_dotenv_file_is_read_and_the_process_environment_wins(tmp_path):
    (tmp_path / ".env").write_text("IAMBOT_APPROVALS=2\nIAMBOT_CHANNEL=#from-the-file\nIAMBOT_ADMINS=bob\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **GOOD}
    env.pop("IAMBOT_ADMINS")  # only the file sets it: its bad value must be reported
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 2
    # IAMBOT_CHANNEL from the process (C0ALERTS) wins over the file's bad one; IAMBOT_ADMINS comes from the file
    assert done.stderr.strip().splitlines() == [
        "error: IAMBOT_ADMINS: bob is not a Slack user id (U… or W…); it is comma-separated Slack user ids "
        "allowed to press the remediation buttons"
    ]


def test_dotenv_example_lists_every_variable():
    example = (ROOT / ".env.example").read_text()
    names = {line.split("=", 1)[0] for line in example.splitlines() if line and not line.startswith("#")}
    assert names == {var.name for var in VARIABLES}


def test_version_is_printed_and_matches_pyproject():
    import tomllib

    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "--version"], capture_output=True, text=True, timeout=60
    )
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert done.returncode == 0 and done.stdout.strip() == f"IAM Warden {version}"


def test_routes_parse_into_channels_with_the_default_as_fallback():
    routes = load({**GOOD, "IAMBOT_ROUTES": " critical=C0INCIDENT , account:111122223333=C0TEAM,HIGH=C0INCIDENT"})
    routing = routes.routing
    assert routing.channels() == ("C0ALERTS", "C0INCIDENT", "C0TEAM")
    assert routing.channel("critical", "444455556666") == "C0INCIDENT"
    assert routing.channel("high", None) == "C0INCIDENT"
    assert routing.channel("medium", "444455556666") == "C0ALERTS"
    assert routing.channel("critical", "111122223333") == "C0TEAM"  # the account route wins
    assert load(GOOD).routing.channels() == ("C0ALERTS",)


def test_every_bad_route_is_reported_at_once_with_the_other_bad_settings():
    raw = "critical=#incident,urgent=C0X,account:12345=C0TEAM,high,high=C0A,high=C0B,medium=C0M,medium=C0M"
    with pytest.raises(ConfigError) as caught:
        load({**GOOD, "IAMBOT_ROUTES": raw, "IAMBOT_APPROVALS": "3"})
    assert str(caught.value).splitlines() == [
        "IAMBOT_ROUTES: 'critical=#incident': #incident is not a channel id (C…; a name will not do)",
        "IAMBOT_ROUTES: 'urgent=C0X': urgent is not a severity (critical, high, medium, low, info) or "
        "account:<12-digit id>",
        "IAMBOT_ROUTES: 'account:12345=C0TEAM': 12345 is not a 12-digit account id",
        "IAMBOT_ROUTES: 'high' is not KEY=CHANNEL, KEY being a severity (critical, high, medium, low, info) or "
        "account:<12-digit id>",
        "IAMBOT_ROUTES: high is routed twice (C0A and C0B)",
        "IAMBOT_APPROVALS='3' must be a whole number from 1 to 2; it is how many different admins must press a "
        "destructive button before it runs (1 or 2)",
    ]
