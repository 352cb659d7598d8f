"""Which channel an alert, a finding or an audit report goes to (IAMBOT_ROUTES), with the default channel as fallback.

Syntax: comma-separated `KEY=CHANNEL` entries, KEY a severity (`critical`, `high`, `medium`, `low`, `info`: that
severity exactly) or `account:<12-digit id>`, e.g. `critical=C0INCIDENT,account:111122223333=C0TEAM`.

Precedence: an account route wins over a severity route (the team that owns an account sees everything of it,
its critical alerts included); then the severity route; then the default channel (IAMBOT_CHANNEL).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.rows import AlertRow, FindingRow, MuteRow
from core.severity import Severity

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_ACCOUNT = re.compile(r"^\d{12}$")
SYNTAX = "a severity (critical, high, medium, low, info) or account:<12-digit id>"


@dataclass(frozen=True)
class Route:
    """One entry of IAMBOT_ROUTES: what it matches (an account or a severity, exactly one) and where it sends it."""

    channel: str
    account: str | None = None
    severity: Severity | None = None

    def __str__(self) -> str:
        key = f"account:{self.account}" if self.account else str(self.severity)
        return f"{key}={self.channel}"


def parse_routes(raw: str) -> tuple[tuple[Route, ...], list[str]]:
    """IAMBOT_ROUTES' entries and every problem found in it (one line each; none when all entries are good)."""
    routes: list[Route] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        key, sep, channel = (text.strip() for text in entry.partition("="))
        if not sep or not key or not channel:
            problems.append(f"IAMBOT_ROUTES: {entry!r} is not KEY=CHANNEL, KEY being {SYNTAX}")
            continue
        route = _route(key.lower(), channel)
        if isinstance(route, str):
            problems.append(f"IAMBOT_ROUTES: {entry!r}: {route}")
            continue
        name = key.lower()
        if name in seen and seen[name] != channel:
            problems.append(f"IAMBOT_ROUTES: {name} is routed twice ({seen[name]} and {channel})")
            continue
        if name not in seen:
            seen[name] = channel
            routes.append(route)
    return tuple(routes), problems


def _route(key: str, channel: str) -> Route | str:
    """The route of one entry, or why it is not one (its key's and its channel's problems both)."""
    why = []
    route = None
    if key.startswith("account:"):
        account = key.removeprefix("account:").strip()
        if _ACCOUNT.match(account):
            route = Route(channel, account=account)
        else:
            why.append(f"{account or 'nothing'} is not a 12-digit account id")
    elif key in set(Severity):
        route = Route(channel, severity=Severity(key))
    else:
        why.append(f"{key} is not {SYNTAX}")
    if not CHANNEL_ID.match(channel):
        why.append(f"{channel} is not a channel id (C…; a name will not do)")
    if why or route is None:
        return "; ".join(why)
    return route


@dataclass(frozen=True)
class Routes:
    """The default channel and the routes from it; every channel decision of the bot is made here."""

    default: str
    routes: tuple[Route, ...] = ()

    def channels(self) -> tuple[str, ...]:
        """Every channel something may be sent to: the default first, then each routed channel once."""
        return tuple(dict.fromkeys([self.default, *(r.channel for r in self.routes)]))

    def channel(self, severity: Severity | str | None, account: str | None) -> str:
        """The channel of something of `severity` about `account`: its account's route, else its severity's,
        else the default channel."""
        by_account = self._account_route(account)
        if by_account:
            return by_account
        for route in self.routes:
            if severity and route.severity == severity:
                return route.channel
        return self.default

    def for_alert(self, alert: AlertRow) -> str:
        """Where an alert goes: where it was posted (while that channel is still one of ours), else its route."""
        if alert.channel and alert.channel in self.channels():
            return alert.channel
        return self.channel(alert.severity, alert.account)

    def for_finding(self, finding: FindingRow) -> str:
        """Where a finding is reported: by its account, then by its severity."""
        return self.channel(finding.severity, finding.account)

    def for_mute(self, mute: MuteRow) -> str:
        """Where a finding mute is reported: by its account (a mute carries no severity)."""
        return self.channel(None, mute.account)

    def for_report(self, accounts: Sequence[str], failing: Sequence[Severity]) -> str:
        """Where an audit report goes: a report of one account by that account's route; else (or when that account
        has none) by the route of its highest failing severity; else the default channel."""
        by_account = self._account_route(accounts[0]) if len(accounts) == 1 else None
        if by_account:
            return by_account
        worst = min(failing, key=lambda s: Severity(s).rank, default=None)
        return self.channel(worst, None)

    def _account_route(self, account: str | None) -> str | None:
        return next((r.channel for r in self.routes if account and r.account == account), None)
