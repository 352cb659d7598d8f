"""The sandbox page's HTTP server when a browser goes away: a tab closed or reloaded mid-request is routine and
leaves no traceback on the terminal the sandbox runs in (no browser needed)."""

from __future__ import annotations

import socket
import struct
import threading
import time
import urllib.error
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


class RefusedUpstream:
    def account(self) -> dict:
        raise ConnectionRefusedError(111, "Connection refused")


def test_a_connection_error_of_the_backend_itself_is_still_answered():
    """Only the browser's own connection going away is silent: the backend losing a connection is a 500."""
    server = PageServer(RefusedUpstream())
    server.start(0, lambda _line: None)
    try:
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(server.url + "api/account", timeout=5)
    finally:
        server.stop()
    assert answer.value.code == 500
    assert "ConnectionRefusedError" in answer.value.read().decode()


# -- App Home and modals, as the page server reads them from the Slack stand-in (sandbox/views.py) -----------------

PICK = {
    "type": "modal",
    "callback_id": "pick",
    "title": {"type": "plain_text", "text": "Pick"},
    "blocks": [
        {
            "type": "input",
            "block_id": "rule",
            "label": {"type": "plain_text", "text": "Rule"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "option_groups": [
                    {
                        "label": {"type": "plain_text", "text": "Root"},
                        "options": [{"text": {"type": "plain_text", "text": "Root sign-in"}, "value": "root_login"}],
                    }
                ],
            },
        },
        {
            "type": "input",
            "label": {"type": "plain_text", "text": "Days"},
            "element": {"type": "number_input", "action_id": "n", "is_decimal_allowed": False},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "no input here"}},
    ],
}


def test_modals_belong_to_the_user_whose_trigger_opened_them_and_stack_like_slacks():
    from slack_sdk import WebClient

    from sandbox.views import ViewError, Views
    from standins.slack import FakeSlack

    fake = FakeSlack()
    fake.start()
    try:
        views = Views(fake)
        web = WebClient(token=fake.token, base_url=fake.base_url)
        before = views.version
        web.views_open(trigger_id=views.trigger("U0ADMIN1", 1), view=PICK)
        web.views_open(trigger_id="1.not-handed-out", view={**PICK, "callback_id": "nobody's"})
        web.views_publish(user_id="U0VIEWER", view={"type": "home", "blocks": []})
        assert views.version == before + 3
        first = views.modal("U0ADMIN1")
        assert first is not None and first.view["callback_id"] == "pick" and first.id == "VO000001"
        assert views.modal("U0VIEWER") is None and views.home("U0ADMIN1") is None
        assert views.home("U0VIEWER").id == "VP000001"
        with pytest.raises(ViewError):
            views.get("U0VIEWER", first.id)  # not Val's to submit or close
        web.views_push(trigger_id=views.trigger("U0ADMIN1", 2), view={**PICK, "callback_id": "second"})
        assert views.modal("U0ADMIN1").view["callback_id"] == "second"
        views.close(views.modal("U0ADMIN1"))  # closing the pushed view shows the one under it again
        assert views.modal("U0ADMIN1").id == first.id
        views.update(first, {**PICK, "callback_id": "updated"})
        assert views.modal("U0ADMIN1").view["callback_id"] == "updated"
        web.views_update(view_id=first.id, view={**PICK, "callback_id": "by views.update"})  # the id payloads carry
        assert views.modal("U0ADMIN1").view["callback_id"] == "by views.update"
        web.views_publish(user_id="U0VIEWER", view={"type": "home", "external_id": "home-val", "blocks": []})
        web.views_update(external_id="home-val", view={"type": "home", "callback_id": "refreshed", "blocks": []})
        assert views.home("U0VIEWER").view["callback_id"] == "refreshed"
        assert views.version == before + 9  # 7 recorded calls, 2 changes made on the page
        views.push(first, {**PICK, "callback_id": "pushed by an answer"})
        views.close(views.modal("U0ADMIN1"), everything=True)  # response_action "clear"
        assert views.modal("U0ADMIN1") is None
    finally:
        fake.stop()


def test_the_bot_gets_back_the_view_ids_the_page_shows_so_its_views_update_lands():
    """The stand-in answers views.* with the page's ids (its own would name views the page does not know)."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from sandbox.views import Views
    from standins.slack import FakeSlack

    fake = FakeSlack()
    fake.start()
    try:
        views = Views(fake)
        web = WebClient(token=fake.token, base_url=fake.base_url)
        opened = web.views_open(trigger_id=views.trigger("U0ADMIN1", 1), view=PICK)["view"]
        assert opened["id"] == views.modal("U0ADMIN1").id == "VO000001"
        web.views_update(view_id=opened["id"], hash=opened["hash"], view={**PICK, "callback_id": "chosen"})
        assert views.modal("U0ADMIN1").view["callback_id"] == "chosen"
        published = web.views_publish(user_id="U0VIEWER", view={"type": "home", "blocks": []})["view"]
        assert published["id"] == views.home("U0VIEWER").id
        with pytest.raises(SlackApiError, match="invalid_trigger_id"):
            web.views_open(trigger_id="", view=PICK)
    finally:
        fake.stop()


def test_view_state_holds_only_what_the_view_offers():
    from sandbox.views import state_values

    typed = {"rule": {"pick": "root_login"}, "b1": {"n": "7"}, "forged": {"x": "1"}}
    assert state_values(PICK, typed) == {
        "rule": {
            "pick": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "Root sign-in"}, "value": "root_login"},
            }
        },
        "b1": {"n": {"type": "number_input", "value": "7"}},
    }
    made_up = state_values(PICK, {"rule": {"pick": "admin_everything"}, "b1": {"n": "9" * 4000}})
    assert made_up == {
        "rule": {"pick": {"type": "static_select", "selected_option": None}},
        "b1": {"n": {"type": "number_input", "value": None}},
    }


def test_a_click_on_a_home_tab_the_bot_has_since_republished_still_reaches_it():
    """As in Slack: a click made on the tab as it was drawn arrives even when a newer tab was published meanwhile
    (a race the page cannot avoid); another user's tab stays out of reach."""
    from slack_sdk import WebClient

    from sandbox.views import ViewError, Views
    from standins.slack import FakeSlack

    fake = FakeSlack()
    fake.start()
    try:
        views = Views(fake)
        web = WebClient(token=fake.token, base_url=fake.base_url)
        old = web.views_publish(user_id="U0ADMIN1", view={"type": "home", "blocks": []})["view"]["id"]
        new = web.views_publish(user_id="U0ADMIN1", view={"type": "home", "callback_id": "new", "blocks": []})
        assert views.home("U0ADMIN1").id == new["view"]["id"] != old
        assert views.get("U0ADMIN1", old).id == old  # the stale tab's click is answered with its own view
        with pytest.raises(ViewError):
            views.get("U0VIEWER", old)
    finally:
        fake.stop()
