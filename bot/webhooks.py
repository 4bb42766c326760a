"""POST /webhook: refuse what is not a GitHub delivery before it costs anything, verify the
signature on the raw body, parse the payload into a typed event, route it, answer at once.

Order matters against unauthenticated senders: the encoding and size are refused from the
headers (415, 413) before the body is read; the body is read under a size cap and a time
limit (413, 408); only then is the HMAC checked (401), and only a signed body is decoded and
parsed (400 with the reason when it is malformed). The answer never waits for a review
(GitHub gives a delivery 10 s): handlers only queue, and the job is in the durable store
before the 202 (a delivery id seen before: 200 and no job; the store down: 503).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aiohttp import hdrs, web
from cachetools import TTLCache

from pystd.bot import messages
from pystd.bot.events import MalformedEvent, parse_event
from pystd.bot.handlers import router
from pystd.bot.services import Services
from pystd.bot.store import DuplicateDelivery, StoreError

log = logging.getLogger(__name__)

SEEN_DELIVERIES = web.AppKey("seen_deliveries", TTLCache)
SERVICES = web.AppKey("services", Services)
DELIVERY_COUNTS = web.AppKey("delivery_counts", dict)

MAX_DELIVERY_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})", re.IGNORECASE)  # SHA-1 is never enough
READ_CHUNK = 64 * 1024
MAX_HEADER_ECHO = 100  # characters of a header value repeated in logs


class Refused(Exception):
    """The delivery is answered with `status` before it reaches a handler."""

    def __init__(self, status: int, outcome: str, error: str) -> None:
        super().__init__(error)
        self.status, self.outcome, self.error = status, outcome, error


@dataclass
class Delivery:
    """What the log line of one delivery says about it."""

    delivery_id: str
    event: str
    action: str | None = None
    repository: str | None = None
    pr: int | None = None

    def log_extra(self, outcome: str, status: int) -> dict[str, Any]:
        return {"delivery_id": self.delivery_id, "event": self.event, "action": self.action,
                "repository": self.repository, "pr": self.pr, "outcome": outcome,
                "status": status}


def _count(request: web.Request, outcome: str) -> None:
    counts = request.app[DELIVERY_COUNTS]
    counts[outcome] = counts.get(outcome, 0) + 1


def _answer(request: web.Request, delivery: Delivery, status: int, outcome: str,
            body: dict[str, str], *, close: bool = False) -> web.Response:
    _count(request, outcome)
    log.info("delivery", extra=delivery.log_extra(outcome, status))
    response = web.json_response(body, status=status)
    if close:  # the body was not read: the connection cannot carry another request
        response.force_close()
    return response


async def webhook(request: web.Request) -> web.Response:
    return await handle_delivery(request, request.app[SERVICES])


async def handle_delivery(request: web.Request, services: Services) -> web.Response:
    """One delivery, for the App `services` serve (bot/app.py passes the services started
    after /setup registered the App)."""
    delivery = Delivery(
        delivery_id=request.headers.get("X-GitHub-Delivery", "")[:MAX_HEADER_ECHO],
        event=request.headers.get("X-GitHub-Event", "")[:MAX_HEADER_ECHO])
    try:
        data = await _signed_payload(request, services)
        delivery.action = data.get("action") if isinstance(data.get("action"), str) else None
        delivery.repository = _repository_name(data)
        return await _route(request, services, delivery, data)
    except Refused as exc:
        return _answer(request, delivery, exc.status, exc.outcome, {"error": exc.error},
                       close=exc.status in (408, 413, 415))


async def _signed_payload(request: web.Request, services: Services) -> dict[str, Any]:
    """The delivery's JSON object, after every check that an unauthenticated sender could
    make expensive; Refused with the status and reason otherwise."""
    encoding = request.headers.get(hdrs.CONTENT_ENCODING, "identity").strip().lower()
    if encoding not in ("", "identity"):
        # aiohttp's auto_decompress is off (bot.app): nothing has been inflated yet.
        raise Refused(415, "unsupported_encoding", messages.WEBHOOK_ENCODED_BODY.format(
            encoding=encoding[:MAX_HEADER_ECHO]))
    seconds = services.settings.body_timeout
    try:
        async with asyncio.timeout(seconds):
            body = await _read_body(request)
    except TimeoutError:
        raise Refused(408, "slow_body",
                      messages.WEBHOOK_TOO_SLOW.format(seconds=seconds)) from None
    secret = services.settings.webhook_secret
    if secret is None or not _signature_matches(
            secret.get_secret_value().encode(), body,
            request.headers.get("X-Hub-Signature-256", "")):
        raise Refused(401, "bad_signature", messages.WEBHOOK_BAD_SIGNATURE)
    for header in ("X-GitHub-Event", "X-GitHub-Delivery"):
        if not request.headers.get(header):
            raise _malformed(f"missing header {header}")
    return _decode(body, request.content_type, request.charset)


async def _read_body(request: web.Request) -> bytes:
    """The raw body, refused (413) as soon as it is known to pass MAX_DELIVERY_BYTES: from
    Content-Length before reading, else while reading a chunked body."""
    limit = MAX_DELIVERY_BYTES
    too_large = Refused(413, "too_large", messages.WEBHOOK_TOO_LARGE.format(limit=limit))
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _signature_matches(secret: bytes, body: bytes, header: str) -> bool:
    """GitHub's X-Hub-Signature-256: "sha256=" and the hex HMAC-SHA256 of the raw body.
    Any other algorithm named in the header (gidgethub takes it from there) is refused."""
    match = SIGNATURE.fullmatch(header.strip())
    if match is None:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1).lower())


def _malformed(reason: str) -> Refused:
    return Refused(400, "malformed", messages.WEBHOOK_BAD_BODY.format(reason=reason))


def _decode(body: bytes, content_type: str, charset: str | None) -> dict[str, Any]:
    """The JSON object of a signed body (GitHub sends application/json, or the JSON as the
    `payload` field of a form when the hook is so configured)."""
    if content_type not in ("application/json", "application/x-www-form-urlencoded"):
        raise Refused(415, "unsupported_type", messages.WEBHOOK_UNSUPPORTED_TYPE.format(
            content_type=content_type[:MAX_HEADER_ECHO]))
    name = (charset or "utf-8")[:MAX_HEADER_ECHO]
    try:
        text = body.decode(name)
    except LookupError:
        raise _malformed(f"unknown charset {name!r}") from None
    except UnicodeError:  # UnicodeDecodeError, or the plain UnicodeError of idna/punycode
        raise _malformed(f"body is not valid {name}") from None
    if content_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(text, max_num_fields=8)
        except ValueError:
            form = {}
        if len(form.get("payload", [])) != 1:
            raise _malformed("the form has no single payload field")
        text = form["payload"][0]
    try:
        data = json.loads(text)
    except RecursionError:
        raise _malformed("JSON nested too deeply") from None
    except ValueError:
        raise _malformed("body is not JSON") from None
    if not isinstance(data, dict):
        raise _malformed("body is not a JSON object")
    if not isinstance(data.get("action", ""), str):
        raise _malformed("action: not a string")
    return data


def _repository_name(data: dict[str, Any]) -> str | None:
    repo = data.get("repository")
    name = repo.get("full_name") if isinstance(repo, dict) else None
    return name if isinstance(name, str) else None


async def _route(request: web.Request, services: Services, delivery: Delivery,
                 data: dict[str, Any]) -> web.Response:
    seen = request.app[SEEN_DELIVERIES]
    if delivery.delivery_id in seen:
        return _answer(request, delivery, 200, "duplicate",
                       {"status": messages.WEBHOOK_DUPLICATE})
    if delivery.event == "ping":
        seen[delivery.delivery_id] = True
        return _answer(request, delivery, 200, "ping", {"status": messages.WEBHOOK_PONG})
    route = router.lookup(delivery.event, delivery.action)
    if route is None:
        seen[delivery.delivery_id] = True
        return _answer(request, delivery, 200, "ignored", {"status": messages.WEBHOOK_IGNORED})
    try:
        event = parse_event(route.model, data, delivery.delivery_id)
    except MalformedEvent as exc:
        raise _malformed(str(exc)) from None
    delivery.repository, delivery.pr = event.repository.full_name, event.pr
    try:
        # The handler writes the delivery id and its job in one transaction (bot/store):
        # the 202 goes out only once the job would survive a crash.
        queued = await route.handler(event, services)
    except DuplicateDelivery:
        seen[delivery.delivery_id] = True
        return _answer(request, delivery, 200, "duplicate",
                       {"status": messages.WEBHOOK_DUPLICATE})
    except StoreError as exc:  # GitHub records the failure; the operator can redeliver
        log.error("queue store unavailable: %s", exc, extra=delivery.log_extra(
            "store_unavailable", 503))
        _count(request, "store_unavailable")
        return web.json_response({"error": messages.WEBHOOK_STORE_DOWN}, status=503)
    except Exception:  # our bug, not GitHub's: a 500 with the traceback in our log
        _count(request, "error")
        log.exception("delivery", extra=delivery.log_extra("error", 500))
        return web.json_response({"error": messages.WEBHOOK_INTERNAL_ERROR}, status=500)
    seen[delivery.delivery_id] = True
    if queued:
        return _answer(request, delivery, 202, "queued", {"status": messages.WEBHOOK_QUEUED})
    return _answer(request, delivery, 200, "ignored", {"status": messages.WEBHOOK_IGNORED})
