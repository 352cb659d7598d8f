"""Slack listeners. Each module's register(app, deps) binds its ids; listeners stay thin."""

from __future__ import annotations

import logging

from slack_bolt import App

from handlers import actions, commands, findings, home, incidents, modals
from handlers.deps import Deps

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    """Bind every listener and the global error handler."""
    actions.register(app, deps)
    incidents.register(app, deps)
    commands.register(app, deps, modals.open_mute_form)
    findings.register(app, deps)
    home.register(app, deps)
    modals.register(app, deps)

    @app.error
    def on_error(error: Exception, body: dict) -> None:
        # Never log the body: it can carry user text. The type and where it happened are enough.
        kind = body.get("type") or body.get("command") or "request"
        log.exception("listener failed on %s: %s", kind, type(error).__name__)
