"""Rule mutes consulted when alerts are raised: a muted alert is still stored, counted and replayable, but it is marked
with its mute and never enters the outbox. What a mute hides is core.rule_mutes' to say."""

from __future__ import annotations

from collections.abc import Iterable

from core.alert import Alert
from core.rule_mutes import RuleMute, hides


def mute_alerts(alerts: Iterable[Alert], mutes: Iterable[RuleMute]) -> int:
    """Mark each alert an active mute hides with that mute's id (the oldest such mute); returns how many were muted.

    A muted alert's dedup key names its mute, so it folds only into alerts muted by the same mute: an alert raised
    after the mute is lifted never folds into one nobody saw.
    """
    by_rule: dict[str, list[RuleMute]] = {}
    for mute in mutes:
        by_rule.setdefault(mute.rule, []).append(mute)
    muted = 0
    for alert in alerts:
        mute = next((m for m in by_rule.get(alert.rule, ()) if hides(m, alert)), None)
        if mute is not None:
            alert.mute_id = mute.id
            alert.dedup_key = f"{alert.dedup_key}|muted:{alert.mute_id}"
            muted += 1
    return muted
