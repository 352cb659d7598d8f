"""Sign HTTP requests exactly as Slack does (v0 HMAC-SHA256), for tests, benchmarks and the sandbox page."""

from __future__ import annotations

import hashlib
import hmac
import time


def slack_headers(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The `X-Slack-Request-Timestamp` and `X-Slack-Signature` headers Slack would send with `body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
