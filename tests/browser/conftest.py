"""Fixtures for the sandbox page tests: one running sandbox per module, Debian's Chromium driven by Playwright.

Without Chromium (or Playwright) the browser tests skip locally and fail when CI is set: CI must run them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.demo import Sandbox

CHROMIUM = os.environ.get("IAMBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (install Debian's chromium package)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The whole sandbox (moto, Slack stand-in, the bot, the page server) on free loopback ports."""
    running = Sandbox(say=lambda _line: None)
    try:
        running.start(0)
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's, not a Playwright download)."""
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        yield chromium
        chromium.close()


class PageErrors:
    """What the page did that it never should: JavaScript errors and native dialogs (alert/confirm/prompt)."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []


@pytest.fixture
def page(browser: Any, sandbox: Sandbox) -> Iterator[Any]:
    """A fresh tab on the sandbox page, acting as the first admin; fails the test on any JS error or dialog."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    seen = PageErrors()
    tab.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
    tab.on("pageerror", lambda err: seen.errors.append(str(err)))
    tab.goto(sandbox.page_url)
    tab.wait_for_selector("#scenarios button")
    tab.page_errors = seen
    yield tab
    context.close()
    assert seen.dialogs == [], f"the page opened native dialogs: {seen.dialogs}"
    assert seen.errors == [], f"JavaScript errors on the page: {seen.errors}"
