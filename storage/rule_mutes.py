"""Rule mutes: detection rules muted for an actor, a target or an account (the table rule_mutes), and what they kept
out of Slack (the alerts whose mute_id names them). What a mute matches is core.rule_mutes' to say."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.rows import RuleMuteRow
from core.rule_mutes import MuteScope
from core.states import PostState
from storage.db import Area, iso, storable

ACTIVE = "removed_at IS NULL AND expires_at > ?"


class RuleMutes(Area):
    """Rule mutes and the count of the alerts they muted."""

    def add_rule_mute(
        self,
        rule: str,
        scope: MuteScope,
        value: str,
        reason: str,
        muted_by: str,
        days: int,
        account: str | None = None,
        alert_id: int | None = None,
    ) -> tuple[bool, RuleMuteRow]:
        """Mute `rule` for `value` (of `scope`, optionally only in `account`) for `days`. Returns (made, mute):
        an active mute of the same rule, scope, value and account is returned instead of a second one."""
        now = self._db.clock()
        key = [rule, str(scope), storable(value), account or ""]
        with self._db.tx() as db:
            same = list(
                db["rule_mutes"].rows_where(
                    f"rule = ? AND scope = ? AND value = ? AND coalesce(account, '') = ? AND {ACTIVE}",
                    [*key, iso(now)],
                    order_by="id",
                    limit=1,
                )
            )
            if same:
                return False, RuleMuteRow.from_row(same[0])
            pk = (
                db["rule_mutes"]
                .insert(
                    {
                        "rule": rule,
                        "scope": str(scope),
                        "value": storable(value),
                        "account": account,
                        "reason": storable(reason),
                        "muted_by": muted_by,
                        "alert_id": alert_id,
                        "created_at": iso(now),
                        "expires_at": iso(now + timedelta(days=days)),
                    }
                )
                .last_pk
            )
            return True, RuleMuteRow.from_row(db["rule_mutes"].get(pk))

    def remove_rule_mute(self, mute_id: int, removed_by: str) -> RuleMuteRow | None:
        """Lift a rule mute; returns it, or None when no active rule mute has that id."""
        with self._db.tx() as db:
            rows = list(db["rule_mutes"].rows_where(f"id = ? AND {ACTIVE}", [mute_id, self._db.now()]))
            if not rows:
                return None
            db["rule_mutes"].update(mute_id, {"removed_at": self._db.now(), "removed_by": removed_by})
            return RuleMuteRow.from_row(db["rule_mutes"].get(mute_id))

    def active_rule_mutes(self) -> list[RuleMuteRow]:
        """Rule mutes neither lifted nor expired, soonest to expire first."""
        with self._db.lock:
            rows = self._db.sql["rule_mutes"].rows_where(ACTIVE, [self._db.now()], order_by="expires_at, id")
            return [RuleMuteRow.from_row(row) for row in rows]

    def rule_mutes_expiring(self, within: timedelta) -> list[RuleMuteRow]:
        """Active rule mutes that expire within `within`, soonest first."""
        limit = self._db.clock() + within
        return [m for m in self.active_rule_mutes() if m.expires_at <= limit]

    def rule_mute(self, mute_id: int) -> RuleMuteRow | None:
        """One rule mute by id (active or not), or None."""
        with self._db.lock:
            rows = list(self._db.sql["rule_mutes"].rows_where("id = ?", [mute_id]))
        return RuleMuteRow.from_row(rows[0]) if rows else None

    def muted_alerts(self) -> int:
        """How many stored alerts rule mutes kept out of Slack, ever."""
        with self._db.lock:
            return self._db.sql["alerts"].count_where("post_state = ?", [PostState.MUTED])

    def muted_between(self, since: datetime, until: datetime) -> tuple[int, int]:
        """The events rule mutes kept out of Slack in [since, until) (a folded alert counts each occurrence), and
        how many mutes kept them out."""
        with self._db.lock:
            events, mutes = self._db.sql.conn.execute(
                "SELECT coalesce(sum(occurrences), 0), count(DISTINCT mute_id) FROM alerts"
                " WHERE post_state = ? AND created_at >= ? AND created_at < ?",
                [PostState.MUTED, iso(since), iso(until)],
            ).fetchone()
        return int(events), int(mutes)
