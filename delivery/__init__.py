"""Delivery to Slack: the alert outbox worker and audit reports."""
