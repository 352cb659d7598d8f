"""Incidents: linked alerts within the thread window (by the same actor or about the same principal, as
core/incident_links.py says), under one parent message. Owns the incidents and incident_links tables and
alerts.incident_id; records an alert's post, its incident and the incident's links in one transaction, so a crash
cannot leave an alert posted in a thread its incident does not count."""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from core import incident_links
from core.rows import ActionRow, AlertRow, IncidentRow
from core.severity import Severity
from storage.db import Area, iso, storable
from storage.outbox import posted_columns


class Incidents(Area):
    """Incidents and the link from each posted alert to its incident."""

    def incident_for(self, alert: AlertRow, since: datetime, channel: str) -> IncidentRow | None:
        """The latest posted incident in `channel` whose last alert came at or after `since` and that `alert` is
        linked to: one of its alerts has the same actor, or a target, actor or target that `alert` names as its
        target, actor or target (core/incident_links.py). An incident recorded before its links were kept is
        found by its key alone."""
        wanted = sorted(storable(link) for link in incident_links.wanted(alert))
        marks = ", ".join("?" for _ in wanted) or "NULL"  # placeholders only: every value is bound
        # The candidates come from the two indexes (key and time, link); `+channel` keeps SQLite from walking
        # every incident of the channel instead.
        with self._db.lock:
            rows = list(
                self._db.sql["incidents"].rows_where(
                    "id IN (SELECT id FROM incidents WHERE key = ? AND last_seen >= ?"  # noqa: S608
                    f" UNION ALL SELECT incident_id FROM incident_links WHERE link IN ({marks}))"
                    " AND last_seen >= ? AND ts IS NOT NULL AND +channel = ?",
                    [storable(alert.thread_key), iso(since), *wanted, iso(since), channel],
                    order_by="id desc",
                    limit=1,
                )
            )
        return IncidentRow.from_row(rows[0]) if rows else None

    def incident_link_set(self, incident_id: int) -> set[str]:
        """The links an incident's alerts gave it (core/incident_links.links)."""
        with self._db.lock:
            return {r["link"] for r in self._db.sql["incident_links"].rows_where("incident_id = ?", [incident_id])}

    def incident(self, incident_id: int) -> IncidentRow | None:
        """One incident by id, or None."""
        with self._db.lock:
            rows = list(self._db.sql["incidents"].rows_where("id = ?", [incident_id]))
        return IncidentRow.from_row(rows[0]) if rows else None

    def incident_at(self, channel: str, ts: str) -> IncidentRow | None:
        """The incident whose parent message is `ts` in `channel`, or None."""
        with self._db.lock:
            rows = list(self._db.sql["incidents"].rows_where("channel = ? AND ts = ?", [channel, ts], limit=1))
        return IncidentRow.from_row(rows[0]) if rows else None

    def incident_alerts(self, incident_id: int) -> list[AlertRow]:
        """The alerts of an incident, oldest first (the first is its root)."""
        with self._db.lock:
            rows = self._db.sql["alerts"].rows_where("incident_id = ?", [incident_id], order_by="id")
            return [AlertRow.from_row(r) for r in rows]

    def incident_actions(self, incident_id: int) -> dict[int, list[ActionRow]]:
        """The actions on each alert of an incident (alert id -> its trail, oldest first), in one query."""
        trails: dict[int, list[ActionRow]] = {}
        with self._db.lock:
            cursor = self._db.sql.conn.execute(
                "SELECT actions.* FROM actions JOIN alerts ON alerts.id = actions.alert_id"
                " WHERE alerts.incident_id = ? ORDER BY actions.id",
                [incident_id],
            )
            columns = [c[0] for c in cursor.description]
            for values in cursor.fetchall():
                row = ActionRow.from_row(dict(zip(columns, values, strict=True)))
                trails.setdefault(row.alert_id, []).append(row)
        return trails

    def post_as_incident(self, alert_id: int, channel: str, ts: str) -> IncidentRow:
        """Record that Slack accepted `alert_id` as a top-level message: posted, and the root of a new incident."""
        with self._db.tx() as db:
            alert = AlertRow.from_row(db["alerts"].get(alert_id))
            seen = iso(alert.created_at) if alert.created_at else self._db.now()
            pk = (
                db["incidents"]
                .insert(
                    {
                        "key": storable(alert.thread_key),
                        "root_alert_id": alert_id,
                        "severity": alert.severity or Severity.INFO,
                        "events": 1,
                        "channel": channel,
                        "ts": ts,
                        "first_seen": seen,
                        "last_seen": seen,
                    }
                )
                .last_pk
            )
            db["alerts"].update(alert_id, {**posted_columns(channel, ts, None, self._db.now()), "incident_id": pk})
            self._link(db, pk, alert)
            return IncidentRow.from_row(db["incidents"].get(pk))

    def post_in_incident(self, alert_id: int, incident_id: int, channel: str, ts: str) -> IncidentRow:
        """Record that Slack accepted `alert_id` in the thread of incident `incident_id`; the incident counts it
        and takes its severity when it is higher. A second call for the same alert counts nothing more."""
        with self._db.tx() as db:
            alert = AlertRow.from_row(db["alerts"].get(alert_id))
            incident = IncidentRow.from_row(db["incidents"].get(incident_id))
            db["alerts"].update(
                alert_id, {**posted_columns(channel, ts, incident.ts, self._db.now()), "incident_id": incident_id}
            )
            self._link(db, incident_id, alert)
            if alert.incident_id != incident_id:
                severity = incident.severity
                if alert.severity is not None and alert.severity.rank < severity.rank:
                    severity = alert.severity
                seen = iso(alert.created_at) if alert.created_at else self._db.now()
                db.execute(
                    "UPDATE incidents SET events = events + 1, severity = ?, last_seen = max(last_seen, ?)"
                    " WHERE id = ?",
                    [severity, seen, incident_id],
                )
            return IncidentRow.from_row(db["incidents"].get(incident_id))

    def adopt_root(self, root: AlertRow) -> IncidentRow:
        """The incident of a posted top-level alert, made now if it has none (an alert posted before incidents
        existed, or whose incident was not recorded)."""
        with self._db.lock:
            if root.incident_id is not None:
                found = self.incident(root.incident_id)
                if found is not None:
                    return found
            assert root.channel and root.ts
            return self.post_as_incident(root.id, root.channel, root.ts)

    @staticmethod
    def _link(db: sqlite_utils.Database, incident_id: int, alert: AlertRow) -> None:
        """Record what `alert` gives its incident for later alerts to find (a link already known is kept once)."""
        db.conn.executemany(
            "INSERT OR IGNORE INTO incident_links (incident_id, link) VALUES (?, ?)",
            [(incident_id, storable(link)) for link in sorted(incident_links.links(alert))],
        )
