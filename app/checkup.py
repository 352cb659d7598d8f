"""`bot.py check`: is this deployment ready? One line per check (never a secret), exit 1 when any fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.wiring import queue_region
from aws import selfcheck
from aws.causes import CALL_ERRORS, describe
from aws.permissions import ACTIONS
from aws.sessions import AwsSessions
from config import Settings


@dataclass(frozen=True)
class CheckResult:
    """One check: what was checked, whether it passed, and a line saying what was found."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """`ok    name: detail` or `FAIL  name: detail`."""
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def _slack_error(err: SlackApiError) -> str:
    error = str(err.response.get("error", "error"))
    needed = err.response.get("needed")
    return f"Slack answered {error}" + (f" (the app needs the {needed} scope)" if needed else "")


def slack_token(client: WebClient) -> CheckResult:
    """auth.test: Slack accepts the bot token."""
    try:
        who = client.auth_test()
    except SlackApiError as err:
        return CheckResult("Slack token", False, _slack_error(err) + ": check SLACK_BOT_TOKEN")
    except OSError as err:
        return CheckResult("Slack token", False, f"Slack unreachable ({type(err).__name__})")
    bot = f"bot user {who.get('user')} ({who.get('user_id')})"
    return CheckResult("Slack token", True, f"team {who.get('team')}, {bot}")


def slack_channel(client: WebClient, channel: str) -> CheckResult:
    """conversations.info: the channel exists and the bot is a member (it cannot post otherwise)."""
    name = f"Slack channel {channel}"
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as err:
        return CheckResult(name, False, _slack_error(err))
    except OSError as err:
        return CheckResult(name, False, f"Slack unreachable ({type(err).__name__})")
    label = f"#{info['name']}" if info.get("name") else channel
    if info.get("is_archived"):
        return CheckResult(name, False, f"{label} is archived")
    if not info.get("is_member"):
        return CheckResult(name, False, f"the bot is not a member of {label}: invite it (/invite @the-bot)")
    return CheckResult(name, True, f"{label}, the bot is a member")


def _aws(name: str, probe: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(name, True, probe())
    except CALL_ERRORS as err:
        return CheckResult(name, False, describe(err))


def permissions(sessions: AwsSessions) -> CheckResult:
    """iam:SimulatePrincipalPolicy over every action in aws/permissions.py."""
    name = "AWS permissions"
    try:
        denied = selfcheck.denied_actions(sessions)
    except CALL_ERRORS as err:
        return CheckResult(name, False, f"cannot simulate the bot's policy: {describe(err)}")
    if denied:
        return CheckResult(name, False, f"{len(denied)} of {len(ACTIONS)} actions denied: {', '.join(denied)}")
    return CheckResult(name, True, f"all {len(ACTIONS)} actions of aws/permissions.py allowed")


def run_checks(settings: Settings, client: WebClient, make_sessions: Callable[[], AwsSessions]) -> list[CheckResult]:
    """Every check, in order; each runs even when an earlier one failed. `make_sessions` builds the AWS sessions
    (an AWS_PROFILE naming no profile fails there, and is reported as the identity check)."""
    # every channel alerts, reports and digests may be posted to (IAMBOT_CHANNEL, then each of IAMBOT_ROUTES)
    results = [slack_token(client), *(slack_channel(client, channel) for channel in settings.routing.channels())]
    try:
        sessions = make_sessions()
    except CALL_ERRORS as err:
        reason = describe(err)
        return [*results, CheckResult("AWS identity", False, reason)]
    identity = _aws("AWS identity", lambda: selfcheck.identity_line(sessions))
    results.append(identity)
    if settings.sqs_queue_url:
        region = queue_region(settings.sqs_queue_url)
        results.append(_aws("event queue", lambda: selfcheck.queue_line(sessions, settings.sqs_queue_url, region)))
    else:
        results.append(_aws("event history", lambda: selfcheck.lookup_line(sessions, settings.regions[0])))
    if identity.ok:
        results.append(permissions(sessions))
    return results


def check(settings: Settings, client: WebClient, make_sessions: Callable[[], AwsSessions], out: TextIO) -> int:
    """Run the checks, print one line each; 0 when all pass, 1 when any fails."""
    results = run_checks(settings, client, make_sessions)
    for result in results:
        out.write(result.line() + "\n")
    return 0 if all(r.ok for r in results) else 1
