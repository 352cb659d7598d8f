"""App Home and modals on the sandbox page: the views the bot published or opened through the Slack stand-in, and the
requests Slack sends the bot when someone uses them.

The views are read from the stand-in's recorded calls (views.publish, views.open, views.push, and views.update by the
view ids the page hands out or by external_id), whatever listener made them, so any Block Kit view shows without the
page knowing what it is for. A modal belongs to the user whose trigger_id opened it: the page server hands every
click and command a trigger_id (`Views.trigger`) and remembers whose it is, as Slack does. The requests built here
are the ones Slack sends: the `app_home_opened` event, `block_actions` from a view, `view_submission` with the
view's state, `view_closed`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from standins.slack import FakeSlack

# method -> (the view's kind on the page, the letter its ids start with after "V")
VIEW_METHODS = {"views.publish": ("home", "P"), "views.open": ("modal", "O"), "views.push": ("modal", "S")}
# The stateful elements Slack reports in view.state.values, each with the key its value goes under.
STATE_KEYS = {
    "plain_text_input": "value",
    "number_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "static_select": "selected_option",
    "radio_buttons": "selected_option",
    "multi_static_select": "selected_options",
    "checkboxes": "selected_options",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
}
MAX_VALUE = 3000  # Slack's longest plain_text_input


class ViewError(Exception):
    """A view request the page server refuses, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Shown:
    """A view as the page shows it: its id, kind (home or modal), whose it is and its Block Kit view."""

    id: str
    kind: str
    user: str
    view: dict
    at: float  # when it was published or opened (monotonic), to order modals into a stack


class Views:
    """The views recorded by the stand-in, per user, with what the page did to them (closed, updated in place)."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self._triggers: dict[str, str] = {}  # trigger_id -> the user it was handed to
        self._closed: set[str] = set()
        self._updated: list[tuple[float, str, dict]] = []  # (when, view id, view) of response_action "update"s
        self._pushed: list[Shown] = []  # views a response_action "push" opened
        self._changes = 0
        self._lock = threading.Lock()

    def trigger(self, user_id: str, number: int) -> str:
        """A new trigger_id for a request `user_id` makes (a view opened with it is theirs)."""
        trigger_id = f"{number}.{secrets.token_hex(6)}"
        with self._lock:
            self._triggers[trigger_id] = user_id
        return trigger_id

    @property
    def version(self) -> int:
        """Grows with every view recorded or changed (the page redraws when it does)."""
        calls = sum(len(self.fake.calls_of(m)) for m in (*VIEW_METHODS, "views.update"))
        with self._lock:
            return calls + self._changes

    def recorded(self) -> list[Shown]:
        """Every view the bot published or opened, and those pushed by its answers, oldest first."""
        shown: list[Shown] = []
        for method, (kind, letter) in VIEW_METHODS.items():
            for number, call in enumerate(self.fake.calls_of(method), start=1):
                view = _view(call.args.get("view"))
                if view is None:
                    continue
                with self._lock:
                    user = (
                        call.args.get("user_id") if kind == "home" else self._triggers.get(call.args.get("trigger_id"))
                    )
                if isinstance(user, str) and user:
                    shown.append(Shown(f"V{letter}{number:06d}", kind, user, view, call.at))
        with self._lock:
            shown += self._pushed
            updates = [(at, view_id, "", view) for at, view_id, view in self._updated]
        for call in self.fake.calls_of("views.update"):
            view = _view(call.args.get("view"))
            if view is not None:
                updates.append(
                    (call.at, str(call.args.get("view_id") or ""), str(call.args.get("external_id") or ""), view)
                )
        for _at, view_id, external_id, view in sorted(updates, key=lambda u: u[0]):  # in the order they happened
            shown = [
                Shown(s.id, s.kind, s.user, view, s.at)
                if s.id == view_id or (external_id and s.view.get("external_id") == external_id)
                else s
                for s in shown
            ]
        return sorted(shown, key=lambda s: s.at)

    def home(self, user_id: str) -> Shown | None:
        """The App Home the bot last published for `user_id`."""
        homes = [s for s in self.recorded() if s.kind == "home" and s.user == user_id]
        return homes[-1] if homes else None

    def modal(self, user_id: str) -> Shown | None:
        """The modal on top of `user_id`'s stack (views.open starts a stack, views.push adds to it), if open."""
        mine = [s for s in self.recorded() if s.kind == "modal" and s.user == user_id]
        opened = [i for i, s in enumerate(mine) if s.id.startswith("VO")]
        stack = mine[opened[-1] :] if opened else mine
        with self._lock:
            open_ = [s for s in stack if s.id not in self._closed]
        return open_[-1] if open_ else None

    def get(self, user_id: str, view_id: str) -> Shown:
        """The user's open modal with this id, or one of the Home tabs the bot published for them (a click on a tab
        the bot has since republished still reaches it, as in Slack, with the view it was made on); 404 for
        anything else (another user's, a closed modal)."""
        modal = self.modal(user_id)
        if modal and modal.id == view_id:
            return modal
        for shown in self.recorded():
            if shown.kind == "home" and shown.user == user_id and shown.id == view_id:
                return shown
        raise ViewError(404, "that view is not open")

    def close(self, shown: Shown, everything: bool = False) -> None:
        """Close a modal (with `everything`, the whole stack it is in)."""
        with self._lock:
            self._closed.add(shown.id)
            self._changes += 1
        if everything:
            while (top := self.modal(shown.user)) is not None:
                with self._lock:
                    self._closed.add(top.id)

    def update(self, shown: Shown, view: dict) -> None:
        """Put `view` in the place of a shown one (response_action "update")."""
        with self._lock:
            self._updated.append((time.monotonic(), shown.id, view))
            self._changes += 1

    def push(self, shown: Shown, view: dict) -> None:
        """Open `view` on top of `shown`'s stack (response_action "push")."""
        with self._lock:
            number = len(self._pushed) + 1
            self._pushed.append(Shown(f"VR{number:06d}", "modal", shown.user, view, time.monotonic()))
            self._changes += 1


def _view(raw: Any) -> dict | None:
    """The view argument of a views.* call: a dict, or the JSON string a form-encoded call carries."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    return raw if isinstance(raw, dict) and isinstance(raw.get("blocks", []), list) else None


# -- what is in a view ----------------------------------------------------------------------------------------------


def elements(view: dict) -> list[tuple[str, dict]]:
    """(block id, element) of every interactive element of the view: input blocks' elements, actions blocks'
    elements and section accessories; a block without an id gets Slack's stand-in id b<index>."""
    found = []
    for index, block in enumerate(view.get("blocks") or []):
        block_id = block.get("block_id") or f"b{index}"
        if block.get("type") == "input":
            candidates = [block.get("element") or {}]
        elif block.get("type") == "actions":
            candidates = block.get("elements") or []
        else:
            candidates = [block.get("accessory") or {}]
        found += [(block_id, e) for e in candidates if isinstance(e, dict) and e.get("action_id")]
    return found


def _options(element: dict) -> list[dict]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def _picked(element: dict, raw: Any) -> Any:
    """The state value of one element for what the page says was chosen or typed; options only from the element."""
    key = STATE_KEYS[element["type"]]
    if key == "value":
        return raw if isinstance(raw, str) and raw and len(raw) <= MAX_VALUE else None
    if key in ("selected_option", "selected_options"):
        wanted = raw if isinstance(raw, list) else [raw]
        options = [o for o in _options(element) if o.get("value") in wanted]
        return options if key == "selected_options" else (options[0] if options else None)
    if key == "selected_users":
        return [u for u in raw if isinstance(u, str) and len(u) <= 40] if isinstance(raw, list) else []
    return raw if isinstance(raw, str) and raw and len(raw) <= 100 else None


def state_values(view: dict, typed: Any) -> dict:
    """view.state.values as Slack sends it: every stateful element's value, from what the page says was entered
    ({block_id: {action_id: text, option value or list}}); anything the view does not hold is ignored."""
    typed = typed if isinstance(typed, dict) else {}
    values: dict[str, dict] = {}
    for block_id, element in elements(view):
        if element.get("type") not in STATE_KEYS:
            continue
        raw = (typed.get(block_id) or {}).get(element["action_id"]) if isinstance(typed.get(block_id), dict) else None
        values.setdefault(block_id, {})[element["action_id"]] = {
            "type": element["type"],
            STATE_KEYS[element["type"]]: _picked(element, raw),
        }
    return values


# -- the requests Slack sends -----------------------------------------------------------------------------------------


def view_payload(shown: Shown, values: dict, team_id: str, app_id: str) -> dict:
    """The `view` object of block_actions, view_submission and view_closed payloads."""
    view = shown.view
    return {
        "id": shown.id,
        "team_id": team_id,
        "type": view.get("type") or shown.kind,
        "blocks": view.get("blocks") or [],
        "private_metadata": view.get("private_metadata") or "",
        "callback_id": view.get("callback_id") or "",
        "state": {"values": values},
        "hash": f"{int(shown.at * 1000)}.{shown.id}",
        "title": view.get("title"),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "clear_on_close": bool(view.get("clear_on_close")),
        "notify_on_close": bool(view.get("notify_on_close")),
        "external_id": view.get("external_id") or "",
        "root_view_id": shown.id,
        "previous_view_id": None,
        "app_id": app_id,
        "bot_id": "BBOT",
    }


def view_action(element: dict, block_id: str, picked: Any) -> dict:
    """The `actions` entry of a click on a button or a choice in a select of a view."""
    action = {
        "type": element.get("type", "button"),
        "action_id": element["action_id"],
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if action["type"] == "button":
        action.update({"value": element.get("value", ""), "text": element.get("text")})
        if element.get("style"):
            action["style"] = element["style"]
    elif element.get("type") in STATE_KEYS:
        action[STATE_KEYS[element["type"]]] = _picked(element, picked)
    return action


def app_home_opened(user_id: str, home: Shown | None, team_id: str, app_id: str) -> dict:
    """The Events API body Slack posts when a user opens the app's Home tab."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D0" + user_id.removeprefix("U"),
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    if home is not None:
        event["view"] = view_payload(home, {}, team_id, app_id)
    return {
        "token": "sandbox-verification-token",
        "team_id": team_id,
        "api_app_id": app_id,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + secrets.token_hex(5).upper(),
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": team_id, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False},
        ],
        "is_ext_shared_channel": False,
    }
