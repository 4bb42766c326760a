"""The App's fixtures for every test module of tests/bot (defined with the end-to-end
helpers in test_app.py)."""

from tests.bot.test_app import bot, settings

__all__ = ["bot", "settings"]
