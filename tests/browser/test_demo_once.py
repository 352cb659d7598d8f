"""`bot.py demo --once`: the scripted scenario headless, through the same HTTP paths as the page."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from sandbox.demo import Script, StepFailed, run_script

REPO = Path(__file__).resolve().parents[2]
STEPS = (
    "simulate a privileged user created",
    "alert posted",
    "admin detaches the policy (confirm)",
    "admin disables the new user's key (confirm)",
    "/iam audit acknowledged",
    "audit report posted",
)


def test_demo_once_runs_every_step_and_cleans_up():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMBOT_", "SLACK_"))}
    done = subprocess.run(
        [sys.executable, "bot.py", "demo", "--once"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-3000:]
    for number, step in enumerate(STEPS, start=1):
        assert re.search(rf"^ok +{number}/6 {re.escape(step)} \[", out, re.M), out
    assert "has no attached policy; the alert message was updated" in out
    assert re.search(r"key AKIA\w+ is Inactive", out)
    assert "demo --once: all 6 steps worked" in out
    assert "Unable to find appropriate backend" not in out  # moto's notes stay off our lines
    removed = re.search(r"^stopped; removed (\S+)$", out, re.M)
    assert removed and not Path(removed.group(1)).exists()


def test_ctrl_c_stops_the_interactive_sandbox_cleanly():
    with socket.socket() as probe:  # a port free now, so two test runs never collide on 8080
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAMBOT_", "SLACK_"))}
    demo = subprocess.Popen(
        [sys.executable, "bot.py", "demo", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            seen.append(line)
            if "Press Ctrl-C to stop" in line:
                break
        page = re.search(r"http://127\.0\.0\.1:\d+/?", "".join(seen))
        assert page, "".join(seen)
        with urllib.request.urlopen(page.group(0), timeout=10) as reply:  # the page is really served
            assert reply.status == 200
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    out = "".join(seen) + rest
    assert demo.returncode == 0, out
    assert "Traceback" not in out
    removed = re.search(r"^stopped; removed (\S+)$", out, re.M)
    assert removed and not Path(removed.group(1)).exists()


class NoAlertPage:
    """A page API whose simulation works but where no alert ever shows up."""

    def post(self, path: str, body: dict) -> dict:
        assert path == "/api/simulate"
        return {"sent": ["CreateUser"], "users": ["backup-svc"], "event_ids": ["e1"]}

    def channels(self) -> list[str]:
        return ["C0IAMALERTS"]

    def timeline(self, user: str = "U0ADMIN1", channel: str = "") -> list[dict]:
        return []


def test_a_failed_step_is_named_and_exits_1(monkeypatch):
    import sandbox.demo as demo

    def impatient(what, probe, timeout):
        if not probe():
            raise StepFailed(f"{what} did not happen within 0 s")

    monkeypatch.setattr(demo, "wait_for", impatient)
    lines: list[str] = []
    assert run_script(NoAlertPage(), lines.append) == 1
    assert lines[0].startswith("ok    1/6 simulate a privileged user created")
    assert lines[1] == "FAIL  2/6 alert posted: the privileged_user_created alert did not happen within 0 s"
    assert lines[2] == "demo --once failed at step 2 (alert posted)"


def test_the_script_names_the_steps_the_issue_lists():
    assert [name for name, _ in Script(NoAlertPage()).steps()] == list(STEPS)


# -- the sandbox's parts, without a browser ---------------------------------------------------------------------


def test_a_busy_page_port_is_said_and_a_free_one_used():
    from sandbox.page_server import PageServer

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        said: list[str] = []
        server = PageServer(backend=None)
        try:
            url = server.start(busy, said.append)
        finally:
            server.stop()
    assert said == [f"port {busy} is in use; the sandbox page uses free port {server_port(url)} instead"]
    assert server_port(url) != busy


def server_port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def test_response_url_posts_and_command_replies_are_shown_to_their_user_only():
    import json
    import urllib.request

    from standins.slack import FakeSlack

    fake = FakeSlack()
    fake.start()
    try:
        url = fake.response_url("click-1", "U0VIEWER", "C0IAMALERTS")
        body = json.dumps({"text": "Nothing was changed.", "response_type": "ephemeral"}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as reply:
            assert reply.status == 200
        fake.add_ephemeral("U0ADMIN1", "C0IAMALERTS", ":mag: Auditing…", source="slash command")
    finally:
        fake.stop()
    [seen] = fake.ephemeral_for("U0VIEWER")
    assert (seen["text"], seen["source"], seen["channel"]) == ("Nothing was changed.", "response_url", "C0IAMALERTS")
    assert [e["text"] for e in fake.ephemeral_for("U0ADMIN1")] == [":mag: Auditing…"]
    assert fake.responses == [{"text": "Nothing was changed.", "response_type": "ephemeral"}]  # as before
    assert fake.version == 2


def test_threads_keep_replies_under_their_parent_and_broadcasts_in_both_places():
    from sandbox.page_server import thread_items

    items = [
        {"ts": "1.000003", "thread_ts": "1.000001", "reply_broadcast": True, "text": "critical"},
        {"ts": "1.000001", "thread_ts": None, "text": "parent"},
        {"ts": "1.000002", "thread_ts": "1.000001", "text": "reply"},
        {"ts": "1.000004", "thread_ts": "9.999999", "text": "orphan"},
    ]
    shown = thread_items(items)
    assert [(i["text"], len(i["replies"]), i.get("broadcast", False)) for i in shown] == [
        ("parent", 2, False),
        ("critical", 0, True),
        ("orphan", 0, False),
    ]
    assert [r["text"] for r in shown[0]["replies"]] == ["reply", "critical"]
