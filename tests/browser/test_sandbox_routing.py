"""IAMBOT_ROUTES in the sandbox: critical alerts go to #incidents, the rest to #iam-alerts, and the page shows
both channels (a sandbox of its own, started with the route)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.demo import CHANNEL, INCIDENTS, PageClient, Sandbox, Script
from tests.browser.test_sandbox_page import alert_message, attached, expect, messages, simulate


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The sandbox with IAMBOT_ROUTES=critical=C0INCIDENTS."""
    running = Sandbox(say=lambda _line: None, route_critical=True)
    try:
        running.start(0)
        yield running
    finally:
        running.close()


def test_a_critical_alert_goes_to_the_incident_channel_and_a_medium_one_to_the_default_channel(page, sandbox):
    incidents = page.locator(f"#tab-channel-{INCIDENTS}")
    expect(incidents).to_have_text("#incidents")
    expect(page.locator("#tab-channel")).to_have_attribute("aria-selected", "true")
    user = simulate(page, "privileged_user_created")
    medium, critical = f"IAM user {user} created", f"New user {user} given admin-equivalent power"
    alert_message(page, medium)  # in #iam-alerts, shown first
    expect(messages(page, critical)).to_have_count(0)

    incidents.click()
    expect(incidents).to_have_attribute("aria-selected", "true")
    routed = alert_message(page, critical)
    assert "CRITICAL" in routed.inner_text()
    expect(messages(page, medium)).to_have_count(0)
    alerts = {a.rule: a for a in sandbox.rt.store.alerts() if a.target and a.target.endswith(f"/{user}")}
    assert (alerts["privileged_user_created"].channel, alerts["privileged_user_created"].severity) == (
        INCIDENTS,
        "critical",
    )
    assert (alerts["user_created"].channel, alerts["user_created"].severity) == (CHANNEL, "medium")

    # A button in the routed channel acts as anywhere: the click names that channel's message.
    routed.locator('[data-action-id="iam_detach_policy"]').click()
    page.click("#confirm-ok")
    expect(messages(page, critical).filter(has_text="policy removal by").first).to_be_visible(timeout=20_000)
    assert attached(sandbox, user) == []

    # The digest asked for in #incidents is posted there, with that channel's share: its critical alert, not the
    # medium one of #iam-alerts.
    page.click("#digest-post")
    ack = messages(page, "Posting the digest of", ".message.ephemeral")
    ack.wait_for(timeout=15_000)
    digest = messages(page, "IAM Warden digest").first
    digest.wait_for(timeout=20_000)
    expect(digest.locator(f'a.message-link[data-ts="{alerts["privileged_user_created"].ts}"]')).to_have_count(1)
    assert digest.locator(f'a.message-link[data-ts="{alerts["user_created"].ts}"]').count() == 0
    assert sandbox.fake.message(INCIDENTS, digest.get_attribute("data-ts")) is not None
    page.click("#tab-channel")
    expect(page.locator("#tab-channel")).to_have_attribute("aria-selected", "true")
    expect(messages(page, medium).first).to_be_visible()
    expect(messages(page, "IAM Warden digest")).to_have_count(0)  # posted in #incidents only


def test_the_scripted_scenario_finds_and_clears_the_alert_in_the_incident_channel(sandbox):
    """`bot.py demo --once --route-critical`: the script's alert steps follow the critical alert to #incidents."""
    script = Script(PageClient(sandbox.page_url))
    done = [step() for _name, step in script.steps()[:4]]  # simulate, alert, detach, disable key (not the audit)
    assert script.alert_channel == INCIDENTS
    assert done[2].startswith("confirmed 'Detach policy?'") and "is Inactive" in done[3], done
