"""The running bot: its wiring, HTTP surface, logging and serving lifecycle (bot.py is the command line)."""
