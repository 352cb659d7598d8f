"""Logging for the bot: its own loggers at LOG_LEVEL, every library's at IAMBOT_LIBRARY_LOG_LEVEL."""

from __future__ import annotations

import logging
import sys

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


def configure_logging(settings: Settings) -> None:
    """Log to stderr: LOG_LEVEL for the bot's own loggers, IAMBOT_LIBRARY_LOG_LEVEL for every other one.

    Call it before build(): Bolt copies the root level into its loggers when the app is made.
    """
    logging.basicConfig(stream=sys.stderr, format=LOG_FORMAT)
    logging.getLogger().setLevel(settings.library_log_level)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in (*OWN_LOGGERS, *LIBRARY_LOGGERS):
            logger.setLevel(logging.NOTSET)  # e.g. Bolt's loggers, which copy the root level when made
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(settings.library_log_level)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(settings.log_level)
