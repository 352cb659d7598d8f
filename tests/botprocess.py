"""`python bot.py` as a user or a supervisor runs it: a subprocess against the Slack stand-in and a moto server."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from moto.server import ThreadedMotoServer

from tests.conftest import ADMINS, BOT_TOKEN, CHANNEL, SIGNING_SECRET

_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
ROOT = Path(__file__).resolve().parents[1]
AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def moto_server(**extra: str) -> Iterator[str]:
    """A moto server on loopback, reached by the bot through AWS_ENDPOINT_URL (for a module-scoped fixture), with
    fake credentials and any `extra` variables set while it runs."""
    env = {**AWS, **extra}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BotProcess:
    """`bot.py serve` in a subprocess; stderr goes to a file the test reads as it grows."""

    def __init__(self, tmp_path: Path, moto_url: str, slack_api_url: str, **env: str) -> None:
        import boto3

        # The SQS worker as the event source: moto's server has no CloudTrail LookupEvents.
        sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1", **_KEYS)
        queue_url = sqs.create_queue(QueueName="iam-warden-events")["QueueUrl"]
        self.port = free_port()
        self.stderr_path = tmp_path / "bot-stderr.log"
        values = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            **AWS,
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_MAX_ATTEMPTS": "1",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_api_url,
            "IAMBOT_CHANNEL": CHANNEL,
            "IAMBOT_ADMINS": ",".join(sorted(ADMINS)),
            "IAMBOT_DB": str(tmp_path / "warden.db"),
            "PORT": str(self.port),
            "IAMBOT_SQS_QUEUE_URL": queue_url,
            **env,
        }
        with self.stderr_path.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "bot.py"), "serve"],
                env=values,
                cwd=tmp_path,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    @property
    def stderr(self) -> str:
        """Everything the bot wrote to stderr so far."""
        return self.stderr_path.read_text()

    def wait_log(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """Wait until stderr matches `pattern` (a regex); fails the test with the log if it never does."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = re.search(pattern, self.stderr)
            if found:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        found = re.search(pattern, self.stderr)
        assert found, f"no {pattern!r} in the bot's stderr (exit {self.proc.poll()}):\n{self.stderr}"
        return found

    def cpu_seconds(self) -> float:
        """User plus system CPU time the bot has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send `sig` and wait for the exit code; a bot still running after `timeout` is asked for a dump of its
        threads (SIGUSR1, faulthandler), killed, and the test fails with its stderr."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(2)
            self.kill()
            tail = self.stderr[-6000:]
            raise AssertionError(f"bot.py serve still running {timeout:.0f} s after {sig.name}:\n{tail}") from None

    def kill(self) -> None:
        """Make sure the process is gone (test clean-up)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
