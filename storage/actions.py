"""The actions table: every button click's claim, approval and outcome, the audit trail of an alert."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from core.rows import ActionRow, AlertRow
from core.states import FINAL_STATES, ActionState, ClaimVerdict
from storage.db import Area, iso, storable


class Actions(Area):
    """Remediation and acknowledgement actions on alerts."""

    def claim_action(self, alert_id: int, action: str, user: str, approvals: int = 1) -> tuple[ClaimVerdict, ActionRow]:
        """Decide, atomically, what a button click does. Returns (verdict, action row); ClaimVerdict says what
        each verdict means."""
        with self._db.tx() as db:
            rows = [
                ActionRow.from_row(row)
                for row in db["actions"].rows_where(
                    "alert_id = ? AND action = ?", [alert_id, action], order_by="id desc"
                )
            ]
            for row in rows:
                if row.state in (*FINAL_STATES, ActionState.RUNNING):
                    return ClaimVerdict.ALREADY, row
            waiting = next((r for r in rows if r.state == ActionState.AWAITING_APPROVAL), None)
            now = self._db.now()
            if approvals > 1:
                if waiting is None:
                    pk = (
                        db["actions"]
                        .insert(
                            {
                                "alert_id": alert_id,
                                "action": action,
                                "state": ActionState.AWAITING_APPROVAL,
                                "requested_by": user,
                                "created_at": now,
                            }
                        )
                        .last_pk
                    )
                    return ClaimVerdict.AWAITING, ActionRow.from_row(db["actions"].get(pk))
                if waiting.requested_by == user:
                    return ClaimVerdict.SAME_APPROVER, waiting
                db["actions"].update(waiting.id, {"state": ActionState.RUNNING, "approved_by": user})
                return ClaimVerdict.RUN, ActionRow.from_row(db["actions"].get(waiting.id))
            pk = (
                db["actions"]
                .insert(
                    {
                        "alert_id": alert_id,
                        "action": action,
                        "state": ActionState.RUNNING,
                        "requested_by": user,
                        "created_at": now,
                    }
                )
                .last_pk
            )
            return ClaimVerdict.RUN, ActionRow.from_row(db["actions"].get(pk))

    def finish_action(
        self, action_id: int, state: ActionState, detail: str, aws_request_id: str | None = None
    ) -> ActionRow:
        """Record an action's outcome (done, noop, refused, failed)."""
        with self._db.tx() as db:
            db["actions"].update(
                action_id,
                {
                    "state": state,
                    "detail": storable(detail),
                    "aws_request_id": aws_request_id,
                    "finished_at": self._db.now(),
                },
            )
            return ActionRow.from_row(db["actions"].get(action_id))

    def record_refusal(self, alert_id: int, action: str, user: str, reason: str) -> None:
        """Record a refused click (e.g. by a non-admin) in the audit trail."""
        with self._db.tx() as db:
            now = self._db.now()
            db["actions"].insert(
                {
                    "alert_id": alert_id,
                    "action": action,
                    "state": ActionState.REFUSED,
                    "requested_by": user,
                    "detail": storable(reason),
                    "created_at": now,
                    "finished_at": now,
                }
            )

    def actions(self, alert_id: int) -> list[ActionRow]:
        """The audit trail of one alert, oldest first."""
        with self._db.lock:
            rows = self._db.sql["actions"].rows_where("alert_id = ?", [alert_id], order_by="id")
            return [ActionRow.from_row(row) for row in rows]

    def settling_actions(
        self, actions: Iterable[str], since: datetime, account: str | None = None
    ) -> list[tuple[ActionRow, AlertRow]]:
        """Finished (done or noop) actions of the given ids that finished at or after `since`, each with the alert
        it was pressed on (optionally only alerts of `account`), oldest first: what core.settled reads."""
        ids = [str(a) for a in actions]
        if not ids:
            return []
        states = sorted(str(s) for s in FINAL_STATES)
        where = (
            f"a.action IN ({','.join('?' * len(ids))}) AND a.state IN ({','.join('?' * len(states))})"
            " AND a.finished_at >= ?"
        )
        values: list[object] = [*ids, *states, iso(since)]
        if account is not None:
            where += " AND l.account = ?"
            values.append(account)
        with self._db.lock:
            cursor = self._db.sql.conn.execute(
                "SELECT a.id, l.id FROM actions a JOIN alerts l ON l.id = a.alert_id"  # noqa: S608
                f" WHERE {where} ORDER BY a.finished_at, a.id",
                values,
            )
            pairs = cursor.fetchall()
            actions_table, alerts_table = self._db.sql["actions"], self._db.sql["alerts"]
            return [
                (ActionRow.from_row(actions_table.get(action_id)), AlertRow.from_row(alerts_table.get(alert_id)))
                for action_id, alert_id in pairs
            ]
