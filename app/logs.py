"""Logging for the bot: its own loggers at LOG_LEVEL, every library's at IAMBOT_LIBRARY_LOG_LEVEL."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from config import Settings

# The bot's own loggers follow LOG_LEVEL. Everything else follows IAMBOT_LIBRARY_LOG_LEVEL: at DEBUG these
# libraries log whole payloads (botocore SQS message bodies, urllib3 and slack_sdk requests, Bolt request bodies).
OWN_LOGGERS = (
    "iam_warden",
    "app",
    "audit",
    "aws",
    "checks",
    "config",
    "core",
    "delivery",
    "detections",
    "handlers",
    "hunt",
    "iam",
    "ingest",
    "sandbox",
    "slackui",
    "standins",
    "storage",
)
LIBRARY_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "slack_sdk", "slack_bolt", "waitress", "apscheduler")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json): time, level, logger, message, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(settings: Settings) -> None:
    """Log to stderr: LOG_LEVEL for the bot's own loggers, IAMBOT_LIBRARY_LOG_LEVEL for every other one.

    LOG_FORMAT=json writes one JSON object per line for log shippers. Call it before build(): Bolt copies the root
    level into its loggers when the app is made.
    """
    logging.basicConfig(stream=sys.stderr, format=LOG_FORMAT)
    formatter = JsonFormatter() if settings.log_format == "json" else logging.Formatter(LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stderr, sys.__stderr__):
            handler.setFormatter(formatter)
    logging.getLogger().setLevel(settings.library_log_level)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in (*OWN_LOGGERS, *LIBRARY_LOGGERS):
            logger.setLevel(logging.NOTSET)  # e.g. Bolt's loggers, which copy the root level when made
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(settings.library_log_level)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(settings.log_level)
