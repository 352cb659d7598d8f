"""How many lines a message takes on a laptop screen (Slack's message pane about 90 characters wide), estimated
from its blocks: text wrapped at that width, section fields two to a row at half of it, buttons in rows."""

from __future__ import annotations

import math
import re

WIDTH = 90
_LINK = re.compile(r"<[^|>]+\|([^>]+)>")
_EMOJI = re.compile(r":[a-z0-9_+-]+:")


def _shown(text: str) -> str:
    """The text as Slack shows it: a link as its label, an emoji as one wide character, no markup."""
    return _EMOJI.sub("@@", _LINK.sub(r"\1", text)).replace("*", "").replace("`", "").replace("&amp;", "&")


def text_lines(text: str, width: int = WIDTH) -> int:
    return sum(max(1, math.ceil(len(_shown(line)) / width)) for line in text.split("\n"))


def block_lines(block: dict) -> int:
    kind = block["type"]
    if kind == "section":
        fields = [f["text"] for f in block.get("fields", [])]
        rows = [fields[i : i + 2] for i in range(0, len(fields), 2)]
        return text_lines(block["text"]["text"]) + sum(max(text_lines(f, WIDTH // 2 - 3) for f in r) for r in rows)
    if kind == "context":
        return text_lines(" ".join(e["text"] for e in block["elements"]))
    if kind == "actions":
        return math.ceil(sum(len(e["text"]["text"]) + 6 for e in block["elements"]) / WIDTH)
    if kind in ("header", "divider"):
        return 1
    raise AssertionError(f"no estimate for a {kind} block")


def lines(message: dict) -> int:
    """The message's estimated height in lines of text."""
    return sum(block_lines(b) for b in message["blocks"])
