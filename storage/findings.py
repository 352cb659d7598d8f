"""Audits, their findings with a lifecycle across audits, and mutes: the tables audits, findings and mutes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from core.rows import AuditRow, CheckFindings, FindingChanges, FindingRow, MuteRow
from core.severity import Severity, severity_counts
from core.states import FindingState
from storage.db import Area, iso

FAILING = "fail"  # checks.base.Status.FAIL: a result no mute hid (storage imports no checks)


class FailingResult(Protocol):
    """What the store needs of a failing check result (checks.engine.Result has it)."""

    @property
    def check_id(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def resource(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def status(self) -> str: ...  # FAILING, or "muted" (checks.base.Status)


class Findings(Area):
    """Audit runs, findings and mutes."""

    def start_audit(self, trigger: str, requested_by: str | None, accounts: list[str]) -> int:
        """Record an audit's start; returns its id."""
        with self._db.tx() as db:
            return (
                db["audits"]
                .insert(
                    {
                        "trigger": trigger,
                        "requested_by": requested_by,
                        "started_at": self._db.now(),
                        "accounts": json.dumps(accounts),
                    }
                )
                .last_pk
            )

    def record_findings(
        self, audit_id: int, failing: Iterable[FailingResult], checked: set[tuple[str, str]], errors: list[str]
    ) -> FindingChanges:
        """Fold one audit's failing (or muted) results into the findings and record the audit's open counts (its
        failing results per severity); returns the findings it made new, kept open and resolved. `checked` holds
        the (account, check id) pairs that ran, so a check that could not run resolves nothing."""
        now = self._db.now()
        diff = FindingChanges()
        with self._db.tx() as db:
            table = db["findings"]
            seen: set[tuple[str, str, str]] = set()
            for item in failing:
                key = (item.check_id, item.account, item.resource)
                if key in seen:
                    continue
                seen.add(key)
                values = {
                    "severity": item.severity,
                    "title": item.title,
                    "detail": item.detail,
                    "last_seen": now,
                    "last_audit": audit_id,
                }
                rows = list(table.rows_where("check_id = ? AND account = ? AND resource = ?", list(key)))
                if rows and rows[0]["status"] == FindingState.OPEN:
                    table.update(rows[0]["id"], values)
                    diff.open.append(FindingRow.from_row(table.get(rows[0]["id"])))
                elif rows:  # it was resolved and is back: new again
                    table.update(
                        rows[0]["id"],
                        {
                            **values,
                            "status": FindingState.OPEN,
                            "first_seen": now,
                            "resolved_at": None,
                            "first_audit": audit_id,
                        },
                    )
                    diff.new.append(FindingRow.from_row(table.get(rows[0]["id"])))
                else:
                    pk = table.insert(
                        {
                            "check_id": key[0],
                            "account": key[1],
                            "resource": key[2],
                            **values,
                            "status": FindingState.OPEN,
                            "first_seen": now,
                            "first_audit": audit_id,
                        }
                    ).last_pk
                    diff.new.append(FindingRow.from_row(table.get(pk)))
            for row in list(table.rows_where("status = ?", [FindingState.OPEN])):
                key = (row["check_id"], row["account"], row["resource"])
                if (row["account"], row["check_id"]) in checked and key not in seen:
                    table.update(
                        row["id"], {"status": FindingState.RESOLVED, "resolved_at": now, "last_audit": audit_id}
                    )
                    diff.resolved.append(FindingRow.from_row(table.get(row["id"])))
            # The audit's figure (core/severity.py says why this one): its failing results, muted ones not
            # counted, one per result as its report lists them (not per stored finding: a check may fail several
            # times on one resource), non-zero severities only.
            counted = severity_counts(item.severity for item in failing if item.status == FAILING)
            counts = {severity: n for severity, n in counted.items() if n}
            db["audits"].update(
                audit_id,
                {
                    "finished_at": now,
                    "errors": json.dumps(errors),
                    "counts": json.dumps(counts),
                    "new": len(diff.new),
                    "resolved": len(diff.resolved),
                },
            )
        return diff

    def findings(self, status: FindingState | None = None) -> list[FindingRow]:
        """Findings (optionally of one status), most severe first."""
        order = (
            "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 "
            "ELSE 4 END, check_id, resource"
        )
        with self._db.lock:
            table = self._db.sql["findings"]
            if status:
                rows = table.rows_where("status = ?", [status], order_by=order)
            else:
                rows = table.rows_where(order_by=order)
            return [FindingRow.from_row(row) for row in rows]

    def open_findings_by_check(self) -> list[CheckFindings]:
        """Open findings counted per check, most severe check first, then the most findings (one query: a large
        account has thousands of findings, App Home shows only the counts)."""
        with self._db.lock:
            rows = self._db.sql.conn.execute(
                "SELECT check_id, min(CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2"
                " WHEN 'low' THEN 3 ELSE 4 END) AS rank, max(title), count(*) AS n FROM findings WHERE status = ?"
                " GROUP BY check_id ORDER BY rank, n DESC, check_id",
                [FindingState.OPEN],
            ).fetchall()
        return [CheckFindings(check, list(Severity)[rank], title, count) for check, rank, title, count in rows]

    def findings_between(self, since: datetime, until: datetime) -> FindingChanges:
        """Findings first seen (and still open), and findings resolved, in [since, until)."""
        window = [iso(since), iso(until)]
        with self._db.lock:
            table = self._db.sql["findings"]
            new = table.rows_where(
                "first_seen >= ? AND first_seen < ? AND status = ?", [*window, FindingState.OPEN], order_by="id"
            )
            resolved = table.rows_where("resolved_at >= ? AND resolved_at < ?", window, order_by="id")
            return FindingChanges(
                new=[FindingRow.from_row(row) for row in new], resolved=[FindingRow.from_row(row) for row in resolved]
            )

    def last_audit(self) -> AuditRow | None:
        """The most recent finished audit, or None."""
        with self._db.lock:
            rows = list(self._db.sql["audits"].rows_where("finished_at IS NOT NULL", order_by="id desc", limit=1))
        return AuditRow.from_row(rows[0]) if rows else None

    # -- mutes ----------------------------------------------------------------------------------------------

    def add_mute(self, check_id: str, account: str, resource: str, reason: str, muted_by: str, days: int) -> MuteRow:
        """Mute a check for one resource (an ARN, `account`, or `tag:Key=Value`) for `days`."""
        now = self._db.clock()
        with self._db.tx() as db:
            pk = (
                db["mutes"]
                .insert(
                    {
                        "check_id": check_id,
                        "account": account,
                        "resource": resource,
                        "reason": reason,
                        "muted_by": muted_by,
                        "created_at": iso(now),
                        "expires_at": iso(now + timedelta(days=days)),
                    }
                )
                .last_pk
            )
            return MuteRow.from_row(db["mutes"].get(pk))

    def remove_mute(self, mute_id: int, removed_by: str) -> MuteRow | None:
        """Lift a mute; returns it, or None when no active mute has that id."""
        with self._db.tx() as db:
            rows = list(db["mutes"].rows_where("id = ? AND removed_at IS NULL", [mute_id]))
            if not rows:
                return None
            db["mutes"].update(mute_id, {"removed_at": self._db.now(), "removed_by": removed_by})
            return MuteRow.from_row(db["mutes"].get(mute_id))

    def active_mutes(self) -> list[MuteRow]:
        """Mutes neither lifted nor expired."""
        with self._db.lock:
            rows = self._db.sql["mutes"].rows_where(
                "removed_at IS NULL AND expires_at > ?", [self._db.now()], order_by="expires_at"
            )
            return [MuteRow.from_row(row) for row in rows]

    def finding(self, finding_id: int) -> FindingRow | None:
        """One finding by id, or None."""
        with self._db.lock:
            rows = list(self._db.sql["findings"].rows_where("id = ?", [finding_id]))
        return FindingRow.from_row(rows[0]) if rows else None

    def active_mute_for(self, check_id: str, account: str, resource: str) -> MuteRow | None:
        """An active mute naming exactly this check, account and resource, if any."""
        for mute in self.active_mutes():
            if (mute.check_id, mute.account, mute.resource) == (check_id, account, resource):
                return mute
        return None

    def mutes_created_between(self, since: datetime, until: datetime) -> list[MuteRow]:
        """Finding mutes made in [since, until), lifted or expired since or not, oldest first."""
        with self._db.lock:
            rows = self._db.sql["mutes"].rows_where(
                "created_at >= ? AND created_at < ?", [iso(since), iso(until)], order_by="created_at, id"
            )
            return [MuteRow.from_row(row) for row in rows]

    def mutes_expiring(self, within: timedelta) -> list[MuteRow]:
        """Active mutes that expire within `within`."""
        limit = self._db.clock() + within
        return [m for m in self.active_mutes() if m.expires_at <= limit]
