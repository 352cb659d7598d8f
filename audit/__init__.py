"""Posture audits: run checks over account snapshots, fold results into findings, report, schedule, digest."""
