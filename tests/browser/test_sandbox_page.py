"""The sandbox page in real Chromium: alerts arrive live, an actor's calls form one incident message, buttons send
signed clicks (with Slack's confirm dialog), non-admins are refused, /iam audit posts a report, the mute form and
the Details modal work with the real bot, and attacker-controlled text stays text."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips (or, under CI, fails) saying so
    expect = None

from sandbox.seed import ADMIN_POLICY
from tests.browser import screenshots

ALERT_WAIT = 40_000  # ms: SQS long poll, rules, the poster's one post per second
XSS = "<img src=x onerror=alert(1)>"


def simulate(page, scenario: str, user_agent: str = "") -> str:
    """Press a Simulate button; returns the user the events are about ('' for none)."""
    page.evaluate("delete document.getElementById('simulate').dataset.lastUsers")
    if user_agent:  # the field sits in the collapsed Advanced part of the panel
        if not page.locator("#user-agent").is_visible():
            page.click("#advanced summary")
        page.fill("#user-agent", user_agent)
    page.click(f'#scenarios button[data-scenario="{scenario}"]')
    expect(page.locator("#simulate")).to_have_attribute("data-last-users", re.compile(".*"))
    return page.locator("#simulate").get_attribute("data-last-users") or ""


def messages(page, text: str, kind: str = ".message"):
    """Messages whose own content (not their thread's replies) holds `text`; `kind` narrows the class."""
    return page.locator(kind).filter(has=page.locator(":scope > .message-body > .content", has_text=text))


def alert_message(page, title: str):
    """The first channel copy of the alert with this title, once it arrived."""
    message = messages(page, title).first
    message.wait_for(timeout=ALERT_WAIT)
    return message


def thread_reply(scope, text: str, timeout: float = ALERT_WAIT):
    """The first thread reply under `scope` (the page or a message) holding `text`, once it arrived; threads are
    collapsed ("3 replies") as in Slack, so every collapsed thread is opened while waiting."""
    page = scope.page if hasattr(scope, "page") else scope
    reply = scope.locator(".thread .message", has_text=text).first
    end = time.monotonic() + timeout / 1000
    while reply.count() == 0 and time.monotonic() < end:
        page.evaluate("document.querySelectorAll('.thread-toggle[aria-expanded=\"false\"]').forEach(b => b.click())")
        time.sleep(0.2)
    reply.wait_for(timeout=max(1.0, end - time.monotonic()) * 1000)
    return reply


def act_as(page, user: str) -> None:
    """Switch the Slack user the page acts as."""
    page.select_option("#user-select", user)
    expect(page.locator("#user-select")).to_have_value(user)


def account_row(page, user: str):
    """The AWS account panel's row of one IAM user."""
    row = page.locator(f'#account tr[data-user="{user}"]')
    row.wait_for()
    return row


def attached(sandbox, user: str) -> list[str]:
    """The user's managed policies, read from moto directly (not through the page)."""
    iam = sandbox.page.backend.iam
    return [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]]


def test_simulated_privileged_user_is_alerted_live_with_thread_and_styled_buttons(page, sandbox):
    user = simulate(page, "privileged_user_created")
    assert user.startswith("backup-svc")
    alert = alert_message(page, f"New user {user} given admin-equivalent power")
    assert "CRITICAL" in alert.inner_text()
    assert alert.locator('.btn.primary[data-action-id="iam_ack"]').count() == 1
    assert alert.locator('.btn.danger[data-action-id="iam_detach_policy"]').count() == 1
    # user_created opened the actor's thread; the critical alert is a reply broadcast to the channel too.
    parent = messages(page, f"IAM user {user} created").first
    thread_reply(parent, f"New user {user} given")
    assert messages(page, f"New user {user} given", ".message.broadcast").count() == 1
    # The simulated changes are real in the moto account, and the panel shows them.
    row = account_row(page, user)
    assert "AdministratorAccess" in row.locator(".policies").inner_text()
    assert row.locator(".key-status.active").count() == 1


def test_the_page_speaks_plainly_and_keeps_the_hostile_input_field_out_of_the_way(page):
    page.locator("#account tr[data-user]").first.wait_for()
    chrome = "\n".join(page.inner_text(s) for s in (".topbar", "#simulate", "#account", "#command-form"))
    titles = page.evaluate("[...document.querySelectorAll('[title]')].map(n => n.title).join('\\n')")
    for word in (
        "moto",
        "stand-in",
        "SQS",
        "EventBridge",
        "block_actions",
        "HTTP",
        "polling",
        "userAgent",
        "chat.update",
        "payload",
        "real-shaped",
        "Planted",
        "U0ADMIN1",
    ):
        assert word not in chrome and word not in titles, word
    assert "practice AWS account" in chrome
    # The hostile-input field is in a collapsed Advanced part, one click away.
    expect(page.locator("#user-agent")).to_be_hidden()
    assert page.get_attribute("#advanced", "open") is None
    page.click("#advanced summary")
    expect(page.locator("#user-agent")).to_be_visible()
    page.fill("#command-input", "/iam help")
    page.click("#command-send")
    expect(page.locator("#status")).to_have_text("Sent /iam help as Ada Admin.")


def test_emoji_are_drawn_with_a_colour_emoji_font(page):
    """The glyph Chromium really draws: without an emoji font (fonts-noto-color-emoji) it falls back to another
    family or an empty box, and this fails."""
    page.evaluate(
        """() => { const n = mrkdwn(':red_circle: :white_check_mark:'); n.id = 'emoji-probe';
                   document.body.append(n); }"""
    )
    probe = page.locator("#emoji-probe .emoji").first
    assert probe.inner_text() == "\U0001f534"
    box = probe.bounding_box()
    assert box is not None and box["width"] > 4 and box["height"] > 4
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#emoji-probe .emoji"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    assert [f["familyName"] for f in fonts if f["glyphCount"]] == ["Noto Color Emoji"], fonts


def test_non_admin_click_is_refused_and_the_account_is_unchanged(page, sandbox):
    user = simulate(page, "privileged_user_created")
    alert = alert_message(page, f"New user {user} given admin-equivalent power")
    act_as(page, "U0VIEWER")
    alert.locator('[data-action-id="iam_detach_policy"]').click()
    page.click("#confirm-ok")
    refusal = messages(page, "Only IAM Warden admins can run policy removal", ".message.ephemeral")
    refusal.wait_for()
    assert "Only visible to you" in refusal.inner_text()
    assert attached(sandbox, user) == [ADMIN_POLICY]
    assert "AdministratorAccess" in account_row(page, user).locator(".policies").inner_text()
    assert alert.locator('[data-action-id="iam_detach_policy"]').count() == 1  # the alert was not updated
    act_as(page, "U0ADMIN1")  # an ephemeral message is for its user alone
    expect(page.locator("#messages")).not_to_contain_text("Only IAM Warden admins can run policy removal")


def test_admin_detach_asks_to_confirm_then_removes_the_policy_and_updates_the_alert(page, sandbox, tmp_path):
    user = simulate(page, "privileged_user_created")
    title = f"New user {user} given admin-equivalent power"
    alert = alert_message(page, title)
    detach = alert.locator('[data-action-id="iam_detach_policy"]')
    detach.click()
    modal = page.locator("#confirm-modal")
    assert modal.is_visible()
    assert page.inner_text("#confirm-title") == "Detach policy?"
    assert f"AdministratorAccess from user {user}" in page.inner_text("#confirm-text")
    assert page.inner_text("#confirm-ok") == "Detach" and page.inner_text("#confirm-cancel") == "Cancel"
    page.click("#confirm-cancel")  # denied: nothing is sent
    assert modal.is_hidden()
    assert attached(sandbox, user) == [ADMIN_POLICY]

    detach.click()
    page.click("#confirm-ok")
    updated = messages(page, title).filter(has_text="policy removal by").first
    updated.wait_for()
    assert re.search(
        rf"policy removal by @Ada Admin: detached AdministratorAccess from user {user}", updated.inner_text()
    )
    assert "(edited)" in updated.inner_text()
    assert updated.locator('[data-action-id="iam_detach_policy"]').count() == 0
    assert attached(sandbox, user) == []
    expect(account_row(page, user).locator(".policies")).not_to_contain_text("AdministratorAccess")
    thread_reply(page, f"detached AdministratorAccess from user {user}", timeout=15_000)
    page.evaluate("document.querySelectorAll('.thread-toggle[aria-expanded=\"true\"]').forEach(b => b.click())")
    updated.scroll_into_view_if_needed()
    shot = screenshots.save(page, "sandbox.png", tmp_path)
    assert shot.stat().st_size > 10_000


def test_iam_audit_acks_ephemerally_then_posts_the_report_with_files(page, sandbox):
    page.fill("#command-input", "/iam audit")
    page.click("#command-send")
    ack = messages(page, "Auditing account 123456789012", ".message.ephemeral")
    ack.wait_for()
    assert "Only visible to you" in ack.inner_text()
    report = messages(page, "IAM audit of account").first
    report.wait_for(timeout=150_000)
    assert "audit #" in report.inner_text()
    thread_reply(report, "iam-audit-", timeout=20_000)
    csv = report.locator(".thread a.file", has_text=re.compile(r"iam-audit-\d+\.csv"))
    csv.wait_for(timeout=20_000)
    download = page.request.get(sandbox.page_url.rstrip("/") + csv.get_attribute("href"))
    assert download.ok and "check" in download.text().splitlines()[0] and "123456789012" in download.text()


def test_attacker_controlled_text_is_shown_as_text(page, sandbox):
    page.evaluate("window.__xss = 0")
    simulate(page, "root_login", user_agent=XSS + " <script>window.__xss=1</script>")
    alert = messages(page, XSS).first
    alert.wait_for(timeout=ALERT_WAIT)
    assert "<script>window.__xss=1</script>" in alert.inner_text()
    assert page.locator("#messages img, #messages script").count() == 0
    assert page.evaluate("window.__xss") == 0
    # mrkdwn still renders: bold, code, the console link, emoji.
    assert alert.locator("strong", has_text="CRITICAL").count() >= 1
    assert alert.locator("code", has_text="arn:aws:iam::123456789012:root").count() >= 1
    link = alert.locator("a", has_text="ConsoleLogin").first
    assert link.get_attribute("href").startswith("https://us-east-1.console.aws.amazon.com/cloudtrailv2/")
    assert alert.locator(".emoji").first.inner_text() == "\U0001f534"


def test_mrkdwn_renders_slack_formatting_and_nothing_else(page):
    def render(text: str) -> tuple[str, str]:
        return page.evaluate("t => { const n = mrkdwn(t); return [n.outerHTML, n.textContent]; }", text)

    html, text = render("*Who*\n`arn:aws:iam::1:user/a_b` by <@U0ADMIN1> :white_check_mark: _Fix:_ ~old~")
    assert html.startswith('<span class="mrkdwn"><strong>Who</strong><br><code>arn:aws:iam::1:user/a_b</code> by ')
    assert '<span class="mention">@Ada Admin</span>' in html and "<em>Fix:</em>" in html and "<s>old</s>" in html
    assert "\u2705" in text
    html, text = render("<https://example.com/?a=1&amp;b=2|the &lt;docs&gt;> and <javascript:alert(1)|click>")
    assert '<a href="https://example.com/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">' in html
    assert text == "the <docs> and click" and "javascript" not in html
    html, text = render("snake_case_name, 2*3*4, arn:aws:iam::123:role/x and :not_an_emoji:")
    assert "<em>" not in html and "<strong>" not in html and text.endswith(":not_an_emoji:")
    html, text = render("&lt;img src=x onerror=alert(1)&gt; &amp;amp;")
    assert text == "<img src=x onerror=alert(1)> &amp;" and "<img" not in html


# -- App Home and modals: any view the bot publishes or opens through the Slack stand-in ----------------------------


class BotDouble:
    """Stands in for the bot's /slack/events while a test drives views: records what the page sends (checking
    Slack's signature) and answers what the test queued (200 with an empty body when nothing is queued)."""

    def __init__(self, secret: str) -> None:
        self.verifier = SignatureVerifier(secret)
        self.received: list[dict] = []
        self.answers: list[dict] = []
        self.arrived = threading.Condition()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                signed = self.verifier_ok(raw)
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw)  # an Events API body
                else:
                    form = {k: v[0] for k, v in parse_qs(raw).items()}
                    body = json.loads(form["payload"]) if "payload" in form else form
                answer = double.answers.pop(0) if double.answers else None
                data = json.dumps(answer).encode() if answer else b""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                with double.arrived:
                    double.received.append({"signed": signed, "body": body})
                    double.arrived.notify_all()

            def verifier_ok(self, raw: str) -> bool:
                return double.verifier.is_valid(
                    raw, self.headers.get("X-Slack-Request-Timestamp", ""), self.headers.get("X-Slack-Signature", "")
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"

    def next(self, kind: str, timeout: float = 10) -> dict:
        """The next request whose type (payload type, event type or slash command) is `kind`, signed."""

        def found():
            for item in self.received:
                body = item["body"]
                if kind in (body.get("type"), (body.get("event") or {}).get("type"), body.get("command")):
                    return item
            return None

        with self.arrived:
            assert self.arrived.wait_for(lambda: found() is not None, timeout), (kind, self.received)
            item = found()
            self.received.remove(item)
        assert item["signed"], f"{kind} was not signed with the signing secret"
        return item["body"]


@pytest.fixture
def bot_double(sandbox, monkeypatch):
    double = BotDouble(sandbox.page.backend.secret)
    monkeypatch.setattr(sandbox.page.backend, "bot_url", double.url)
    yield double
    double.server.shutdown()


def web(sandbox) -> WebClient:
    """A Web API client on the Slack stand-in, as the bot's."""
    return WebClient(token=sandbox.fake.token, base_url=sandbox.fake.base_url)


HOME = {
    "type": "home",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Open incidents :rotating_light:"}},
        {
            "type": "section",
            "block_id": "incident-7",
            "text": {"type": "mrkdwn", "text": "*Root user signed in without MFA*"},
            "fields": [
                {"type": "mrkdwn", "text": "*Severity*\ncritical"},
                {"type": "mrkdwn", "text": "*Account*\n1234"},
            ],
            "accessory": {
                "type": "button",
                "action_id": "home_ack",
                "value": "7",
                "text": {"type": "plain_text", "text": "Acknowledge"},
            },
        },
        {"type": "divider"},
        {
            "type": "actions",
            "block_id": "filters",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "home_severity",
                    "placeholder": {"type": "plain_text", "text": "Severity"},
                    "options": [
                        {"text": {"type": "plain_text", "text": "Critical"}, "value": "critical"},
                        {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
                    ],
                },
                {
                    "type": "button",
                    "action_id": "home_audit",
                    "value": "run",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Run audit"},
                },
            ],
        },
    ],
}


def test_the_home_tab_tells_the_bot_it_was_opened_shows_the_published_view_and_sends_its_clicks(
    page, sandbox, bot_double
):
    page.click("#tab-home")
    opened = bot_double.next("app_home_opened")
    assert (opened["type"], opened["event"]["user"], opened["event"]["tab"]) == ("event_callback", "U0ADMIN1", "home")
    expect(page.locator("#home")).to_contain_text("has not put anything on its Home tab yet")
    assert page.locator("#messages").is_hidden()

    web(sandbox).views_publish(user_id="U0ADMIN1", view=HOME)
    home = page.locator("#home")
    expect(home.locator(".header")).to_have_text("Open incidents \U0001f6a8")
    assert "Root user signed in without MFA" in home.locator("strong").first.inner_text()
    assert home.locator(".field").all_inner_texts() == ["Severity\ncritical", "Account\n1234"]
    view_id = home.get_attribute("data-view-id")
    assert re.fullmatch(r"VP\d{6}", view_id)

    home.locator('[data-action-id="home_ack"]').click()
    click = bot_double.next("block_actions")
    assert click["container"] == {"type": "view", "view_id": view_id}
    assert (click["view"]["id"], click["view"]["type"], click["user"]["id"]) == (view_id, "home", "U0ADMIN1")
    [action] = click["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == ("home_ack", "incident-7", "7")

    home.locator('select[data-action-id="home_severity"]').select_option("high")
    choice = bot_double.next("block_actions")
    [action] = choice["actions"]
    assert (action["type"], action["block_id"], action["selected_option"]["value"]) == (
        "static_select",
        "filters",
        "high",
    )
    assert choice["view"]["state"]["values"]["filters"]["home_severity"]["selected_option"]["value"] == "high"

    # Each user has their own Home: Val sees no view of Ada's, and the bot hears Val opened it.
    act_as(page, "U0VIEWER")
    assert bot_double.next("app_home_opened")["event"]["user"] == "U0VIEWER"
    expect(home).to_contain_text("has not put anything on its Home tab yet")
    page.click("#tab-channel")
    expect(page.locator("#messages")).to_be_visible()


MODAL = {
    "type": "modal",
    "callback_id": "mute_modal",
    "private_metadata": "alert=7",
    "title": {"type": "plain_text", "text": "Mute a rule"},
    "submit": {"type": "plain_text", "text": "Mute"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {
            "type": "input",
            "block_id": "rule",
            "label": {"type": "plain_text", "text": "Rule"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": "Root sign-in"}, "value": "root_login"},
                    {"text": {"type": "plain_text", "text": "Trail tampering"}, "value": "trail_tampering"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "days",
            "label": {"type": "plain_text", "text": "Days"},
            "element": {"type": "number_input", "action_id": "n", "is_decimal_allowed": False, "initial_value": "7"},
        },
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            "hint": {"type": "plain_text", "text": "Shown in the digest"},
        },
    ],
}


def test_a_modal_opened_with_a_users_trigger_is_theirs_and_submits_its_inputs(page, sandbox, bot_double):
    page.fill("#command-input", "/iam mute")
    page.click("#command-send")
    command = bot_double.next("/iam")
    web(sandbox).views_open(trigger_id=command["trigger_id"], view=MODAL)
    modal = page.locator("#view-modal")
    expect(modal).to_be_visible()
    assert page.inner_text("#view-title") == "Mute a rule"
    assert page.inner_text("#view-submit") == "Mute" and page.inner_text("#view-cancel") == "Cancel"
    assert modal.locator(".input-hint").inner_text() == "Shown in the digest"
    act_as(page, "U0VIEWER")  # opened with Ada's trigger: only Ada sees it
    expect(modal).to_be_hidden()
    act_as(page, "U0ADMIN1")
    expect(modal).to_be_visible()

    modal.locator('select[data-action-id="pick"]').select_option("trail_tampering")
    modal.locator('textarea[data-action-id="text"]').fill("<b>maintenance</b> window")
    bot_double.answers.append({"response_action": "errors", "errors": {"reason": "Say who approved it"}})
    page.click("#view-submit")
    submitted = bot_double.next("view_submission")
    view = submitted["view"]
    assert (view["callback_id"], view["private_metadata"], view["type"]) == ("mute_modal", "alert=7", "modal")
    assert view["state"]["values"] == {
        "rule": {"pick": {"type": "static_select", "selected_option": MODAL["blocks"][0]["element"]["options"][1]}},
        "days": {"n": {"type": "number_input", "value": "7"}},
        "reason": {"text": {"type": "plain_text_input", "value": "<b>maintenance</b> window"}},
    }
    assert submitted["user"]["id"] == "U0ADMIN1"
    error = modal.locator('.input-error[data-block-id="reason"]')
    expect(error).to_have_text("Say who approved it")
    expect(modal).to_be_visible()  # still open, with what was typed
    assert modal.locator('textarea[data-action-id="text"]').input_value() == "<b>maintenance</b> window"

    modal.locator('textarea[data-action-id="text"]').fill("approved by Sam")
    page.click("#view-submit")  # nothing queued: an empty 200, so the modal closes
    assert bot_double.next("view_submission")["view"]["state"]["values"]["reason"]["text"]["value"] == "approved by Sam"
    expect(modal).to_be_hidden()
    assert sandbox.page.backend.views.modal("U0ADMIN1") is None

    # Cancel: the bot hears of it when the view asks (notify_on_close), and the modal goes.
    page.fill("#command-input", "/iam mute")
    page.click("#command-send")
    trigger = bot_double.next("/iam")["trigger_id"]
    web(sandbox).views_open(trigger_id=trigger, view={**MODAL, "notify_on_close": True})
    expect(modal).to_be_visible()
    page.click("#view-cancel")
    closed = bot_double.next("view_closed")
    assert (closed["view"]["callback_id"], closed["user"]["id"]) == ("mute_modal", "U0ADMIN1")
    expect(modal).to_be_hidden()
    # Escape closes a modal too, as in Slack.
    page.fill("#command-input", "/iam mute")
    page.click("#command-send")
    web(sandbox).views_open(trigger_id=bot_double.next("/iam")["trigger_id"], view=MODAL)
    expect(modal).to_be_visible()
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    assert sandbox.page.backend.views.modal("U0ADMIN1") is None


def test_a_select_in_a_channel_message_sends_the_choice(page, sandbox, bot_double):
    channel = sandbox.page.backend.channel
    options = [{"text": {"type": "plain_text", "text": f"{d} days"}, "value": str(d)} for d in (1, 7, 30)]
    select = {"type": "static_select", "action_id": "mute_days", "options": options}
    posted = web(sandbox).chat_postMessage(
        channel=channel,
        text="Mute for how long?",
        blocks=[{"type": "actions", "block_id": "mute", "elements": [select]}],
    )
    picker = page.locator(f'.message[data-ts="{posted["ts"]}"] select[data-action-id="mute_days"]')
    picker.select_option("7")
    choice = bot_double.next("block_actions")
    assert choice["container"]["message_ts"] == posted["ts"]
    [action] = choice["actions"]
    assert (action["type"], action["block_id"], action["selected_option"]) == ("static_select", "mute", options[1])


EXPECTED_RULES = {
    "root_login": "root_login",
    "root_login_mfa": "root_login",
    "root_login_failed": "root_login_failed",
    "privileged_user_created": "privileged_user_created",
    "inline_admin_policy": "privileged_grant",
    "mfa_removed": "mfa_deactivated",
    "trail_stopped": "trail_tampering",
    "key_probing": "iam_writes_refused",
}


def test_every_scenario_raises_its_alert_and_changes_moto(sandbox):
    """No browser needed: every Simulate button, through the page's API, ends as the alert it is meant to raise
    (this test runs last in the module: it stops the trail and removes alice-admin's MFA)."""
    from sandbox.scenarios import SCENARIOS

    assert {s.id for s in SCENARIOS} == set(EXPECTED_RULES)
    store, backend = sandbox.rt.store, sandbox.page.backend
    sent = {s.id: backend.simulate({"scenario": s.id})["event_ids"] for s in SCENARIOS}

    def raised() -> dict[str, str]:
        by_event = {a.event_id: a.rule for a in store.alerts()}
        return {s: r for s, ids in sent.items() for r in [by_event.get(i) for i in ids] if r == EXPECTED_RULES[s]}

    assert sandbox.fake.wait_for(lambda: len(raised()) == len(EXPECTED_RULES), timeout=30), raised()
    [probe] = [a for a in store.alerts() if a.rule == "iam_writes_refused"]
    assert probe.actor_key_id == backend.seeded.key_ids["legacy-backup"][-1]  # offers iam_disable_actor_key
    account = backend.account()
    assert account["trail"]["logging"] is False
    alice = next(u for u in account["users"] if u["name"] == "alice-admin")
    intern = next(u for u in account["users"] if u["name"] == "dev-intern")
    assert alice["mfa"] == 0 and any(p.startswith("break-glass") for p in intern["inline"])


# The Post digest control: /iam digest is sent as the chosen user, the digest is posted into the channel, and its
# link to an open alert jumps to that alert's message on the page.
def test_post_digest_posts_it_in_the_channel_with_links_that_jump_to_the_alerts(page, sandbox):
    simulate(page, "root_login")
    # (not just "Root": the audit report's root findings say it too, and threads are collapsed)
    alert = alert_message(page, "Root user signed in without MFA")
    alert_ts = alert.get_attribute("data-ts")
    page.click("#digest-post")
    ack = messages(page, "Posting the digest of", ".message.ephemeral")
    ack.wait_for()
    assert "since the last digest" in ack.inner_text() or "no digest was posted yet" in ack.inner_text()
    digest = messages(page, "IAM Warden digest").first
    digest.wait_for(timeout=20_000)
    assert re.search(r"Unacknowledged alerts \(\d+\)", digest.inner_text())
    assert "Muted in this period" in digest.inner_text()
    link = digest.locator(f'a.message-link[data-ts="{alert_ts}"]')
    expect(link).to_have_count(1)
    assert link.get_attribute("href") == "#"  # stays on the page: no fake slack.com address opened
    posted = sandbox.fake.message(sandbox.page.backend.channel, digest.get_attribute("data-ts"))
    assert "https://iam-warden-sandbox.slack.com/archives/" in str(posted["blocks"])
    link.click()
    expect(alert).to_have_class(re.compile(r"\bjumped\b"))


# After the digest test: this one's alerts would push the root alert out of the digest's ten.
def test_threads_are_collapsed_to_their_reply_count_until_clicked(page, sandbox):
    user = simulate(page, "privileged_user_created")
    # The thread the new user's alerts went to (the actor's: an earlier test may have opened it).
    ts = page.wait_for_function(
        """text => { const found = app.last && app.last.timeline.find(
                       i => !i.broadcast && i.replies.some(r => JSON.stringify(r).includes(text)));
                     return found ? found.ts : null; }""",
        arg=f"New user {user} given",
        timeout=ALERT_WAIT,
    ).json_value()
    parent = page.locator(f'#messages > .message[data-ts="{ts}"]')
    toggle = parent.locator(":scope > .message-body > .thread > .thread-toggle")
    expect(toggle).to_have_text(re.compile(r"^\d+ repl(y|ies)Last reply \d"), timeout=ALERT_WAIT)
    assert toggle.get_attribute("aria-expanded") == "false"
    assert parent.locator(".thread .message").count() == 0  # collapsed: the replies are not in the channel
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    shown, said = page.evaluate(
        """ts => { const m = document.querySelector(`#messages .message[data-ts="${ts}"]`);
                   return [m.querySelectorAll('.thread .message').length,
                           m.querySelector('.reply-count').textContent]; }""",
        parent.get_attribute("data-ts"),
    )
    assert shown >= 1 and said == f"{shown} {'reply' if shown == 1 else 'replies'}"
    expect(parent.locator(".thread .message", has_text=f"New user {user} given").first).to_be_visible()
    # The channel is redrawn on every change; an opened thread stays open.
    before = page.get_attribute("body", "data-version")
    page.fill("#command-input", "/iam help")
    page.click("#command-send")
    expect(page.locator("body")).not_to_have_attribute("data-version", before)
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert parent.locator(".thread .message").count() >= shown
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(parent.locator(".thread .message")).to_have_count(0)
    # A digest link to a reply in a collapsed thread opens that thread and shows the reply.
    digests = messages(page, "IAM Warden digest")
    before = digests.count()
    page.click("#digest-post")
    expect(digests).to_have_count(before + 1, timeout=20_000)
    digest = digests.last
    hidden = page.evaluate(
        """n => [...document.querySelectorAll('#messages a.message-link')].slice(-n).map(a => a.dataset.ts)
                 .filter(ts => !document.querySelector(`#messages .message[data-ts="${ts}"]`))""",
        digest.locator("a.message-link").count(),
    )
    assert hidden, "no digest link leads into a collapsed thread"
    digest.locator(f'a.message-link[data-ts="{hidden[0]}"]').first.click()
    target = page.locator(f'#messages .thread .message[data-ts="{hidden[0]}"]')
    expect(target).to_have_class(re.compile(r"\bjumped\b"))


# Last, after the audit test (the mute form then offers its checks) and after the tests that publish their own
# views or count on an unacknowledged root alert.
def test_the_mute_form_picks_a_check_and_one_of_its_findings_and_the_mute_is_stored_and_confirmed(page, sandbox):
    store = sandbox.rt.store
    page.fill("#command-input", "/iam mute")
    page.click("#command-send")
    modal = page.locator("#view-modal")
    expect(modal).to_be_visible(timeout=15_000)
    assert page.inner_text("#view-title") == "Mute"
    what = modal.locator('select[data-action-id="iam_mute_what"]')
    checks = what.locator('optgroup[label="Audit checks with open findings"] option')
    assert checks.count() > 0 and what.locator('optgroup[label="Detection rules"] option').count() > 0
    check = checks.first.get_attribute("value")
    what.select_option(check)  # the bot redraws the form with that check's findings (views.update)
    resource = modal.locator('select[data-action-id="iam_mute_resource"]')
    expect(resource).to_have_count(1, timeout=15_000)
    expect(what).to_have_value(check)
    finding = resource.locator("option").nth(1)  # after the "Choose one" placeholder
    finding_id, name = int(finding.get_attribute("value").removeprefix("finding:")), finding.inner_text()
    resource.select_option(f"finding:{finding_id}")
    page.click("#view-submit")  # no reason yet: the form says so and stays open
    expect(modal.locator('.input-error[data-block-id="iam_mute_reason"]')).to_be_visible()
    expect(modal).to_be_visible()
    modal.locator('input[data-action-id="iam_mute_reason"]').fill("rotation scheduled for Friday")
    page.click("#view-submit")
    expect(modal).to_be_hidden(timeout=15_000)
    check_id = check.removeprefix("check:")
    said = messages(page, f"{check_id} on", ".message.ephemeral").filter(has_text=re.compile(r"Mute #\d+"))
    said.wait_for(timeout=15_000)
    assert "Only visible to you" in said.inner_text()
    mutes = [m for m in store.active_mutes() if m.check_id == check_id]
    assert [(m.reason, m.muted_by) for m in mutes] == [("rotation scheduled for Friday", "U0ADMIN1")]
    assert name.startswith(mutes[0].resource) or mutes[0].resource == "account"


def test_an_alerts_details_modal_shows_its_record_with_secrets_redacted(page, sandbox):
    marker = f"details-probe-{int(time.time())}"
    token = "xoxb-1111-2222-SECRETVALUE"
    user = simulate(page, "privileged_user_created", user_agent=f"{marker} token={token}")
    alert = thread_reply(page, f"Access key created for user {user}")  # an event in ci-deployer's incident
    alert.locator('[data-action-id="iam_event_details"]').click()
    modal = page.locator("#view-modal")
    expect(modal).to_be_visible(timeout=15_000)
    assert page.inner_text("#view-title") == "Event details"
    body = page.locator("#view-body")
    expect(body).to_contain_text('"eventName": "CreateAccessKey"')
    expect(body).to_contain_text(f'"userName": "{user}"')
    expect(body).to_contain_text(marker)
    assert token not in body.inner_text() and "[REDACTED]" in body.inner_text()
    assert page.locator("#view-submit").is_hidden()  # a view to read: Close only
    page.click("#view-cancel")
    expect(modal).to_be_hidden()
