"""`bot.py replay` raises the trust, padded-policy, federation and guardrail alerts offline, where only the
record's account and IAMBOT_TRUSTED_ACCOUNTS are trusted and no omitted document can be read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from detections import rule
from detections.example_records import iam_call
from detections.rules.role_trust_opened import _allow, _update
from tests.replaying import replay_alerts

ROOT = Path(__file__).resolve().parent.parent
VENDOR, STRANGER = "999988887777", "777766665555"


def _example(rule_id: str, name: str) -> dict:
    return next(ex.record for ex in rule(rule_id).examples if ex.name == name)


def test_replay_raises_the_new_alerts_offline(tmp_path: Path) -> None:
    records = [
        _update("vendor-read", _allow({"AWS": VENDOR}), event_id="00000000-0000-4000-8000-00000000a001"),
        _update("backdoor", _allow({"AWS": STRANGER}), event_id="00000000-0000-4000-8000-00000000a002"),
        _update(
            "ecs-task", _allow({"Service": "ecs-tasks.amazonaws.com"}), event_id="00000000-0000-4000-8000-00000000a003"
        ),
        iam_call(
            "PutRolePolicy",
            {"reason": "requestParameters too large", "omitted": True},
            None,
            event_id="00000000-0000-4000-8000-00000000a004",
        ),
        _example("federation_trust_changed", "SAML provider created"),
        _example("guardrail_removed", "attempt to leave the organization refused"),
    ]
    path = tmp_path / "trail.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMBOT_"))}
    env |= {"IAMBOT_TRUSTED_ACCOUNTS": VENDOR, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    alerts, stderr = replay_alerts(path, records, env)
    assert [(a["rule"], a["severity"], a["event_id"][-4:]) for a in alerts] == [
        ("role_trust_opened", "critical", "a002"),
        ("policy_unverifiable", "high", "a004"),
        ("federation_trust_changed", "high", records[4]["eventID"][-4:]),
        ("guardrail_removed", "critical", records[5]["eventID"][-4:]),
    ]
    assert alerts[0]["target"] == "arn:aws:iam::111122223333:role/backdoor"
    assert "6 record(s)" in stderr


def test_replay_rejects_a_bad_trusted_account(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"Records": []}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("IAMBOT_")} | {"IAMBOT_TRUSTED_ACCOUNTS": "vendor"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "IAMBOT_TRUSTED_ACCOUNTS: vendor is not a 12-digit account id" in done.stderr
    assert "Traceback" not in done.stderr
