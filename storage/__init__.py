"""Persistence: the SQLite store owns every table, migration, read and write; nothing outside storage/ writes SQL.

Each table has one owner (schema.py creates them all, db.py holds the connection, lock and transaction helper):

- events.py: events (processed CloudTrail events), alerts (the outbox owns their posting columns), rule_memory
  (the rules' declared memory)
- outbox.py: the posting state of alerts
- event_records.py: event_records (the redacted CloudTrail record of each event that raised an alert)
- incidents.py: incidents (linked alerts in the thread window under one parent message), incident_links (what
  each incident's alerts are about: actors, targets) and alerts.incident_id
- actions.py: actions (each button click's claim, approval and outcome)
- findings.py: audits (audit runs), findings (their lifecycle across audits), mutes
- rule_mutes.py: rule_mutes (detection rules muted for an actor, a target or an account; alerts.mute_id names
  the mute that kept an alert out of Slack)
- schedule.py: job_runs (claimed slots of scheduled jobs)
- cursors.py: cursors, dead_letters
- db.py: schema_migrations (the applied migrations)
"""

from storage.store import Store

__all__ = ["Store"]
