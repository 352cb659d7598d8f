"""The states the bot records: of an action, of an alert, of an alert's post to Slack, of a finding."""

from __future__ import annotations

# Action states after which a click must not run the action again.
FINAL_STATES = ("done", "noop")
