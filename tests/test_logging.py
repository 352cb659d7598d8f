"""Logging as the bot configures it at start-up: LOG_LEVEL for the bot's loggers only, and no body ever logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot as bot_module
from app.logs import OWN_LOGGERS, configure_logging
from config import ConfigError, load
from tests.conftest import post, sign
from tests.handlers.test_buttons import iam_user, posted_alert, wait_action

PASSWORD = "hunter2-sup3r-s3cret"  # a marker that must never reach the log
BODY_MARKER = "forged-body-marker-"
SERVE_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "secret",
    "IAMBOT_CHANNEL": "C0ALERTS",
    "IAMBOT_ADMINS": "U0ADMIN1",
}


class Capture(logging.Handler):
    """Every record that reaches the root logger's handlers, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(level=1)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def capture() -> Iterator[Capture]:
    """A capturing handler on the root logger; logging's levels and handlers are restored afterwards."""
    root = logging.getLogger()
    loggers = [root, *(v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger))]
    levels = {logger: logger.level for logger in loggers}
    handlers = list(root.handlers)
    handler = Capture()
    root.addHandler(handler)
    yield handler
    root.handlers[:] = handlers
    for logger, level in levels.items():
        logger.setLevel(level)
    for logger in logging.root.manager.loggerDict.values():  # made during the test: back to inheriting
        if isinstance(logger, logging.Logger) and logger not in levels:
            logger.setLevel(logging.NOTSET)


def started(monkeypatch: pytest.MonkeyPatch, **env: str):
    """Settings loaded and logging configured exactly as `bot.py serve` does before it builds the bot."""
    for key, value in {**SERVE_ENV, **env}.items():
        monkeypatch.setenv(key, value)
    settings = load(serving=True)
    configure_logging(settings)
    return settings


def test_library_log_level_is_a_setting(monkeypatch):
    assert load(SERVE_ENV).library_log_level == "INFO"
    assert load({**SERVE_ENV, "IAMBOT_LIBRARY_LOG_LEVEL": "debug"}).library_log_level == "DEBUG"
    with pytest.raises(ConfigError, match="IAMBOT_LIBRARY_LOG_LEVEL='LOUD' must be DEBUG, INFO, WARNING or ERROR"):
        load({**SERVE_ENV, "IAMBOT_LIBRARY_LOG_LEVEL": "loud"})


WATCHED = ("iam_warden", "ingest.sqs_worker", "handlers.actions", "botocore", "urllib3", "slack_bolt.App", "waitress")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LOG_LEVEL": "DEBUG"}, ["DEBUG", "DEBUG", "DEBUG", "INFO", "INFO", "INFO", "INFO"]),
        ({"LOG_LEVEL": "WARNING"}, ["WARNING", "WARNING", "WARNING", "INFO", "INFO", "INFO", "INFO"]),
        (
            {"LOG_LEVEL": "INFO", "IAMBOT_LIBRARY_LOG_LEVEL": "DEBUG"},
            ["INFO", "INFO", "INFO", "DEBUG", "DEBUG", "DEBUG", "DEBUG"],
        ),
    ],
)
def test_main_gives_log_level_to_the_bots_loggers_only(monkeypatch, capture, env, expected):
    seen: list[list[str]] = []

    def serve(settings) -> int:
        seen.append([logging.getLevelName(logging.getLogger(name).getEffectiveLevel()) for name in WATCHED])
        return 0

    monkeypatch.setattr(bot_module, "serve", serve)
    for key, value in {**SERVE_ENV, **env}.items():
        monkeypatch.setenv(key, value)
    assert bot_module.main(["serve"]) == 0
    assert seen == [expected]


def test_main_configures_logging_for_audit_replay_and_demo(monkeypatch, capture):
    import sandbox.demo

    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    levels: dict[str, tuple[int, int]] = {}

    def record(name: str):
        def run(*_args, **_kwargs) -> int:
            levels[name] = (logging.getLogger("ingest").getEffectiveLevel(), logging.getLogger("botocore").level)
            return 0

        return run

    monkeypatch.setattr(bot_module.audit_cli, "run_audit", record("audit"))
    monkeypatch.setattr(bot_module, "replay", record("replay"))
    monkeypatch.setattr(sandbox.demo, "run_demo", record("demo"))
    for argv in (["audit"], ["replay", "x.json"], ["demo", "--once"]):
        assert bot_module.main(argv) == 0
    assert levels == {
        "audit": (logging.WARNING, logging.WARNING),
        "replay": (logging.WARNING, logging.WARNING),
        "demo": (logging.INFO, logging.INFO),
    }


@pytest.mark.parametrize("library_level", ["", "DEBUG"])
def test_debug_keeps_sqs_message_bodies_out_of_the_log(monkeypatch, capture, aws, library_level):
    started(monkeypatch, LOG_LEVEL="DEBUG", IAMBOT_LIBRARY_LOG_LEVEL=library_level)
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"detail": {"requestParameters": {"password": PASSWORD}}}))
    assert sqs.receive_message(QueueUrl=url)["Messages"]
    logging.getLogger("ingest.sqs_worker").debug("own debug line")
    assert "own debug line" in capture.text  # LOG_LEVEL=DEBUG reaches the bot's own loggers
    # botocore dumps the message only when the library variable explicitly asks for it
    assert (PASSWORD in capture.text) == (library_level == "DEBUG")


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING"])
def test_forged_5mb_body_and_signed_password_leave_no_trace(monkeypatch, capture, make_bot, aws, level):
    started(monkeypatch, LOG_LEVEL=level)
    bot = make_bot(session=aws)
    form = "application/x-www-form-urlencoded"
    forged = ("command=%2Fiam&text=" + BODY_MARKER * 300_000)[: 5 * 1024 * 1024]
    small_forged = "command=%2Fiam&text=" + BODY_MARKER * 10
    statuses = [
        post(bot.url, forged, sign("another body"), form).status,
        post(bot.url, small_forged, sign("another body"), form).status,
    ]
    reply = bot.command(PASSWORD)  # a user typing a secret after /iam: echoed back to them, never logged
    text = capture.text
    assert BODY_MARKER not in text
    assert PASSWORD not in text.lower()
    assert statuses == [413, 401]
    assert reply.status == 200 and PASSWORD in reply.json()["text"]
    assert "a body over 1048576 bytes" in text and "a bad or expired Slack signature" in text  # the capture is live


def test_handler_lines_follow_log_level_not_the_library_level(monkeypatch, capture, make_bot, aws):
    started(monkeypatch, LOG_LEVEL="INFO", IAMBOT_LIBRARY_LOG_LEVEL="WARNING")
    iam = aws.client("iam")
    iam_user(iam, "alice", admin=True)
    iam_user(iam, "bob", admin=True)
    bot = make_bot(session=aws)
    alert = posted_alert(bot)
    bot.click(alert, "iam_detach_policy", "U0ADMIN1")
    assert [a.state for a in wait_action(bot, alert)] == ["done"]
    line = f"INFO handlers.actions: iam_detach_policy on alert {alert.id} by U0ADMIN1: done"
    assert bot.fake.wait_for(lambda: line in capture.lines), capture.lines


def test_every_package_of_the_bot_follows_log_level():
    """A package missing from OWN_LOGGERS would log at the library level: its lines would vanish at LOG_LEVEL=DEBUG
    or leak at a library DEBUG. Every shipped package and module of the bot is listed."""
    root = Path(__file__).resolve().parent.parent
    not_the_bot = {"tests", "bench", "scripts", "deploy", "docs", "samples"}
    packages = {p.name for p in root.iterdir() if (p / "__init__.py").exists()} - not_the_bot
    assert {"app", "storage", "detections"} <= packages  # the scan sees the packages
    assert packages | {"config", "iam_warden"} <= set(OWN_LOGGERS)


JSON_LOGGING = """
import logging
from app.logs import configure_logging
from config import load
configure_logging(load(serving=False))
logging.getLogger("ingest.pipeline").warning("dead letter %s from %s", 7, "sqs")
try:
    raise ValueError("boom")
except ValueError:
    logging.getLogger("handlers.actions").exception("iam_detach_policy on alert 3 crashed")
"""


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_log_format_json_writes_one_object_per_line(log_format):
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {"PATH": "/usr/bin:/bin", "LOG_FORMAT": log_format}
    done = subprocess.run(
        [sys.executable, "-c", JSON_LOGGING], env=env, capture_output=True, text=True, cwd=root, timeout=60
    )
    assert done.returncode == 0, done.stderr
    if log_format == "text":
        assert done.stderr.splitlines()[0].endswith("WARNING ingest.pipeline: dead letter 7 from sqs")
        return
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["level"], line["logger"], line["message"]) for line in lines] == [
        ("WARNING", "ingest.pipeline", "dead letter 7 from sqs"),
        ("ERROR", "handlers.actions", "iam_detach_policy on alert 3 crashed"),
    ]
    assert lines[1]["exception"].startswith("Traceback") and "ValueError: boom" in lines[1]["exception"]
    assert lines[0]["time"].endswith("+00:00")


def test_bad_log_format_is_a_setting_error():
    with pytest.raises(ConfigError, match="LOG_FORMAT='xml' must be text or json"):
        load({**SERVE_ENV, "LOG_FORMAT": "xml"})


def test_start_up_logs_no_bolt_warning(monkeypatch, capture, tmp_path, fake_slack):
    """Bolt reads SLACK_BOT_TOKEN from the environment next to the given client and warned "`token` will be
    unused" at every start; the wiring keeps that noise out, and other Bolt warnings still come through."""
    from app.wiring import build
    from tests.conftest import settings as test_settings

    started(monkeypatch, LOG_LEVEL="INFO")
    build(test_settings(tmp_path, fake_slack)).store.close()
    assert [line for line in capture.lines if "slack_bolt" in line] == []
    logging.getLogger("slack_bolt.App").warning("As you gave `client` as well, `token` will be unused.")
    assert any("slack_bolt.App" in line for line in capture.lines)  # outside build() the logger is untouched
