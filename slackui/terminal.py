"""Show a Block Kit message in a terminal, for `bot.py replay` (the same blocks Slack would get)."""

from __future__ import annotations

import re
import textwrap

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_EMOJI = {
    ":red_circle:": "[!!]",
    ":large_orange_circle:": "[! ]",
    ":large_yellow_circle:": "[~ ]",
    ":large_blue_circle:": "[i ]",
    ":white_circle:": "[  ]",
}


def _text(mrkdwn: str) -> str:
    out = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", mrkdwn)
    out = _MENTION.sub(r"@\1", out)
    for code, mark in _EMOJI.items():
        out = out.replace(code, mark)
    return out.replace("*", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(message: dict, width: int = 100) -> str:
    """A plain-text picture of a message's blocks."""
    lines: list[str] = []
    for block in message.get("blocks", []):
        kind = block.get("type")
        if kind == "section":
            lines.extend(_text(block["text"]["text"]).splitlines())
            for field in block.get("fields", []):
                label, _, value = _text(field["text"]).partition("\n")
                lines.append(f"  {label + ':':<14} {value}")
        elif kind == "context":
            lines.append("  " + "  |  ".join(_text(e["text"]) for e in block["elements"]))
        elif kind == "actions":
            lines.append("  " + " ".join(f"[ {e['text']['text']} ]" for e in block["elements"]))
    # Lines holding a link are left whole so the address stays clickable in a terminal.
    wrapped = [
        textwrap.fill(line, width, subsequent_indent="    ") if len(line) > width and "://" not in line else line
        for line in lines
    ]
    rule = "-" * min(width, 100)
    return "\n".join([rule, *wrapped])
