"""Webhook event handlers, one module per event family, each with its own router.

A handler receives a typed event (bot/events.py) and the services, calls one service
function, and returns whether it queued work.
"""

from __future__ import annotations

from pystd.bot.handlers import check_run, issue_comment, pull_request
from pystd.bot.handlers.routing import Route, Router

router = Router(pull_request.router, issue_comment.router, check_run.router)

__all__ = ["Route", "Router", "router"]
