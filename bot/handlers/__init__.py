"""Webhook event handlers, one module per event family, each with its own router."""

from __future__ import annotations

from gidgethub.routing import Router

from bot.handlers import check_run, issue_comment, pull_request

router = Router(pull_request.router, issue_comment.router, check_run.router)
