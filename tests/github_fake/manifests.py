"""GitHub's App-manifest flow, as GitHub documents it ("Registering a GitHub App from a
manifest", and the REST operation `apps/create-from-manifest`):

1. The person's browser POSTs a form with one field, `manifest` (JSON), to
   `{web}/settings/apps/new?state=…` (their own account) or
   `{web}/organizations/{org}/settings/apps/new?state=…`. GitHub shows the new-App form
   filled in from it; on "Create GitHub App" it creates the App and redirects to the
   manifest's `redirect_url` with `?code=…&state=…` (the state as given). Here the App is
   created at once: the test's POST is the person's click.
2. The server POSTs `/app-manifests/{code}/conversions`, without authentication. GitHub
   answers 201 with the App (the "integration" schema: id, slug, node_id, owner, name,
   description, external_url, html_url, created_at, updated_at, permissions, events) and
   `client_id`, `client_secret`, `webhook_secret`, `pem`; the docs' example shows a PKCS#1
   key ("BEGIN RSA PRIVATE KEY"). The code must be exchanged within one hour, and works
   once; otherwise 404.
3. `{html_url}/installations/new` is the App's install page.

After a conversion the fake *is* the new App: its id, slug and key replace the old ones,
so the bot's JWTs must be signed with the key the conversion handed out.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import objects
from .auth import public_key_of
from .endpoints import Answer
from .rules import not_found

if TYPE_CHECKING:
    from .server import FakeGitHub

CODE_LIFETIME = 3600  # "you must complete this step within one hour"
DOCS_MANIFEST = ("https://docs.github.com/apps/sharing-github-apps/"
                 "registering-a-github-app-from-a-manifest")
DOCS_CONVERSION = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"
LEVELS = {"read", "write"}
# The permission GitHub requires before an App may subscribe to an event (the new-App
# form refuses the event otherwise): GitHub docs, "Webhook events and payloads".
EVENT_PERMISSIONS = {
    "pull_request": ("pull_requests",), "issue_comment": ("issues", "pull_requests"),
    "check_run": ("checks",), "check_suite": ("checks",), "merge_group": ("merge_queues",),
}
MAX_CALLBACK_URLS = 10


@dataclass
class CreatedApp:
    app_id: int
    slug: str
    owner: str
    manifest: dict[str, Any]
    pem: str
    webhook_secret: str
    client_id: str
    client_secret: str
    created_at: float


@dataclass
class ManifestFlow:
    """The fake's side of the flow: who is signed in on the web, the Apps created, and
    the codes handed out (code -> App, until used or expired)."""

    web_user: str = "octocat"
    apps: dict[str, CreatedApp] = field(default_factory=dict)  # by slug
    codes: dict[str, CreatedApp] = field(default_factory=dict)
    posted: list[tuple[str | None, dict[str, Any], str | None]] = field(default_factory=list)


def manifest_problems(manifest: Any) -> list[str]:
    """What GitHub's new-App form would refuse in a manifest (its documented parameters)."""
    if not isinstance(manifest, dict):
        return ["the manifest is not a JSON object"]
    problems = []
    for key in ("url",):
        if not isinstance(manifest.get(key), str) or not manifest[key]:
            problems.append(f"{key} is required")
    hook = manifest.get("hook_attributes")
    if hook is not None and (not isinstance(hook, dict) or not isinstance(hook.get("url"), str)):
        problems.append("hook_attributes.url is required")
    for key in ("name", "description", "redirect_url", "setup_url"):
        if key in manifest and not isinstance(manifest[key], str):
            problems.append(f"{key} must be a string")
    for key in ("public", "request_oauth_on_install", "setup_on_update"):
        if key in manifest and not isinstance(manifest[key], bool):
            problems.append(f"{key} must be a boolean")
    urls = manifest.get("callback_urls", [])
    if not isinstance(urls, list) or len(urls) > MAX_CALLBACK_URLS \
            or not all(isinstance(u, str) for u in urls):
        problems.append(f"callback_urls must be at most {MAX_CALLBACK_URLS} URLs")
    permissions = manifest.get("default_permissions", {})
    if not isinstance(permissions, dict) or not all(v in LEVELS for v in permissions.values()):
        problems.append("default_permissions must map permissions to read or write")
        permissions = {}
    events = manifest.get("default_events", [])
    if not isinstance(events, list):
        return [*problems, "default_events must be a list"]
    for event in events:
        needs = EVENT_PERMISSIONS.get(event)
        if needs is not None and not any(p in permissions for p in needs):
            problems.append(f"Default events unsupported: {event} needs the "
                            f"{' or '.join(needs)} permission")
    return problems


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "app"


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def _page(title: str, body: str, status: int = 200) -> web.Response:
    return web.Response(text=f'<!doctype html><link rel="icon" href="data:,">'
                             f"<title>{escape(title)}</title><h1>"
                             f"{escape(title)}</h1>{body}", status=status,
                        content_type="text/html")


def add_routes(gh: FakeGitHub) -> None:
    """The web pages and the conversion endpoint, ahead of the fake's API catch-all."""
    router = gh.app.router

    async def new_app(request: web.Request) -> web.Response:
        org = request.match_info.get("org")
        form = await request.post()
        state = request.query.get("state")
        gh.requests.append(_recorded(request, dict(form)))
        try:
            manifest = json.loads(str(form.get("manifest", "")))
        except ValueError:
            manifest = None
        gh.manifest_flow.posted.append((org, manifest, state))
        problems = manifest_problems(manifest)
        slug = _slug(str((manifest or {}).get("name") or "app"))
        if not problems and slug in gh.manifest_flow.apps:
            problems = [f"Name {slug!r} is already taken"]
        if problems:
            return _page("Create GitHub App", "<ul>" + "".join(
                f"<li>{escape(p)}</li>" for p in problems) + "</ul>", 422)
        app = CreatedApp(gh.next_id() + 500_000, slug, org or gh.manifest_flow.web_user,
                         manifest, _pem(), secrets.token_hex(20),
                         f"Iv1.{secrets.token_hex(8)}", secrets.token_hex(20), gh.now())
        gh.manifest_flow.apps[slug] = app
        code = secrets.token_hex(20)
        gh.manifest_flow.codes[code] = app
        target = manifest.get("redirect_url") or f"{_web(request)}/apps/{slug}"
        query = urlencode({"code": code, **({"state": state} if state is not None else {})})
        raise web.HTTPFound(f"{target}{'&' if '?' in target else '?'}{query}")

    async def conversion(request: web.Request) -> web.Response:
        gh.requests.append(_recorded(request, None))
        gh._count_usage("anonymous")
        app = gh.manifest_flow.codes.pop(request.match_info["code"], None)
        if app is None or gh.now() > app.created_at + CODE_LIFETIME:
            error = not_found(DOCS_CONVERSION)
            return gh._response(Answer(error.status, error.body), "anonymous")
        gh.app_id, gh.app_slug, gh.private_key_pem = app.app_id, app.slug, app.pem
        gh._public_key = public_key_of(app.pem)
        return gh._response(Answer(201, conversion_json(app, _web(request))), "anonymous")

    async def install_page(request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        app = gh.manifest_flow.apps.get(slug)
        if app is None:
            return _page("Page not found", "", 404)
        return _page(f"Install {app.manifest.get('name') or slug}",
                     f"<p>Install on {escape(gh.manifest_flow.web_user)}: all repositories "
                     f"or only select repositories.</p>")

    router.add_post("/settings/apps/new", new_app)
    router.add_post("/organizations/{org}/settings/apps/new", new_app)
    router.add_post("/app-manifests/{code}/conversions", conversion)
    router.add_get("/apps/{slug}/installations/new", install_page)


def conversion_json(app: CreatedApp, web_url: str) -> dict[str, Any]:
    """The 201 answer: the App as created from its manifest, and its credentials."""
    manifest = app.manifest
    created = objects.iso(app.created_at)
    return {
        "id": app.app_id, "slug": app.slug,
        "node_id": objects.node_id("Integration", app.app_id),
        "owner": objects.user_json(app.owner, web_url),
        "name": manifest.get("name") or app.slug,
        "description": manifest.get("description", ""),
        "external_url": manifest["url"], "html_url": f"{web_url}/apps/{app.slug}",
        "created_at": created, "updated_at": created,
        "permissions": {"metadata": "read", **manifest.get("default_permissions", {})},
        "events": list(manifest.get("default_events", [])),
        "client_id": app.client_id, "client_secret": app.client_secret,
        "webhook_secret": app.webhook_secret, "pem": app.pem,
    }


def _web(request: web.Request) -> str:
    return str(request.url.origin())


def _recorded(request: web.Request, body: Any) -> Any:
    from .server import RecordedRequest

    return RecordedRequest(request.method, request.path, dict(request.query), body,
                           {k: v for k, v in request.headers.items()
                            if k.lower() != "authorization"})
