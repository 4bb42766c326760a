"""Webhook deliveries built from GitHub's real payload examples, signed as GitHub signs.

Payloads: shared/github/webhooks/<event>/<file> (octokit/webhooks examples), validated
after `overrides` against their draft-07 schemas in shared/github/webhooks/schemas/,
which are organised as `<event>/<action>.schema.json` (`$id` "<event>$<action>"; `ping`
uses `ping/event.schema.json`) with shared parts in `common/` referenced by relative
`$ref`s; or shared/github/webhooks-extra/<source>/<file>, older real deliveries.
Headers and signature: GitHub docs "Webhook events and payloads" / "Validating webhook
deliveries"; the test vector is in shared/github/limits.json.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from .openapi import SHARED_GITHUB
from .server import APP_ID

WEBHOOKS = SHARED_GITHUB / "webhooks"
WEBHOOKS_EXTRA = SHARED_GITHUB / "webhooks-extra"
SCHEMAS = WEBHOOKS / "schemas"
HOOK_ID = 474_180_935


class DeliveryFactory(Protocol):
    def __call__(self, event: str, payload_file: str, *,
                 overrides: Mapping[str, Any] | None = None,
                 delivery_id: str | None = None) -> tuple[dict[str, str], bytes]: ...


def webhook_signature(secret: str, body: bytes) -> str:
    """X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@functools.cache
def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.rglob("*.schema.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(
            schema, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


def payload_validator(event: str, action: str | None) -> Draft7Validator:
    """The schema of one event/action, its `common/...` $refs resolved by the registry."""
    schema_id = f"{event}${action or 'event'}"
    return Draft7Validator(_registry().contents(schema_id), registry=_registry())


def deep_merge(base: Any, overrides: Mapping[str, Any]) -> Any:
    """`base` with `overrides` applied: mappings merge key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_payload(event: str, payload_file: str) -> tuple[dict[str, Any], bool]:
    """(payload, is_extra). Looks in webhooks/<event>/ first, then webhooks-extra/."""
    path = WEBHOOKS / event / payload_file
    if path.is_file():
        return json.loads(path.read_text()), False
    data = json.loads((WEBHOOKS_EXTRA / payload_file).read_text())
    # angular-github-robot's fixtures wrap the payload: {"event", "name", "payload"}
    if set(data) == {"event", "name", "payload"}:
        data = data["payload"]
    return data, True


def delivery(event: str, payload_file: str, *, secret: str,
             overrides: Mapping[str, Any] | None = None, delivery_id: str | None = None,
             app_id: int = APP_ID) -> tuple[dict[str, str], bytes]:
    """(headers, body) of one webhook delivery to a GitHub App, as GitHub sends it."""
    payload, extra = load_payload(event, payload_file)
    payload = deep_merge(payload, overrides or {})
    if not extra:
        # webhooks-extra payloads predate today's schemas (shared/github/README.md): the bot
        # must cope with them as they are, so they are not validated.
        errors = sorted(payload_validator(event, payload.get("action")).iter_errors(payload),
                        key=lambda e: list(e.absolute_path))
        if errors:
            raise ValueError(f"{event}/{payload_file} with overrides breaks the schema: " + "; ".join(
                f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]))
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/abc123",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": str(HOOK_ID),
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-GitHub-Hook-Installation-Target-ID": str(app_id),
        # GitHub still sends the SHA-1 signature beside the SHA-256 one.
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": webhook_signature(secret, body),
    }
    return headers, body
