"""Settings from the environment: one table of variables, parsed and checked once, failing with one clear line."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from dotenv import load_dotenv

from core.routing import CHANNEL_ID, Route, Routes, parse_routes

T = TypeVar("T")
# LOG_FORMAT: lines for a person reading a terminal, or one JSON object per line for a log shipper.
LOG_FORMATS = ("text", "json")


class ConfigError(Exception):
    """A missing or bad setting; the message names the variable and what it is for."""


@dataclass(frozen=True)
class Var:
    """One environment variable: name, purpose, default, and whether `serve` needs it."""

    name: str
    purpose: str
    default: str | None = None
    secret: bool = False
    needed_to_serve: bool = False


VARIABLES: tuple[Var, ...] = (
    Var(
        "SLACK_BOT_TOKEN",
        "the bot's Slack token (xoxb-…), from the app's OAuth page",
        secret=True,
        needed_to_serve=True,
    ),
    Var(
        "SLACK_SIGNING_SECRET",
        "verifies that HTTP requests come from Slack (app's Basic Information page)",
        secret=True,
    ),
    Var(
        "SLACK_APP_TOKEN",
        "app-level token (xapp-…); when set, the bot connects in Socket Mode instead of HTTP",
        secret=True,
    ),
    Var("SLACK_API_URL", "base URL of the Slack Web API (tests and proxies)", "https://slack.com/api/"),
    Var(
        "IAMBOT_CHANNEL",
        "channel id where alerts and reports are posted (e.g. C0123456789)",
        needed_to_serve=True,
    ),
    Var(
        "IAMBOT_ROUTES",
        "channels by account and severity, e.g. critical=C0INCIDENT,account:111122223333=C0TEAM: alerts, "
        "scheduled reports and digests go to their account's route, else their severity's, else IAMBOT_CHANNEL",
        "",
    ),
    Var(
        "IAMBOT_ADMINS",
        "comma-separated Slack user ids allowed to press the remediation buttons",
        needed_to_serve=True,
    ),
    Var(
        "IAMBOT_RESPONDERS",
        "comma-separated Slack user ids who may acknowledge alerts (admins always may)",
        "",
    ),
    Var(
        "IAMBOT_APPROVALS",
        "how many different admins must press a destructive button before it runs (1 or 2)",
        "1",
    ),
    Var(
        "IAMBOT_SQS_QUEUE_URL",
        "SQS queue fed by the EventBridge rule; unset = poll CloudTrail LookupEvents",
        "",
    ),
    Var(
        "IAMBOT_SQS_MAX_RECEIVES",
        "receives after which a queue message that keeps failing is kept as a dead letter and deleted "
        "(below the queue's redrive maxReceiveCount)",
        "3",
    ),
    Var(
        "IAMBOT_FEED_SILENT_MINUTES",
        "minutes without a heartbeat or event after which feed_silent is raised (the queue gets a heartbeat every "
        "5 minutes; in LookupEvents mode, minutes of failing polls)",
        "30",
    ),
    Var("IAMBOT_POLL_SECONDS", "seconds between CloudTrail LookupEvents polls when no queue is set", "60"),
    Var("IAMBOT_REGIONS", "comma-separated regions polled besides us-east-1 (LookupEvents mode)", ""),
    Var(
        "IAMBOT_MEMBER_ROLE",
        "role assumed in other accounts of the organization for lookups and remediation",
        "IAMWardenMember",
    ),
    Var(
        "IAMBOT_MEMBER_EXTERNAL_ID",
        "sts:ExternalId sent when assuming the member role (if its trust policy asks)",
        "",
        secret=True,
    ),
    Var("IAMBOT_DB", "path of the SQLite database", "./iam-warden.db"),
    Var("IAMBOT_ACCOUNTS", "accounts to audit: empty = the bot's own, comma-separated ids, or 'organization'", ""),
    Var(
        "IAMBOT_TRUSTED_ACCOUNTS",
        "comma-separated 12-digit ids of accounts outside the organization that roles may trust "
        "(a vendor's, say); a new trust of any other outside account raises role_trust_opened",
        "",
    ),
    Var("IAMBOT_AUDIT_CRON", "when the scheduled audit runs (crontab, UTC)", "0 6 * * *"),
    Var("IAMBOT_DIGEST_CRON", "when the digest is posted (crontab, UTC)", "0 9 * * 1"),
    Var(
        "IAMBOT_THREAD_MINUTES",
        "alerts by the same actor within this many minutes share one Slack thread",
        "10",
    ),
    Var(
        "IAMBOT_CORRELATION_MINUTES",
        "a grant this soon after CreateUser raises privileged_user_created",
        "60",
    ),
    Var(
        "PORT", "HTTP port for /slack/events, /healthz and /metrics (only /healthz and /metrics in Socket Mode)", "3000"
    ),
    Var(
        "IAMBOT_METRICS",
        "serve Prometheus metrics at GET /metrics on PORT (on or off); counts only, no secrets or alert text, "
        "but let only the scraper reach it",
        "on",
    ),
    Var("LOG_LEVEL", "logging level of the bot's own log lines (DEBUG, INFO, WARNING, ERROR)", "INFO"),
    Var(
        "IAMBOT_LIBRARY_LOG_LEVEL",
        "logging level of the libraries (botocore, urllib3, slack_sdk, slack_bolt, waitress, apscheduler); "
        "at DEBUG they log whole request and message bodies",
        "INFO",
    ),
    Var("LOG_FORMAT", "text (lines for people) or json (one object per line, for log shippers)", "text"),
)

_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_QUEUE_URL = re.compile(r"^https?://\S+/\d{12}/[\w.-]+$")


def _ids(raw: str, var: Var, pattern: re.Pattern[str]) -> frozenset[str]:
    items = [part.strip() for part in raw.split(",") if part.strip()]
    bad = [item for item in items if not pattern.match(item)]
    if bad:
        raise ConfigError(f"{var.name}: {', '.join(bad)} is not a Slack user id (U… or W…); it is {var.purpose}")
    return frozenset(items)


def _int(raw: str, var: Var, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ConfigError(f"{var.name}={raw!r} must be a whole number from {low} to {high}; it is {var.purpose}")
    return value


@dataclass(frozen=True)
class Settings:
    """Every setting the bot reads, parsed and checked."""

    bot_token: str = ""
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    slack_api_url: str = "https://slack.com/api/"
    channel: str = ""
    routes: tuple[Route, ...] = ()  # IAMBOT_ROUTES; `routing` adds the default channel
    admins: frozenset[str] = frozenset()
    responders: frozenset[str] = frozenset()
    approvals: int = 1
    sqs_queue_url: str = ""
    sqs_max_receives: int = 3
    feed_silent_minutes: int = 30
    poll_seconds: int = 60
    regions: tuple[str, ...] = ("us-east-1",)
    member_role: str = "IAMWardenMember"
    member_external_id: str = field(default="", repr=False)
    db_path: str = "./iam-warden.db"
    accounts: tuple[str, ...] = ()  # empty = own account; ("organization",) = every account of the org
    trusted_accounts: frozenset[str] = frozenset()  # outside the organization, yet trusted by roles
    audit_cron: str = "0 6 * * *"
    digest_cron: str = "0 9 * * 1"
    thread_minutes: int = 10
    correlation_minutes: int = 60
    port: int = 3000
    log_level: str = "INFO"
    library_log_level: str = "INFO"
    log_format: str = "text"
    metrics: bool = True

    def __repr__(self) -> str:
        return f"Settings(channel={self.channel!r}, admins={sorted(self.admins)!r}, db_path={self.db_path!r})"

    @property
    def routing(self) -> Routes:
        """Where things are posted: IAMBOT_ROUTES, falling back to IAMBOT_CHANNEL."""
        return Routes(self.channel, self.routes)

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token makes the bot use Socket Mode."""
        return bool(self.app_token)


def cron_problem(expr: str) -> str | None:
    """Why a crontab expression is unusable, or None when APScheduler accepts it."""
    from audit.crontab import trigger

    try:
        trigger(expr)
    except ValueError as err:
        return str(err)
    return None


def _var(name: str) -> Var:
    return next(v for v in VARIABLES if v.name == name)


def load(env: Mapping[str, str] | None = None, serving: bool = True) -> Settings:
    """Read and check the settings; raise one ConfigError listing every bad variable, one per line."""
    env = os.environ if env is None else env
    problems: list[str] = []

    def get(name: str) -> str:
        var = _var(name)
        value = env.get(name, "").strip()
        if not value and var.needed_to_serve and serving:
            problems.append(f"{name} is not set: it is {var.purpose}")
        return value or (var.default or "")

    def checked(parse: Callable[[], T], fallback: T) -> T:
        """`parse()`, or `fallback` with its ConfigError noted, so one run reports every bad variable."""
        try:
            return parse()
        except ConfigError as err:
            problems.append(str(err))
            return fallback

    def number(name: str, low: int, high: int) -> int:
        return checked(lambda: _int(get(name), _var(name), low, high), low)

    bot_token = get("SLACK_BOT_TOKEN")
    if bot_token and not bot_token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must start with xoxb- (a bot token, not a user or app token)")
    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must start with xapp- (an app-level token with connections:write)")
    signing_secret = get("SLACK_SIGNING_SECRET")
    if serving and not app_token and not signing_secret:
        problems.append(
            "SLACK_SIGNING_SECRET is not set: it is needed in HTTP mode to verify that requests come from Slack "
            "(or set SLACK_APP_TOKEN to use Socket Mode)"
        )
    channel = get("IAMBOT_CHANNEL")
    if channel and not CHANNEL_ID.match(channel):
        problems.append(
            f"IAMBOT_CHANNEL={channel!r} must be a channel id (C…), not a name; it is {_var('IAMBOT_CHANNEL').purpose}"
        )
    routes, route_problems = parse_routes(get("IAMBOT_ROUTES"))
    problems.extend(route_problems)
    raw_admins = get("IAMBOT_ADMINS")
    admins = checked(lambda: _ids(raw_admins, _var("IAMBOT_ADMINS"), _SLACK_ID), None)
    if serving and raw_admins and admins == frozenset():
        problems.append(f"IAMBOT_ADMINS lists no user: it is {_var('IAMBOT_ADMINS').purpose}")
    queue = get("IAMBOT_SQS_QUEUE_URL")
    if queue and not _QUEUE_URL.match(queue):
        problems.append(
            f"IAMBOT_SQS_QUEUE_URL={queue!r} is not an SQS queue URL "
            "(https://sqs.<region>.amazonaws.com/<account>/<name>)"
        )
    regions = ["us-east-1"]
    for region in get("IAMBOT_REGIONS").split(","):
        region = region.strip()
        if region and not re.match(r"^[a-z]{2}(-gov)?-[a-z]+-\d$", region):
            problems.append(f"IAMBOT_REGIONS: {region!r} is not an AWS region name (e.g. eu-west-1)")
        elif region and region not in regions:
            regions.append(region)
    accounts = tuple(a.strip() for a in get("IAMBOT_ACCOUNTS").split(",") if a.strip())
    if accounts != ("organization",):
        bad = [a for a in accounts if not re.match(r"^\d{12}$", a)]
        if bad:
            problems.append(f"IAMBOT_ACCOUNTS: {', '.join(bad)} is not a 12-digit account id (or use 'organization')")
    crons = {name: get(name) for name in ("IAMBOT_AUDIT_CRON", "IAMBOT_DIGEST_CRON")}
    for name, expr in crons.items():
        problem = cron_problem(expr)
        if problem:
            problems.append(f"{name}={expr!r} is not a crontab expression ({problem}); it is {_var(name).purpose}")
    level, library_level = (get(name).upper() for name in ("LOG_LEVEL", "IAMBOT_LIBRARY_LOG_LEVEL"))
    for name, value in (("LOG_LEVEL", level), ("IAMBOT_LIBRARY_LOG_LEVEL", library_level)):
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            problems.append(f"{name}={value!r} must be DEBUG, INFO, WARNING or ERROR")
    log_format_ = checked(lambda: log_format(env), "text")
    metrics = get("IAMBOT_METRICS").lower()
    if metrics not in ("on", "off"):
        problems.append(f"IAMBOT_METRICS={metrics!r} must be on or off")
    feed_silent = number("IAMBOT_FEED_SILENT_MINUTES", 10, 1440)
    poll_seconds = number("IAMBOT_POLL_SECONDS", 10, 3600)
    if not queue and feed_silent * 60 < 2 * poll_seconds:
        problems.append(
            f"IAMBOT_FEED_SILENT_MINUTES={feed_silent} must cover two LookupEvents polls "
            f"(IAMBOT_POLL_SECONDS={poll_seconds}): the feed would look silent between healthy polls"
        )
    member_role = get("IAMBOT_MEMBER_ROLE")
    if not re.match(r"^[\w+=,.@-]{1,64}$", member_role):
        problems.append(f"IAMBOT_MEMBER_ROLE={member_role!r} is not an IAM role name")
    settings = Settings(
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        slack_api_url=get("SLACK_API_URL"),
        channel=channel,
        routes=routes,
        admins=admins or frozenset(),
        responders=checked(lambda: _ids(get("IAMBOT_RESPONDERS"), _var("IAMBOT_RESPONDERS"), _SLACK_ID), frozenset()),
        approvals=number("IAMBOT_APPROVALS", 1, 2),
        sqs_queue_url=queue,
        sqs_max_receives=number("IAMBOT_SQS_MAX_RECEIVES", 1, 1000),
        feed_silent_minutes=feed_silent,
        poll_seconds=poll_seconds,
        regions=tuple(regions),
        member_role=member_role,
        member_external_id=get("IAMBOT_MEMBER_EXTERNAL_ID"),
        db_path=get("IAMBOT_DB"),
        accounts=accounts,
        trusted_accounts=checked(lambda: trusted_accounts(env), frozenset()),
        audit_cron=crons["IAMBOT_AUDIT_CRON"],
        digest_cron=crons["IAMBOT_DIGEST_CRON"],
        thread_minutes=number("IAMBOT_THREAD_MINUTES", 0, 1440),
        correlation_minutes=number("IAMBOT_CORRELATION_MINUTES", 1, 1440),
        port=number("PORT", 1, 65535),
        metrics=metrics == "on",
        log_level=level,
        library_log_level=library_level,
        log_format=log_format_,
    )
    if problems:
        raise ConfigError("\n".join(problems))
    return settings


def trusted_accounts(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """IAMBOT_TRUSTED_ACCOUNTS alone (what an offline replay needs); ConfigError for an id that is not 12 digits."""
    env = os.environ if env is None else env
    accounts = frozenset(a.strip() for a in env.get("IAMBOT_TRUSTED_ACCOUNTS", "").split(",") if a.strip())
    if bad := sorted(a for a in accounts if not re.match(r"^\d{12}$", a)):
        raise ConfigError(f"IAMBOT_TRUSTED_ACCOUNTS: {', '.join(bad)} is not a 12-digit account id")
    return accounts


def log_format(env: Mapping[str, str] | None = None) -> str:
    """LOG_FORMAT alone (text or json; every command logs in it); ConfigError for another value."""
    env = os.environ if env is None else env
    value = env.get("LOG_FORMAT", "").strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT={value!r} must be {' or '.join(LOG_FORMATS)}")
    return value


def read_env_file(path: str = ".env") -> bool:
    """Load `path` (KEY=value lines) into the environment if it exists; a variable already set wins. True if read."""
    return load_dotenv(path, override=False) if os.path.isfile(path) else False


def help_table() -> str:
    """The variables as help text (one line each: name, purpose, default)."""
    lines = []
    for var in VARIABLES:
        default = f" [default: {var.default}]" if var.default else ""
        need = " (required to serve)" if var.needed_to_serve else ""
        lines.append(f"  {var.name:<28} {var.purpose}{need}{default}")
    return "\n".join(lines)
