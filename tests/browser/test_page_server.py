"""The sandbox page's HTTP server when a browser goes away: a tab closed or reloaded mid-request is routine and
leaves no traceback on the terminal the sandbox runs in (no browser needed)."""

from __future__ import annotations

import socket
import struct
import threading
import time
import urllib.request

import pytest

from sandbox.page_server import PageServer

RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a TCP reset, as a killed tab's socket does


class SlowAccount:
    """A backend whose account panel takes a moment and is large, so the browser is gone before it is written."""

    def __init__(self) -> None:
        self.asked = threading.Event()

    def account(self) -> dict:
        self.asked.set()
        time.sleep(0.3)
        return {"users": ["x" * 1000] * 2000}


@pytest.fixture
def served():
    backend = SlowAccount()
    server = PageServer(backend)
    server.start(0, lambda _line: None)
    yield server, backend
    server.stop()


def _request_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.endswith("(process_request_thread)")]


def _reset(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)


def _settle() -> None:
    end = time.monotonic() + 5
    while _request_threads() and time.monotonic() < end:
        time.sleep(0.05)


def test_a_tab_closed_mid_response_or_mid_request_leaves_no_traceback(served, capfd):
    server, backend = served
    port = server.port
    _reset(port, f"GET /api/account HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())  # gone before the answer
    assert backend.asked.wait(5)
    _settle()
    _reset(port, b"GET /api/acc")  # gone while the request line is still being read
    _settle()
    post = f"POST /api/click HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
    _reset(port, (post + "Content-Length: 5000\r\n\r\n{").encode())  # gone while the body is being read
    _settle()
    with urllib.request.urlopen(server.url, timeout=5) as reply:  # and the page is still served
        assert reply.status == 200 and b"IAM Warden" in reply.read()
    out, err = capfd.readouterr()
    assert "Traceback" not in err + out
    assert "Exception occurred during processing" not in err + out
