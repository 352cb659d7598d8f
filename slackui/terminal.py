"""Show a Block Kit message in a terminal, for `bot.py replay`: the same blocks Slack would get, as plain text.

Slack's markup is turned into text (no `*bold*`, backticks or `_(x5)_`), buttons are left out (a terminal cannot
press them), and with `colour` the headline takes its severity's ANSI colour and headings are bold.
"""

from __future__ import annotations

import re
import textwrap

from core.severity import Severity
from slackui.blocks import STATE_ICONS

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^|>]+)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w])_([^_\n]+)_(?!\w)")
_STRIKE = re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]*)`")
_SEVERITY_OF_EMOJI = {severity.emoji: severity for severity in Severity}
_ICONS = {icon: "-" for icon in STATE_ICONS.values()} | {":eyes:": "-"}
# ANSI SGR codes: the headline's colour by severity, and bold for headings.
_COLOUR = {
    Severity.CRITICAL: "1;31",
    Severity.HIGH: "31",
    Severity.MEDIUM: "33",
    Severity.LOW: "36",
    Severity.INFO: "2",
}
_BOLD_ON, _RESET = "\x1b[1m", "\x1b[0m"


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}{_RESET}" if colour and text else text


def _text(mrkdwn: str, colour: bool = False) -> tuple[str, Severity | None]:
    """Plain text for a mrkdwn string, and the severity its emoji showed (if any)."""
    severity = None
    out = mrkdwn
    for code, found in _SEVERITY_OF_EMOJI.items():
        if code in out:
            severity = severity or found
            out = out.replace(f"{code} ", "").replace(code, "")
    for code, mark in _ICONS.items():
        out = out.replace(code, mark)
    out = _CODE.sub(r"\1", out)  # first: code spans keep their underscores and asterisks
    out = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", out)
    out = _BARE_LINK.sub(r"\1", out)
    out = _MENTION.sub(r"@\1", out)
    out = _CHANNEL.sub(r"#\1", out)
    out = _BOLD.sub(lambda m: _paint(m.group(1), "1", colour), out)
    out = _ITALIC.sub(r"\1", out)
    out = _STRIKE.sub(r"\1", out)
    return out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"), severity


def render(message: dict, width: int = 100, colour: bool = False) -> str:
    """A plain-text picture of a message's blocks; `colour` adds ANSI colour (for a terminal)."""
    lines: list[str] = []
    for block in message.get("blocks", []):
        kind = block.get("type")
        if kind == "section":
            text, severity = _text(block["text"]["text"], colour)
            section = text.splitlines()
            if severity is not None and section:
                section[0] = _paint(_plain(section[0]), _COLOUR[severity], colour)
            lines.extend(section)
            for field in block.get("fields", []):
                label, _, value = _text(field["text"])[0].partition("\n")
                lines.append(f"  {label + ':':<14} {value}")
        elif kind == "context":
            lines.append("  " + "  |  ".join(_text(e["text"])[0] for e in block["elements"]))
    # Lines holding a link are left whole so the address stays clickable in a terminal.
    wrapped = [_fill(line, width) if _visible_length(line) > width and "://" not in line else line for line in lines]
    rule = "-" * min(width, 100)
    return "\n".join([rule, *wrapped])


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


def _visible_length(line: str) -> int:
    return len(_plain(line))


def _fill(line: str, width: int) -> str:
    if "\x1b" in line:  # escape codes would count as width and could be split: wrap the plain text
        line = _plain(line)
    return textwrap.fill(line, width, subsequent_indent="    ")
