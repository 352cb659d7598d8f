"""could_match's shortcut for CloudTrail's common line decides exactly as its full reading does (attackers write
replay's input): random and adversarial lines, each decided twice (the second time with every verdict known, as the
shortcut needs), against `Prefilter._read` over a prefilter of its own."""

from __future__ import annotations

import json
import random

import pytest

from detections import event_names, reads_root_events, refused_event_names
from detections import example_records as s
from ingest.prefilter import Prefilter

KEY = '"eventName"'
KEPT = sorted(event_names())
REFUSED_ONLY = sorted(refused_event_names() - event_names())
BORING = ["GetObject", "DescribeInstances", "Decrypt", "ListBuckets", "CreateUsers", "createUser", "Get", "x"]
VALUES = [
    *KEPT[:12],
    *REFUSED_ONLY[:8],
    *BORING,
    "",
    "ObjectCreated:Put",
    "ObjectCreated:",
    "Root",
    "Create\\u0055ser",
    "List\\Users",
    "Ünïcode",
    "\ufffd",
    " GetObject",
]
KEY_FORMS = [
    '"eventName":"{v}"',
    '"eventName":"{v}"',  # twice: CloudTrail's own form is the common one
    '"eventName": "{v}"',
    '"eventName" : "{v}"',
    '"eventName":\n"{v}"',
    '"eventName"\t:"{v}"',
    '"eventName":"{v}',  # no closing quote (a later fragment may bring one)
    '"eventName"eventName":"{v}"',
    '"eventName":"{v}"eventName":"{w}"',
    '"eventName":{v}',
    '"eventName":',
    '"eventName"',
    '\\"eventName\\":\\"{v}\\"',
    '"event\\u004eame":"{v}"',
    '"eventName":"{v}","eventName":"{w}"',
]
OTHER = [
    '"Root"',
    '"type":"Root"',
    '"type": "Root"',
    "Root",
    '"R\\u006fot"',
    '"errorCode":"AccessDenied"',
    '"errorCode":"AccessDeniedException"',
    '"errorCode":"accessdenied"',
    '"Type":"Notification"',
    '"Message":"{\\"eventName\\":\\"CreateUser\\"}"',
    "\\",
    "\\u0041",
    '"k":"v"',
    '"eventName',
    'eventName"',
    '"',
    "{",
    "}",
    ",",
    " ",
    "\r",
    "\n",
    "\t",
    "12",
    "x" * 40,
]


def _line(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(1, 8)):
        if rng.random() < 0.45:
            form = rng.choice(KEY_FORMS)
            parts.append(form.replace("{v}", rng.choice(VALUES)).replace("{w}", rng.choice(VALUES)))
        else:
            parts.append(rng.choice(OTHER))
    text = rng.choice(["", ","]).join(parts)
    if rng.random() < 0.5:
        text = "{" + text + "}"
    return text + rng.choice(["", "", "\n", "\r\n"])


def _record_line(rng: random.Random) -> str:
    """A record as CloudTrail writes it, now and then with "Root" or a backslash somewhere."""
    name = rng.choice(KEPT + REFUSED_ONLY + BORING * 20)
    actor = rng.choice([s.iam_user("alice"), s.role_session(), s.root(), {"type": "AWSService"}])
    error = rng.choice([None, None, None, "AccessDenied", "ThrottlingException"])
    note = rng.choice(["", "", "Root", '"Root"', "a\\b", s.policy_json(s.ALLOW_ALL), '"eventName":"CreateUser"'])
    record = s.event(name, "iam.amazonaws.com", event_id=f"id-{rng.getrandbits(32)}", actor=actor, error=error)
    record["requestParameters"] = {"note": note}
    return json.dumps(record, separators=(",", ":")) + "\n"


CONFIGS = {
    "registry": (event_names(), reads_root_events(), refused_event_names()),
    "names, root": ({"CreateUser", "ConsoleLogin", "StopLogging"}, True, {"GetObject", "ListBuckets"}),
    "names, no root": ({"CreateUser", "ConsoleLogin", "StopLogging"}, False, ()),
}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_the_shortcut_decides_as_the_full_reading(config, monkeypatch):
    names, root, refused = CONFIGS[config]
    pf, reference = Prefilter(names, root, refused), Prefilter(names, root, refused)
    full_readings = 0
    read = pf._read

    def counted(text: str, at: int) -> bool:
        nonlocal full_readings
        full_readings += 1
        return read(text, at)

    monkeypatch.setattr(pf, "_read", counted)
    rng = random.Random(config)
    lines = [_line(rng) for _ in range(6000)] + [_record_line(rng) for _ in range(3000)]
    shortcut = {True: 0, False: 0}  # decisions the shortcut took, by answer
    for text in lines:
        want = reference._read(text, text.find(KEY))
        for _ in range(2):  # the first decision may judge a new name; the second knows every verdict
            before = full_readings
            assert pf.could_match(text) is want, repr(text[:300])
            if full_readings == before:
                shortcut[want] += 1
    # The shortcut was exercised both ways, not only the full reading.
    assert shortcut[False] > 200 and shortcut[True] > 200, shortcut


def test_a_full_verdict_table_changes_no_decision():
    # Names past the table's bound are never remembered, so their lines always take the full reading.
    pf = Prefilter({"CreateUser"}, True)
    for n in range(5000):
        assert not pf.could_match(f'{{"eventName":"Name{n}"}}')
    for n in range(5000):
        assert not pf.could_match(f'{{"eventName":"Name{n}"}}\n')
        assert pf.could_match(f'{{"eventName":"Name{n}","userIdentity":{{"type":"Root"}}}}')
    assert pf.could_match('{"eventName":"CreateUser"}')
