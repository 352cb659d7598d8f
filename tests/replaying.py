"""Run `bot.py replay --jsonl` on CloudTrail records as a user would, and read the alerts it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def replay_alerts(path: Path, records: list[dict], env: dict[str, str] | None = None) -> tuple[list[dict], str]:
    """Write `records` as one CloudTrail file at `path`, replay it offline (exit code 0): its alerts and stderr."""
    path.write_text(json.dumps({"Records": records}))
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "replay", str(path), "--jsonl"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=path.parent,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr
