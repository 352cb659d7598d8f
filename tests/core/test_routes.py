"""core/routing.py: which channel an alert, a finding, a mute and an audit report go to."""

from __future__ import annotations

from datetime import UTC, datetime

from core.routing import Routes, parse_routes
from core.rows import AlertRow, FindingRow, MuteRow
from core.severity import Severity
from core.states import FindingState

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
ROUTES = Routes(
    "C0ALERTS",
    parse_routes("critical=C0INCIDENT,high=C0INCIDENT,account:111122223333=C0TEAM,account:444455556666=C0ALERTS")[0],
)


def finding(severity: Severity, account: str) -> FindingRow:
    return FindingRow(1, "c", account, "r", severity, "T", "d", FindingState.OPEN, NOW, NOW, 1, 1)


def test_an_account_route_wins_over_a_severity_route_even_when_it_names_the_default_channel():
    assert ROUTES.channel(Severity.CRITICAL, "111122223333") == "C0TEAM"
    assert ROUTES.channel(Severity.CRITICAL, "444455556666") == "C0ALERTS"
    assert ROUTES.channel(Severity.CRITICAL, "999999999999") == "C0INCIDENT"
    assert ROUTES.channel(Severity.MEDIUM, "999999999999") == "C0ALERTS"
    assert ROUTES.channel(None, None) == "C0ALERTS"
    assert ROUTES.channels() == ("C0ALERTS", "C0INCIDENT", "C0TEAM")


def test_a_posted_alert_stays_where_it_was_posted_while_that_channel_is_still_routed():
    alert = AlertRow(1, severity=Severity.MEDIUM, account="999999999999")
    assert ROUTES.for_alert(alert) == "C0ALERTS"
    assert ROUTES.for_alert(AlertRow(1, severity=Severity.CRITICAL, account="999999999999")) == "C0INCIDENT"
    moved = AlertRow(1, severity=Severity.MEDIUM, account="999999999999", channel="C0INCIDENT", ts="1.1")
    assert ROUTES.for_alert(moved) == "C0INCIDENT"  # its buttons and its digest line stay with its message
    gone = AlertRow(1, severity=Severity.MEDIUM, account="999999999999", channel="C0OLDROUTE", ts="1.1")
    assert ROUTES.for_alert(gone) == "C0ALERTS"  # a channel no longer routed: counted in the default's digest


def test_findings_by_account_then_severity_and_mutes_by_account():
    assert ROUTES.for_finding(finding(Severity.HIGH, "999999999999")) == "C0INCIDENT"
    assert ROUTES.for_finding(finding(Severity.HIGH, "111122223333")) == "C0TEAM"
    assert ROUTES.for_finding(finding(Severity.LOW, "999999999999")) == "C0ALERTS"
    mute = MuteRow(1, "c", "111122223333", "r", "why", "U0ADMIN1", NOW, NOW)
    assert ROUTES.for_mute(mute) == "C0TEAM"


def test_a_report_goes_by_its_one_account_else_by_its_highest_failing_severity():
    assert ROUTES.for_report(["111122223333"], [Severity.CRITICAL]) == "C0TEAM"
    assert ROUTES.for_report(["111122223333", "999999999999"], [Severity.LOW, Severity.HIGH]) == "C0INCIDENT"
    assert ROUTES.for_report(["999999999999"], [Severity.MEDIUM, Severity.LOW]) == "C0ALERTS"
    assert ROUTES.for_report(["999999999999"], []) == "C0ALERTS"  # nothing failing
    assert Routes("C0ALERTS").for_report(["111122223333"], [Severity.CRITICAL]) == "C0ALERTS"


def test_a_good_syntax_parses_and_repeats_of_one_route_are_harmless():
    routes, problems = parse_routes("critical = C0INCIDENT, ,critical=C0INCIDENT,Account:111122223333=C0TEAM")
    assert problems == []
    assert [str(r) for r in routes] == ["critical=C0INCIDENT", "account:111122223333=C0TEAM"]
    assert parse_routes("") == ((), [])
