"""Run an audit: pick accounts, collect one snapshot per account (bounded concurrency), run the checks,
apply mutes, and fold the results into the stored findings."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from audit.report import AuditReport
from aws.causes import CALL_ERRORS, describe, describe_parts
from aws.organizations import list_accounts
from aws.sessions import AwsSessions, MemberRoleError
from checks.base import ACCOUNT, Check, Status
from checks.engine import Result, run_checks
from core.rows import MuteRow
from iam.snapshot import PARTS, Snapshot
from storage import Store

log = logging.getLogger(__name__)

Step = Callable[[str], None]  # told the name of each snapshot part or check as it finishes


@dataclass(frozen=True)
class AuditProgress:
    """Where an audit is: accounts finished, and its real steps (each account's snapshot parts and checks)."""

    accounts_done: int
    accounts: int
    steps_done: int
    steps: int
    current: str  # what just finished, e.g. "123456789012: trails"


Progress = Callable[[AuditProgress], None]


def _collect(sessions: AwsSessions, account: str | None, regions: tuple[str, ...], on_part: Step) -> Snapshot:
    from aws.collector import collect

    return collect(sessions, account, regions=regions, on_part=on_part)


class Steps:
    """Counts an audit's steps for a progress callback (thread-safe: accounts are audited concurrently)."""

    def __init__(self, progress: Progress | None, accounts: int, per_account: int) -> None:
        self.progress, self.accounts, self.per_account = progress, accounts, per_account
        self.steps, self.done, self.accounts_done = accounts * per_account, 0, 0
        self._lock = threading.Lock()

    def _tell(self, current: str) -> None:
        if self.progress:
            self.progress(AuditProgress(self.accounts_done, self.accounts, self.done, self.steps, current))

    def step(self, account: str, what: str) -> None:
        """One step of `account` finished."""
        with self._lock:
            self.done = min(self.steps, self.done + 1)
            self._tell(f"{account}: {what}")

    def finish_account(self, account: str) -> None:
        """An account is over: its steps not taken (parts it could not reach, checks it could not run) count."""
        with self._lock:
            self.accounts_done += 1
            self.done = max(self.done, min(self.steps, self.accounts_done * self.per_account))
            self._tell(f"{account}: done")

    def start(self) -> None:
        """Nothing done yet."""
        with self._lock:
            self._tell("starting")


def resource_tags(snapshot: Snapshot) -> dict[str, dict[str, str]]:
    """ARN -> tags of every user and role in the snapshot (mutes may name a tag)."""
    tags: dict[str, dict[str, str]] = {}
    for entry in [*(snapshot.users or []), *(snapshot.roles or [])]:
        tags[entry["Arn"]] = {t["Key"]: t["Value"] for t in entry.get("Tags", [])}
    return tags


def mute_matches(mute: MuteRow, result: Result, tags: dict[str, dict[str, str]]) -> bool:
    """Whether an active mute covers a result: same check and account, and the resource, `account`-wide,
    or a `tag:Key=Value` the resource carries."""
    if mute.check_id != result.check_id or mute.account not in (result.account, "*"):
        return False
    target = mute.resource
    if target.startswith("tag:"):
        key, _, value = target[4:].partition("=")
        return tags.get(result.resource, {}).get(key) == value
    return target in (result.resource, "*") or (target == ACCOUNT and result.resource == ACCOUNT)


class Auditor:
    """Audits the configured accounts with `checks` and records the outcome in the store.

    AWS is reached only through the collaborators: `sessions`, `collect` (one account's snapshot) and
    `organization` (the organization's account ids)."""

    def __init__(
        self,
        sessions: AwsSessions,
        store: Store,
        accounts: tuple[str, ...] = (),
        regions: tuple[str, ...] = ("us-east-1",),
        concurrency: int = 4,
        collect: Callable[[AwsSessions, str | None, tuple[str, ...], Step], Snapshot] = _collect,
        *,
        checks: tuple[Check, ...],
        organization: Callable[[AwsSessions], list[str]] = list_accounts,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.accounts_setting = accounts
        self.regions = regions
        self.concurrency = concurrency
        self.collect = collect
        self.checks = checks
        self.organization = organization

    def target_accounts(self) -> list[str]:
        """The accounts to audit: the bot's own, the configured ids, or every active organization account."""
        if self.accounts_setting == ("organization",):
            return self.organization(self.sessions)
        return list(self.accounts_setting) or [self.sessions.own_account()]

    def _audit_one(self, account: str, steps: Steps) -> tuple[Snapshot | None, Any, list[str], str | None]:
        """(snapshot, its checks' results, error lines, why the account was not audited at all or None)."""
        seen: set[str] = set()

        def part_done(name: str) -> None:
            if name not in seen:  # a part started early and finished later counts once
                seen.add(name)
                steps.step(account, name)

        try:
            snapshot = self.collect(self.sessions, account, self.regions, part_done)
        except MemberRoleError as err:
            return None, None, [f"{account}: {err}"], describe(err)
        except CALL_ERRORS as err:
            log.warning("snapshot of %s failed: %s", account, err)
            return None, None, [f"{account}: could not collect a snapshot ({type(err).__name__}: {err})"], describe(err)
        audited = run_checks(snapshot, self.checks, on_check=lambda check_id: steps.step(account, check_id))
        if audited.errors and not audited.ran:  # every check was skipped: this account was not seen
            why = describe_parts(snapshot.errors) if snapshot.errors else "no check could run"
            return snapshot, audited, [*audited.errors, f"{account}: not audited: {why}"], why
        return snapshot, audited, audited.errors, None

    def run(self, trigger: str, requested_by: str | None = None, progress: Progress | None = None) -> AuditReport:
        """Audit every target account; returns the report (also recorded in the store)."""
        try:
            self.sessions.own_account()  # the bot's own credentials first: every account is reached through them
            accounts = self.target_accounts()
        except (*CALL_ERRORS, MemberRoleError) as err:
            audit_id = self.store.start_audit(trigger, requested_by, [])
            message = f"could not list the accounts to audit: {err}"
            self.store.record_findings(audit_id, [], set(), [message])
            return AuditReport(audit_id, [], [], [message], unlisted=describe(err))
        audit_id = self.store.start_audit(trigger, requested_by, accounts)
        previous = self.store.last_audit()
        results: list[Result] = []
        errors: list[str] = []
        unaudited: dict[str, str] = {}
        checked: set[tuple[str, str]] = set()
        tags: dict[str, dict[str, str]] = {}
        steps = Steps(progress, len(accounts), len(PARTS) + len(self.checks))
        steps.start()
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(accounts)))) as pool:
            for account, (snapshot, audited, errs, why) in zip(
                accounts, pool.map(lambda a: self._audit_one(a, steps), accounts), strict=True
            ):
                steps.finish_account(account)
                errors += errs
                if why is not None:
                    unaudited[account] = why
                if audited is None or snapshot is None:
                    continue
                tags.update(resource_tags(snapshot))
                checked.update((snapshot.account, check_id) for check_id in audited.ran)
                results += audited.results
        mutes = self.store.active_mutes()
        results = [
            replace(r, status=Status.MUTED)
            if r.status == Status.FAIL and any(mute_matches(m, r, tags) for m in mutes)
            else r
            for r in results
        ]
        failing = [r for r in results if r.status != Status.PASS]
        diff = self.store.record_findings(audit_id, failing, checked, errors)
        return AuditReport(audit_id, accounts, results, errors, diff.new, diff.resolved, previous, unaudited=unaudited)
