"""The replay prefilter: whether raw JSON text could hold anything a rule reads, decided without parsing it.

Everything CloudTrail writes carries its eventName in plain text, so text whose every eventName names an event no
rule reads (and that does not mention the root user, when a rule reads root's events) can be skipped unparsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from detections import event_names, reads_root_events, refused_event_names
from detections.base import REFUSED_ERROR_PREFIX, refused

_KEY = '"eventName"'
_KEY_LEN = len(_KEY)
_VALUE_AT = _KEY_LEN + 2  # where the value starts in `"eventName":"X"`, from the key
_COLON = re.compile(r"[ \t\r\n]*:[ \t\r\n]*")

# What an eventName value says by itself (Prefilter._judge), looked up once per distinct value.
_SKIP, _KEEP, _IF_REFUSED = 0, 1, 2
_VERDICTS_KEPT = 4096


class Prefilter:
    """Decides from raw JSON text, without parsing it, whether any rule could read what it holds."""

    def __init__(self, names: Iterable[str], root: bool, refused_names: Iterable[str] = ()) -> None:
        """`refused_names` are read only when refused (`Rule.refused_event_names`): kept when the text mentions
        the refusal's errorCode, parsed records when their errorCode is one."""
        self.names = frozenset(names)
        self.root = root
        self.refused_names = frozenset(refused_names) - self.names
        self._refusal = f'"{REFUSED_ERROR_PREFIX}'
        self._verdicts: dict[str, int] = {}  # eventName value -> _SKIP, _KEEP or _IF_REFUSED (bounded: see _judge)

    def _judge(self, value: str) -> int:
        """What an eventName value alone says: keep the text (a name a rule reads; ObjectCreated:, an S3
        notification to dead-letter; a backslash, an escaped name), keep it if it mentions the refusal, or nothing."""
        if value in self.names or "\\" in value or value.startswith("ObjectCreated:"):
            verdict = _KEEP
        elif value in self.refused_names:
            verdict = _IF_REFUSED
        else:
            verdict = _SKIP
        if len(self._verdicts) < _VERDICTS_KEPT:  # names come from the input: keep the table bounded
            self._verdicts[value] = verdict
        return verdict

    def could_match(self, text: str) -> bool:
        """False only when every eventName key in `text` holds a name no rule reads and (if a rule reads root's
        events) `text` does not mention "Root". Text with no eventName key is kept, and so is text whose escapes
        could hide a key, a name or "Root" from this reading (see `_escapes_could_hide`)."""
        # Most lines of a replay are CloudTrail's own: a first key `"eventName":"X"`, X a name already judged. When
        # X is one no rule reads and the line has no other key, no "Root" and no backslash, that is the full
        # reading's False; when X is one a rule reads, its True. Both are decided here in far fewer steps than the
        # full reading below takes; anything else (a verdict not known yet included) goes to it.
        at = text.find(_KEY)
        if at >= 0 and text.startswith(':"', at + _KEY_LEN):
            end = text.find('"', at + _VALUE_AT)
            if end >= 0:
                verdict = self._verdicts.get(text[at + _VALUE_AT : end])
                if verdict == _SKIP:
                    if text.find(_KEY, end) < 0 and not (self.root and '"Root"' in text) and "\\" not in text:
                        return False
                elif verdict == _KEEP:
                    return True
        return self._read(text, at)

    def _read(self, text: str, at: int) -> bool:
        """could_match's full reading of `text`, whose first eventName key is at `at` (-1: none)."""
        # Any one reason keeps the text, so the reasons are read cheapest-first for kept text: the name a rule reads
        # usually ends the reading at the first key, before the passes over the whole text for "Root" and escapes.
        find = text.find
        verdicts = self._verdicts
        keyed = False
        while at >= 0:
            i = at + _KEY_LEN
            # Fast paths for CloudTrail's own `"eventName":"X"` and json.dumps' `"eventName": "X"`.
            if text.startswith(':"', i):
                i += 2
            elif text.startswith(': "', i):
                i += 3
            else:
                colon = _COLON.match(text, i)  # anchored at one position, not a scan of the line
                if colon is None:
                    at = find(_KEY, i)  # "eventName" as a value, not a key
                    continue
                i = colon.end()
                if not text.startswith('"', i):
                    return True  # a non-string eventName: let the pipeline dead-letter the record
                i += 1
            keyed = True
            end = find('"', i)
            if end < 0:
                return True
            value = text[i:end]
            verdict = verdicts.get(value)
            if verdict is None:
                verdict = self._judge(value)
            if verdict and (verdict == _KEEP or self._refusal in text):
                return True
            at = find(_KEY, end)
        if not keyed:
            return True  # no eventName key (an envelope, an S3 test event, garbage): parse it
        if self.root and '"Root"' in text:
            return True
        slash = find("\\")
        return slash >= 0 and _escapes_could_hide(text, slash)

    def record_could_match(self, record: object) -> bool:
        """The same decision for a parsed record (anything that is not a plain record is kept)."""
        if not isinstance(record, dict):
            return True
        name = record.get("eventName")
        if not isinstance(name, str) or name in self.names:
            return True
        if name in self.refused_names and refused(record):
            return True
        if self.root:
            ident = record.get("userIdentity")
            return isinstance(ident, dict) and ident.get("type") == "Root"
        return False


def _escapes_could_hide(text: str, slash: int) -> bool:
    """Whether the escapes in `text` (its first backslash at `slash`) could hide what a rule reads from a plain
    reading: a \\u escape can spell a key, a name or "Root"; an escaped eventName key in an SNS notification is a
    record in its Message, which is unwrapped (elsewhere an escaped key is text, e.g. an EventBridge pattern)."""
    if text.find("\\u", slash) >= 0:
        return True
    return text.find('\\"eventName', slash) >= 0 and '"Notification"' in text


@cache
def default_prefilter() -> Prefilter:
    """The prefilter for the registered rules."""
    return Prefilter(event_names(), reads_root_events(), refused_event_names())


def could_match(line: str) -> bool:
    """Whether some registered rule could read the record(s) or envelope in this raw JSON text."""
    return default_prefilter().could_match(line)
