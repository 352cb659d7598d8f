"""The progress bar and log lines: a record printed during a run never lands inside the bar's line."""

from __future__ import annotations

import io
import logging

from app.progress import ProgressBar, logging_around


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_line_clears_the_bar_prints_on_its_own_line_and_the_bar_comes_back():
    stream = Terminal()
    root = logging.getLogger()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    saved = root.handlers, root.level
    root.handlers, root.level = [handler], logging.INFO
    try:
        bar = ProgressBar(stream)
        with logging_around(bar):
            bar.update("accounts", 0, 2)
            logging.getLogger("aws.collector").warning("snapshot of 111122223333: trails not collected")
            bar.update("accounts", 2, 2)
    finally:
        root.handlers, root.level = saved
    text = stream.getvalue()
    # The bar is wiped (CR + erase line) before the record, and drawn again after it.
    assert "[..............................] 0/2\r\033[KWARNING snapshot of 111122223333" in text
    assert "trails not collected\naccounts: [" in text
    assert text.endswith("[##############################] 2/2\n")


def test_after_the_run_the_handlers_are_the_ones_before():
    root = logging.getLogger()
    before = list(root.handlers)
    with logging_around(ProgressBar(Terminal())):
        assert all(type(h).__name__ == "_AroundBar" for h in root.handlers)
    assert root.handlers == before
