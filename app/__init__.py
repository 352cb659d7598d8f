"""The running bot: its wiring, HTTP surface, logging and serving lifecycle (bot.py is the command line)."""

__version__ = "0.1.0"  # the release; tests/test_config.py holds it equal to pyproject.toml's version
