"""In a sandbox of its own (a fresh account: the incident holds this scenario alone, App Home fits one screen):
one incident, one message (an actor's calls are one parent message at the incident's highest severity with a
one-line summary, its events in the thread, collapsed until clicked, and the incident's buttons act on all of it),
then App Home after an audit."""

from __future__ import annotations

import re
import time

from core.severity import Severity
from tests.browser import screenshots
from tests.browser.test_sandbox_page import ALERT_WAIT, account_row, act_as, expect, messages, simulate


def top_level(page, text: str):
    """The channel's own messages (not broadcast copies of replies) whose content holds `text`."""
    return page.locator("#messages > .message:not(.broadcast)").filter(
        has=page.locator(":scope > .message-body > .content", has_text=text)
    )


def test_one_actors_calls_are_one_incident_message_with_the_events_in_its_thread(page, sandbox, tmp_path):
    user = simulate(page, "privileged_user_created")
    critical = f"New user {user} given admin-equivalent power"
    # One parent, redrawn in place as the events fold in, saying the incident's highest severity and what happened.
    summary = f"ci-deployer created {user}, gave AdministratorAccess, created a key: 3 events"
    parent = top_level(page, "ci-deployer created").filter(has_text=summary)
    expect(parent).to_have_count(1, timeout=ALERT_WAIT)
    head = parent.locator(".block.section").first
    assert head.inner_text().startswith("\U0001f534 CRITICAL · ci-deployer created"), head.inner_text()
    assert top_level(page, user).count() == 1  # the other events are not messages of their own in the channel
    assert parent.locator("strong", has_text="CRITICAL").count() >= 1
    # The incident's buttons act on all of it.
    detach_all = parent.locator('[data-action-id="iam_incident_detach_all"]')
    disable_all = parent.locator('[data-action-id="iam_incident_disable_keys"]')
    expect(detach_all).to_have_text("Detach every grant (1)")
    expect(disable_all).to_have_text("Disable created keys (1)")
    # The events are in the thread, collapsed to their count until clicked.
    toggle = parent.locator(":scope > .message-body > .thread > .thread-toggle")
    expect(toggle).to_have_text(re.compile(r"^2 replies"))  # events 2 and 3: the first event's message is the parent
    assert toggle.get_attribute("aria-expanded") == "false" and parent.locator(".thread .message").count() == 0
    toggle.click()
    replies = parent.locator(".thread .message")
    expect(replies.filter(has_text=critical)).to_have_count(1)
    expect(replies.filter(has_text=f"Access key created for user {user}")).to_have_count(1)
    assert f"First: \U0001f7e1 IAM user {user} created" in parent.inner_text()
    # The critical event is not hidden under the parent: its thread reply is also in the channel.
    expect(messages(page, critical, ".message.broadcast")).to_have_count(1)
    parent.evaluate("node => node.scrollIntoView({block: 'start'})")
    shot = screenshots.save(page, "incident.png", tmp_path)
    assert shot.stat().st_size > 10_000

    # Disable created keys: one confirmation, then every key the incident created is Inactive in the account.
    disable_all.click()
    assert page.inner_text("#confirm-title") == "Disable the keys the incident created?"
    assert user in page.inner_text("#confirm-text")
    page.click("#confirm-ok")
    expect(account_row(page, user).locator(".key-status.inactive")).to_have_count(1, timeout=20_000)
    iam = sandbox.page.backend.iam
    assert [k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]] == ["Inactive"]
    expect(disable_all).to_have_count(0, timeout=15_000)  # done: the parent no longer offers it


# After the incident test: its alerts are the tab's open alerts.
def test_app_home_shows_alerts_findings_last_audit_and_feed_and_an_admins_click_acts(page, sandbox, tmp_path):
    store = sandbox.rt.store
    # A lone alert beside the incident (root's sign-in folds into no one's incident): the tab lists the incident as
    # one entry with its buttons and this alert with its own.
    page.click("#tab-channel")
    simulate(page, "root_login")
    deadline = time.monotonic() + ALERT_WAIT / 1000
    while not any(a.rule == "root_login" and a.post_state == "posted" for a in store.alerts()):
        assert time.monotonic() < deadline, [(a.rule, a.post_state) for a in store.alerts()]
        time.sleep(0.2)
    page.fill("#command-input", "/iam audit")
    page.click("#command-send")
    messages(page, "IAM audit of account").first.wait_for(timeout=150_000)
    page.click("#tab-home")
    home = page.locator("#home")
    expect(home.locator(".header")).to_have_text("IAM Warden", timeout=20_000)
    expect(home).to_contain_text("you are an IAM Warden admin: the buttons act")
    open_count = len([a for a in store.alerts(status="open") if a.post_state != "muted"])  # as /iam status counts
    home.locator('[data-action-id="iam_home_refresh"]').click()  # drawn from the store as it is now
    expect(home).to_contain_text(f"Open alerts ({open_count})")
    text = home.inner_text()
    groups = [
        re.fullmatch(r"\S+ (critical|high|medium|low|info) \(\d+\)", t)
        for t in home.locator(".block.context").all_inner_texts()
    ]
    shown = [g.group(1) for g in groups if g]
    assert shown[0] == "critical" and shown == sorted(shown, key=lambda s: Severity(s).rank), shown
    findings = int(re.search(r"Open findings \((\d+)\) by check", text).group(1))
    assert findings > 0 and re.search(r"`?\w+`?: \d+ resources?", text)
    assert re.search(r"Last audit #\d+ of 1 account by @Ada Admin", text), text
    assert "in #iam-alerts" in text  # where each alert was posted, by the channel's name
    assert "Event feed" in text and "Latest event per account" in text and "123456789012" in text
    page.set_viewport_size({"width": 1400, "height": 1700})  # the whole tab, down to the feed's health
    home.evaluate("node => node.closest('.pane').scrollTo(0, 0)")
    shot = screenshots.save(page, "app_home.png", tmp_path)
    assert shot.stat().st_size > 10_000
    page.set_viewport_size({"width": 1400, "height": 1000})

    # An admin's Acknowledge in the tab acts: the alert is taken and the tab is republished without it.
    ack = home.locator('[data-action-id="iam_ack"]').first
    alert_id = int(ack.get_attribute("data-value"))
    assert store.alert(alert_id).status == "open"
    ack.click()
    expect(home.locator(f'[data-block-id="iam_home_alert_{alert_id}"]')).to_have_count(0, timeout=15_000)
    assert store.alert(alert_id).status == "acknowledged"
    expect(home).to_contain_text(f"Open alerts ({open_count - 1})")
    # Everyone else gets a read-only view: no buttons.
    act_as(page, "U0VIEWER")
    expect(home).to_contain_text("read-only view", timeout=15_000)
    assert home.locator('[data-action-id="iam_ack"], [data-action-id="iam_detach_policy"]').count() == 0
    act_as(page, "U0ADMIN1")
    page.click("#tab-channel")
