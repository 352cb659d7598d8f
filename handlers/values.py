"""Button values come back from Slack as the client sent them: trust none until it is a small positive id."""

from __future__ import annotations

import re

# SQLite's INTEGER holds up to 2**63 - 1; 18 digits stay below it. ASCII only: int() also reads "٣" as 3.
_ID = re.compile(r"[1-9][0-9]{0,17}", re.ASCII)

MALFORMED = "That button's data is malformed; nothing was done."


def button_id(value: object) -> int | None:
    """The row id a button's value names, or None when it is anything but a small positive integer string."""
    return int(value) if isinstance(value, str) and _ID.fullmatch(value) else None
