"""The wiring of a run that posts nothing (`bot.py replay` and `bot.py hunt` without --post): kept apart from
app/wiring.py so that such a run imports no Slack, scheduler or AWS library."""

from __future__ import annotations

from collections.abc import Callable

from config import trusted_accounts
from detections.base import Rule
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from storage import Store


def offline_pipeline(
    rules: tuple[Rule, ...] | None = None, on_dead_letter: Callable[[str, str], None] | None = None
) -> Pipeline:
    """A pipeline over an in-memory store whose rules ask AWS nothing; only IAMBOT_TRUSTED_ACCOUNTS is read from
    the environment. `rules`: the rules to run (every registered one when None)."""
    store = Store(":memory:")
    context = PipelineContext(store, trusted_accounts=trusted_accounts())
    return Pipeline(store, context, on_dead_letter=on_dead_letter, rules=rules)
