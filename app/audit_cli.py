"""`bot.py audit`: the posture audit from a terminal, with the flags people know from Prowler."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app import __version__
from app.progress import ProgressBar, logging_around
from audit.ocsf import ocsf_text
from audit.report import AuditReport
from audit.terminal import table
from checks.base import Check
from config import load
from core.severity import Severity
from storage import Store

if TYPE_CHECKING:
    from audit.runner import AuditProgress

FORMATS = ("table", "json", "csv", "ocsf")
SUFFIXES = {"table": "txt", "json": "json", "csv": "csv", "ocsf": "ocsf.json"}
USAGE = 2
EPILOG = """--checks and --severity narrow the checks that run; given both, a check must satisfy both.
--output-dir writes the report in every format (table .txt, .json, .csv, OCSF .ocsf.json) and still prints
--format on stdout unless --quiet.

exit codes: 0 every check ran and nothing at --fail-on or worse is open, 3 something is (default: high, so
            critical or high; `none` never exits 3), 4 some accounts or checks could not run, 2 bad usage or no
            account could be audited (one `error:` line)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The audit sub-command's flags."""
    parser.add_argument("--format", choices=FORMATS, default="table", help="what stdout gets (default: table)")
    parser.add_argument(
        "--checks", nargs="+", metavar="ID", help="run only these checks (ids, space or comma separated)"
    )
    parser.add_argument(
        "--severity",
        nargs="+",
        metavar="SEVERITY",
        help="run only the checks of these severities (critical high medium low info)",
    )
    parser.add_argument("--list-checks", action="store_true", help="list the checks (id, severity, title) and exit")
    parser.add_argument("--output-dir", metavar="DIR", help="also write the report in every format into DIR")
    parser.add_argument(
        "--fail-on",
        default="high",
        metavar="SEVERITY",
        help="exit 3 when a finding of this severity or worse is open (default: high; none: never)",
    )
    parser.add_argument("--profile", help="the AWS profile to audit with (default: AWS_PROFILE or the default chain)")
    parser.add_argument("--region", nargs="+", metavar="REGION", help="the regions to audit (default: IAMBOT_REGIONS)")
    parser.add_argument("--quiet", "-q", action="store_true", help="only failing findings: no progress, muted or fixes")
    parser.add_argument("--no-color", action="store_true", help="no colour even on a terminal (NO_COLOR works too)")


def _items(values: list[str] | None) -> list[str]:
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def choose_checks(ids: list[str], severities: list[str], registered: tuple[Check, ...]) -> tuple[Check, ...]:
    """The registered checks the filters keep; ValueError naming what is unknown."""
    known = {c.id for c in registered}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ValueError(f"unknown check(s): {', '.join(unknown)} (bot.py audit --list-checks lists them)")
    try:
        wanted = {Severity(s.lower()) for s in severities}
    except ValueError:
        bad = [s for s in severities if s.lower() not in {v.value for v in Severity}]
        raise ValueError(
            f"unknown severity: {', '.join(bad)} (one of {', '.join(s.value for s in Severity)})"
        ) from None
    chosen = tuple(c for c in registered if (not ids or c.id in ids) and (not wanted or c.severity in wanted))
    if not chosen:
        raise ValueError("no check matches --checks and --severity together")
    return chosen


def fail_threshold(text: str) -> Severity | None:
    """--fail-on's value: a severity, or None for `none`."""
    if text.lower() == "none":
        return None
    try:
        return Severity(text.lower())
    except ValueError:
        raise ValueError(f"--fail-on: {text!r} is not one of {', '.join(s.value for s in Severity)}, none") from None


def list_checks(checks: tuple[Check, ...], out: TextIO) -> None:
    """One line per check, most severe first."""
    for chk in sorted(checks, key=lambda c: (c.severity.rank, c.id)):
        out.write(f"{chk.id:<40} {chk.severity.value:<9} {chk.title}\n")
    out.write(f"{len(checks)} checks\n")


def render(report: AuditReport, fmt: str, checks: tuple[Check, ...], *, colour: bool, quiet: bool, width: int) -> str:
    """The report in one of FORMATS."""
    by_id = {c.id: c for c in checks}
    if fmt == "table":
        return table(report, by_id, width=width, colour=colour, quiet=quiet)
    if fmt == "ocsf":
        return ocsf_text(report, by_id, __version__)
    return report.json_text() if fmt == "json" else report.csv_text()


def write_outputs(report: AuditReport, checks: tuple[Check, ...], directory: Path) -> list[Path]:
    """Every format into `directory` (made when missing), named after the accounts and the time."""
    directory.mkdir(parents=True, exist_ok=True)
    scope = report.accounts[0] if len(report.accounts) == 1 else f"{len(report.accounts)}-accounts"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    paths = []
    for fmt in FORMATS:
        path = directory / f"iam-warden-audit-{scope}-{stamp}.{SUFFIXES[fmt]}"
        path.write_text(render(report, fmt, checks, colour=False, quiet=False, width=120))
        paths.append(path)
    return paths


def show(bar: ProgressBar, p: AuditProgress) -> None:
    """The audit's progress: accounts finished, the bar filled by steps taken, and what just finished."""
    fraction = p.steps_done / p.steps if p.steps else 1.0
    note = "" if p.accounts_done == p.accounts else f"({p.steps_done}/{p.steps} steps; {p.current})"
    bar.update("accounts", p.accounts_done, p.accounts, fraction, note)


def run_audit(args: argparse.Namespace, out: TextIO, err: TextIO = sys.stderr) -> int:
    """Audit now with the bot's AWS environment (or --profile) and print the report; returns the exit code.

    Exit 2 with one `error:` line on bad usage or when no account could be audited (no credentials, endpoint
    unreachable, credentials rejected, access denied), else 3 when a finding at --fail-on or worse is open, 4 when
    some accounts or checks could not run, 0 otherwise."""
    # Here, not at the top: `bot.py --help` and the other commands need neither boto3 nor the bot's wiring.
    from app.wiring import audit_service, registered_checks
    from aws.causes import CALL_ERRORS, describe
    from aws.sessions import AwsSessions

    registered = registered_checks()
    try:
        checks = choose_checks(_items(args.checks), _items(args.severity), registered)
        fail_on = fail_threshold(args.fail_on)
    except ValueError as bad:
        print(f"error: {bad}", file=err)
        return USAGE
    if args.list_checks:
        list_checks(checks, out)
        return 0
    if args.profile:
        os.environ["AWS_PROFILE"] = args.profile  # boto3 reads it, and names it when it does not exist
    settings = load(serving=False)
    if args.region:
        settings = dataclasses.replace(settings, regions=tuple(_items(args.region)))
    try:  # an AWS_PROFILE that names no profile fails here
        sessions = AwsSessions(member_role=settings.member_role, external_id=settings.member_external_id)
    except CALL_ERRORS as failure:
        print(f"error: {describe(failure)}", file=err)
        return USAGE
    store = Store(settings.db_path)
    service = audit_service(settings, sessions, store, checks=checks)
    bar = ProgressBar(err)
    if args.quiet:
        logging.disable(logging.WARNING)  # errors still show; what could not be checked is in the report
    try:
        if args.quiet:
            report = service.run("cli", None)
        else:
            with logging_around(bar):
                report = service.run("cli", None, lambda p: show(bar, p))
    finally:
        store.close()
    failure = report.failure()
    if failure is not None:  # nothing was audited: no report, which would read as a clean bill
        print(f"error: {failure}", file=err)
        return report.exit_code(fail_on)
    colour = out.isatty() and not args.no_color and not os.environ.get("NO_COLOR")
    width = shutil.get_terminal_size((120, 24)).columns if out.isatty() else 120
    out.write(render(report, args.format, checks, colour=colour, quiet=args.quiet, width=width))
    if args.output_dir:
        for path in write_outputs(report, checks, Path(args.output_dir)):
            if not args.quiet:
                print(f"wrote {path}", file=err)
    if not report.complete() and not args.quiet:
        print(
            f"audit incomplete: {len(report.audited())} of {len(report.accounts)} account(s) audited, "
            f"{len(report.errors)} problem(s) listed in the report's errors",
            file=err,
        )
    return report.exit_code(fail_on)
