"""The README shows only screenshots the browser tests write, and every one they write is shown (no browser
needed: the pictures themselves are written by the page tests in tests/browser/)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.browser.screenshots import DOCS, SCREENSHOTS

README = DOCS.parent / "README.md"
PAGE_TESTS = sorted(Path(__file__).parent.glob("test_*.py"))


def test_every_readme_screenshot_is_written_by_a_browser_test():
    shown = set(re.findall(r"!\[[^\]]*\]\(docs/([^)\s]+\.png)\)", README.read_text()))
    assert shown == set(SCREENSHOTS)
    for name in shown:
        assert (DOCS / name).is_file() and (DOCS / name).stat().st_size > 10_000, name
    tests = {
        n.name: n
        for module in PAGE_TESTS
        for n in ast.parse(module.read_text()).body
        if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
    }
    for name, test in SCREENSHOTS.items():
        assert test in tests, f"{test} (which writes docs/{name}) is not in tests/browser"
        saves = [
            call.args[1].value
            for call in ast.walk(tests[test])
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "save"
            and len(call.args) > 1
            and isinstance(call.args[1], ast.Constant)
        ]
        assert name in saves, f"{test} does not save docs/{name}"
