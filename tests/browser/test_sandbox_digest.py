"""The sandbox's Post digest control in real Chromium: /iam digest is sent as the chosen user, the digest is posted
into the channel, and its link to an open alert jumps to that alert's message on the page."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips (or, under CI, fails) saying so
    expect = None

from tests.browser.test_sandbox_page import alert_message, messages, simulate


def test_post_digest_posts_it_in_the_channel_with_links_that_jump_to_the_alerts(page, sandbox):
    simulate(page, "root_login")
    alert = alert_message(page, "Root")
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
