"""`bot.py replay`'s terminal view: the alert as text (no mrkdwn, no pseudo-buttons), coloured only on a TTY."""

from __future__ import annotations

import dataclasses
import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from core.states import AlertStatus
from detections import example_records as s
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from slackui.blocks import alert_message
from slackui.terminal import render
from storage import Store

ROOT = Path(__file__).resolve().parents[2]
RED = "\x1b[1;31m"


def replay(path: str, tmp_path: Path, tty: bool = False, **env: str) -> str:
    """`bot.py replay PATH` as a user runs it; with `tty`, its stdout is a pseudo-terminal. Returns its stdout."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env}
    command = [sys.executable, str(ROOT / "bot.py"), "replay", path]
    if not tty:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout
    leader, follower = pty.openpty()
    with subprocess.Popen(command, env=env, stdout=follower, stderr=subprocess.DEVNULL, cwd=tmp_path) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=120) == 0
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def records(tmp_path: Path) -> str:
    path = tmp_path / "trail.json"
    grant = {"userName": "eve_ops", "policyArn": s.ADMINISTRATOR_ACCESS}
    path.write_text(
        json.dumps(
            {
                "Records": [
                    s.iam_call("CreateUser", {"userName": "eve_ops"}, event_id="00000000-0000-4000-8000-000000000001"),
                    s.iam_call("AttachUserPolicy", grant, event_id="00000000-0000-4000-8000-000000000002"),
                ]
            }
        )
    )
    return str(path)


def test_replay_prints_text_without_mrkdwn_or_buttons(tmp_path):
    text = replay(records(tmp_path), tmp_path)  # stdout is a pipe: no colour either
    assert "CRITICAL · New user eve_ops given admin-equivalent power" in text
    assert "  Target:        arn:aws:iam::111122223333:user/eve_ops" in text  # no backticks; underscores kept
    assert "rule privileged_user_created  |  event 00000000-0000-4000-8000-000000000002" in text
    for markup in ("*", "`", ":red_circle:", "[ Acknowledge ]", "Detach AdministratorAccess", "\x1b["):
        assert markup not in text, markup


def test_replay_colours_by_severity_on_a_tty_unless_no_color(tmp_path):
    coloured = replay(records(tmp_path), tmp_path, tty=True)
    assert f"{RED}CRITICAL · New user eve_ops given admin-equivalent power\x1b[0m" in coloured
    assert "\x1b[33mMEDIUM · IAM user eve_ops created\x1b[0m" in coloured
    assert "\x1b[1mWhy it matters\x1b[0m" in coloured
    plain = replay(records(tmp_path), tmp_path, tty=True, NO_COLOR="1")
    assert "\x1b[" not in plain and "CRITICAL · New user eve_ops" in plain


def test_repeats_links_and_mentions_read_as_text():
    store = Store(":memory:")
    created = s.iam_call("CreateUser", {"userName": "eve_ops"}, event_id="00000000-0000-4000-8000-000000000001")
    [alert_id] = Pipeline(store, PipelineContext(store)).process([created], "test").alert_ids
    alert = dataclasses.replace(
        store.alert(alert_id),
        title="Key made for a_b*c",
        occurrences=5,
        status=AlertStatus.ACKNOWLEDGED,
        acked_by="U0ADMIN1",
        acked_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    text = render(alert_message(alert, "why", "what"))
    assert "MEDIUM · Key made for a_b*c  (x5)" in text and "_(x5)_" not in text
    assert "Acknowledged by @U0ADMIN1" in text and ":eyes:" not in text
    link = {"type": "section", "text": {"type": "mrkdwn", "text": "*See* <https://example.com|the docs> &amp; ~old~"}}
    assert render({"blocks": [link]}).splitlines()[1] == "See the docs (https://example.com) & old"
