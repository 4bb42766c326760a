"""POST /webhook: verify the signature, drop redeliveries, route the event, answer at once.

The answer never waits for a review (GitHub gives a delivery 10 s): handlers only queue.
"""

from __future__ import annotations

import json
import logging

import gidgethub
from aiohttp import web
from cachetools import TTLCache
from gidgethub.sansio import Event

from bot import messages
from bot.handlers import router
from bot.services import Services

log = logging.getLogger(__name__)

SEEN_DELIVERIES = web.AppKey("seen_deliveries", TTLCache)
SERVICES = web.AppKey("services", Services)
DELIVERY_COUNTS = web.AppKey("delivery_counts", dict)


def _count(request: web.Request, outcome: str) -> None:
    counts = request.app[DELIVERY_COUNTS]
    counts[outcome] = counts.get(outcome, 0) + 1


async def webhook(request: web.Request) -> web.Response:
    body = await request.read()
    settings = request.app[SERVICES].settings
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    headers = {k.lower(): v for k, v in request.headers.items()}
    if not headers.get("x-hub-signature-256"):
        headers.pop("x-hub-signature", None)  # SHA-1 alone is not accepted
    try:
        event = Event.from_http(headers, body, secret=secret)
    except gidgethub.ValidationFailure:
        _count(request, "bad_signature")
        log.warning("delivery %s refused: bad signature", headers.get("x-github-delivery"))
        return web.json_response({"error": messages.WEBHOOK_BAD_SIGNATURE}, status=401)
    except (gidgethub.BadRequest, KeyError, ValueError) as exc:
        _count(request, "malformed")
        reason = "missing header " + str(exc) if isinstance(exc, KeyError) else str(exc)
        if isinstance(exc, json.JSONDecodeError):
            reason = "body is not JSON"
        return web.json_response({"error": messages.WEBHOOK_BAD_BODY.format(reason=reason)},
                                 status=400)
    if not isinstance(event.data, dict):
        _count(request, "malformed")
        return web.json_response(
            {"error": messages.WEBHOOK_BAD_BODY.format(reason="body is not a JSON object")},
            status=400)
    seen = request.app[SEEN_DELIVERIES]
    if event.delivery_id in seen:
        _count(request, "duplicate")
        return web.json_response({"status": messages.WEBHOOK_DUPLICATE}, status=200)
    if event.event == "ping":
        seen[event.delivery_id] = True
        _count(request, "ping")
        return web.json_response({"status": messages.WEBHOOK_PONG}, status=200)
    services = request.app[SERVICES]
    before = services.queue.queued_total
    try:
        await router.dispatch(event, services)
    except (KeyError, TypeError, ValueError) as exc:
        _count(request, "malformed")
        log.warning("delivery %s (%s) malformed: %r", event.delivery_id, event.event, exc)
        return web.json_response(
            {"error": messages.WEBHOOK_BAD_BODY.format(reason=f"missing or bad field {exc}")},
            status=400)
    seen[event.delivery_id] = True
    if services.queue.queued_total > before:
        _count(request, "queued")
        log.info("delivery %s (%s.%s) queued", event.delivery_id, event.event,
                 event.data.get("action"))
        return web.json_response({"status": messages.WEBHOOK_QUEUED}, status=202)
    _count(request, "ignored")
    return web.json_response({"status": messages.WEBHOOK_IGNORED}, status=200)
