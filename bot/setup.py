"""`GET /setup`: register pystd on GitHub in one click, with GitHub's App-manifest flow.

While the server has no App credentials, /setup shows a form that posts the manifest
(app.yml with this server's PYSTD_PUBLIC_URL, bot/manifest.py) to GitHub's "new App" page
for a personal account or an organisation. GitHub creates the App and sends the browser
back to `/setup/callback?code=…&state=…`; the callback exchanges the code
(`POST /app-manifests/{code}/conversions`) for the App's id, private key and webhook
secret, stores them in the data folder (bot/credentials.py) and starts serving webhooks
at once, then links to the App's install page. Once credentials exist, /setup only says
so.

Who may register: a fresh server is reachable by anyone, and whoever registers it owns
the App it serves. So the form is shown only with the one-time key the server logs at
start (`/setup?key=…`), and the callback is accepted only with a `state` this server
issued, once, within an hour, from the browser it was issued to (a cookie): a code from
someone else's registration cannot be planted (CSRF).
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
from aiohttp import web
from cachetools import TTLCache

from pystd.bot import messages, pickup
from pystd.bot.credentials import StoredApp, StoredCredentialsError, load_app, save_app
from pystd.bot.github import USER_AGENT
from pystd.bot.logs import learn_secrets
from pystd.bot.manifest import manifest_for
from pystd.bot.pages import html_page
from pystd.bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

STATE_TTL = 3600.0  # seconds: GitHub's manifest code itself expires after an hour
COOKIE = "pystd_setup_state"
# GitHub logins: letters, digits and single hyphens, at most 39 characters.
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
CODE = re.compile(r"[A-Za-z0-9_.-]{1,200}")


class SetupFailed(Exception):
    """The registration could not be completed; the message says why, for the page."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class SetupFlow:
    """The registration state of one server: the current settings, the setup key, the
    states handed out, and how to start serving once credentials exist."""

    settings: Settings
    activate: Callable[[Settings], Awaitable[None]]
    key: str = ""
    stored: StoredApp | None = None

    def __post_init__(self) -> None:
        self.key = self.key or secrets.token_urlsafe(18)
        self.pending: TTLCache[str, str | None] = TTLCache(maxsize=64, ttl=STATE_TTL)
        self.lock = asyncio.Lock()
        try:
            self.stored = self.stored or load_app(self.settings.data_dir)
        except StoredCredentialsError:
            self.stored = None  # Settings.check already refused to start on it

    @property
    def setup_url(self) -> str:
        """The address an operator opens to register the App (it carries the key)."""
        return f"{self.settings.public_url}/setup?{urlencode({'key': self.key})}"

    def new_state(self, org: str | None) -> str:
        state = secrets.token_urlsafe(24)
        self.pending[state] = org
        return state

    async def adopt(self, settings: Settings, stored: StoredApp) -> bool:
        """Serve with credentials another replica's /setup stored in the shared data
        folder (bot/pickup.py), as this one's own callback does; False when this server
        got credentials meanwhile."""
        async with self.lock:
            if self.settings.configured:
                return False
            await self.activate(settings)
            self.settings, self.stored = settings, stored
            return True

    def take_state(self, state: str, cookie: str) -> bool:
        """Was `state` issued here, to this browser, and not used yet? Used up either way."""
        issued = self.pending.pop(state, False) is not False
        return issued and bool(cookie) and _same(state, cookie)


SETUP = web.AppKey("setup", SetupFlow)


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of text from a request (any characters) with ours."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _cookie_path(settings: Settings) -> str:
    """/setup under the public URL's path: behind a proxy at https://host/pystd the
    browser must send the cookie to /pystd/setup/callback."""
    return urlsplit(settings.public_url or "").path.rstrip("/") + "/setup"


# -- pages ---------------------------------------------------------------------------------

def _configured_page(flow: SetupFlow, notice: str = "") -> web.Response:
    stored = flow.stored
    if stored is not None and flow.settings.app_id == stored.app_id:
        detail = messages.SETUP_CONFIGURED_STORED.format(
            name=html.escape(stored.name), app_id=stored.app_id,
            owner=html.escape(stored.owner), install=html.escape(stored.install_url))
    else:
        detail = messages.SETUP_CONFIGURED_ENV.format(app_id=flow.settings.app_id)
    body = (f"<h1>{messages.SETUP_TITLE}</h1>{notice}"
            f'<div class="box ok"><p>{detail}</p></div><p>{messages.SETUP_NEXT}</p>')
    return html_page(messages.SETUP_TITLE, body)


def _problem_page(text: str, status: int) -> web.Response:
    body = (f"<h1>{messages.SETUP_TITLE}</h1>"
            f'<div class="box problem"><p>{text}</p></div>')
    return html_page(messages.SETUP_TITLE, body, status=status)


def _register_page(flow: SetupFlow, org: str | None) -> web.Response:
    settings = flow.settings
    assert settings.public_url is not None  # Settings.check: no credentials needs one
    state = flow.new_state(org)
    web_url = settings.github_web_url()
    where = f"/organizations/{quote(org)}/settings/apps/new" if org else "/settings/apps/new"
    action = f"{web_url}{where}?{urlencode({'state': state})}"
    manifest = json.dumps(manifest_for(settings.public_url))
    sent = messages.SETUP_WHAT_IS_SENT.format(url=html.escape(settings.public_url),
                                              github=html.escape(web_url))
    account = (messages.SETUP_FOR_ORG.format(org=html.escape(org)) if org
               else messages.SETUP_FOR_YOU)
    body = (
        f"<h1>{messages.SETUP_TITLE}</h1><p>{messages.SETUP_INTRO}</p>"
        f'<div class="box"><p>{account}</p>'
        f'<form method="post" action="{html.escape(action)}">'
        f'<input type="hidden" name="manifest" value="{html.escape(manifest)}">'
        f'<button type="submit" id="register">{messages.SETUP_BUTTON}</button></form></div>'
        f'<form method="get" action="setup" class="box"><p>{messages.SETUP_ORG_PROMPT}</p>'
        f'<input type="hidden" name="key" value="{html.escape(flow.key)}">'
        f'<input type="text" name="org" id="org" aria-label="organisation" '
        f'value="{html.escape(org or "")}" pattern="[A-Za-z0-9-]{{1,39}}"> '
        f'<button type="submit" id="choose-org">{messages.SETUP_ORG_BUTTON}</button></form>'
        f'<p class="meta">{sent}</p>'
    )
    response = html_page(messages.SETUP_TITLE, body, form_action=f"'self' {web_url}")
    response.set_cookie(COOKIE, state, max_age=int(STATE_TTL), path=_cookie_path(settings),
                        httponly=True, samesite="Lax",
                        secure=settings.public_url.startswith("https://"))
    return response


async def setup_page(request: web.Request) -> web.Response:
    flow = request.app[SETUP]
    if await pickup.configured(request.app):  # perhaps registered from another replica
        installed = request.query.get("setup_action") == "install"
        return _configured_page(flow, messages.SETUP_INSTALLED if installed else "")
    if not _same(request.query.get("key", ""), flow.key):
        return _problem_page(messages.SETUP_NEEDS_KEY, 403)
    given = flow.settings.credentials_given()
    if given:  # the App registered here would be paired with another App's credentials
        return _problem_page(messages.SETUP_SPLIT_CREDENTIALS.format(
            names=html.escape(", ".join(given))), 409)
    org = request.query.get("org", "").strip() or None
    if org is not None and not LOGIN.fullmatch(org):
        return _problem_page(messages.SETUP_BAD_ORG.format(org=html.escape(org[:100])), 400)
    return _register_page(flow, org)


async def setup_callback(request: web.Request) -> web.Response:
    flow = request.app[SETUP]
    if flow.settings.configured:
        return _configured_page(flow, f"<p>{messages.SETUP_ALREADY}</p>")
    if not flow.take_state(request.query.get("state", ""), request.cookies.get(COOKIE, "")):
        log.warning("setup callback with an unknown state")
        return _problem_page(messages.SETUP_BAD_STATE, 400)
    code = request.query.get("code", "")
    if not CODE.fullmatch(code):
        return _problem_page(messages.SETUP_BAD_CODE, 400)
    if await pickup.configured(request.app, force=True):  # another replica registered one
        return _configured_page(flow, f"<p>{messages.SETUP_ALREADY}</p>")
    async with flow.lock:  # two callbacks at once: the second finds the App registered
        if flow.settings.configured:
            return _configured_page(flow, f"<p>{messages.SETUP_ALREADY}</p>")
        try:
            stored = await exchange_code(flow.settings, code)
            settings = _register(flow, stored)
            try:
                await flow.activate(settings)
            except Exception as exc:  # stored already: a restart serves the App
                log.exception("serving the registered App failed")
                raise SetupFailed(messages.SETUP_NOT_ACTIVATED.format(
                    app_id=stored.app_id, reason=html.escape(type(exc).__name__)), 500) from None
        except SetupFailed as exc:
            log.error("setup failed: %s", exc)
            return _problem_page(str(exc), exc.status)
        flow.settings, flow.stored = settings, stored
    log.info("App registered from /setup", extra={"app_id": stored.app_id, "slug": stored.slug,
                                                  "owner": stored.owner})
    done = messages.SETUP_DONE.format(name=html.escape(stored.name), app_id=stored.app_id,
                                      owner=html.escape(stored.owner))
    body = (f"<h1>{messages.SETUP_TITLE}</h1>"
            f'<div class="box ok"><p>{done}</p>'
            f'<p><a class="button" id="install" href="{html.escape(stored.install_url)}">'
            f"{messages.SETUP_INSTALL_BUTTON}</a></p></div><p>{messages.SETUP_NEXT}</p>")
    response = html_page(messages.SETUP_TITLE, body)
    response.del_cookie(COOKIE, path=_cookie_path(flow.settings))
    return response


def _register(flow: SetupFlow, stored: StoredApp) -> Settings:
    """Store the credentials and return the settings that use them (the environment's
    values still win)."""
    try:
        save_app(flow.settings.data_dir, stored)
    except OSError as exc:
        raise SetupFailed(messages.SETUP_CANNOT_STORE.format(
            path=html.escape(str(flow.settings.data_dir)), reason=html.escape(str(exc.strerror)),
            app_id=stored.app_id), 500) from None
    try:
        settings = flow.settings.with_stored_credentials()
        settings.check()
    except SettingsError as exc:
        raise SetupFailed(html.escape(str(exc)), 500) from None
    return settings


# -- GitHub --------------------------------------------------------------------------------

async def exchange_code(settings: Settings, code: str) -> StoredApp:
    """`POST /app-manifests/{code}/conversions` (no authentication: the code is the
    credential). GitHub answers 201 with the App and its `pem`, `webhook_secret`,
    `client_id` and `client_secret`; a used or expired code gets 404."""
    api = settings.github_api_url.rstrip("/")
    url = api + f"/app-manifests/{quote(code, safe='')}/conversions"
    headers = {"Accept": "application/vnd.github+json", "User-Agent": USER_AGENT,
               "X-GitHub-Api-Version": "2022-11-28"}
    timeout = aiohttp.ClientTimeout(total=settings.request_timeout)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.post(url, headers=headers) as answer:
            status = answer.status
            data = await answer.json(content_type=None) if status == 201 else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise SetupFailed(messages.SETUP_GITHUB_UNREACHABLE.format(
            reason=html.escape(type(exc).__name__))) from None
    if status != 201:
        raise SetupFailed(messages.SETUP_CODE_REFUSED.format(status=status))
    return _stored_app(data)


def _stored_app(data: Any) -> StoredApp:
    if isinstance(data, dict):  # scrubbed from the logs before anything can log them
        learn_secrets(v for k in ("webhook_secret", "pem", "client_secret")
                      if isinstance(v := data.get(k), str))
    try:
        secret = data["webhook_secret"]
        if not isinstance(secret, str) or not secret:
            raise SetupFailed(messages.SETUP_NO_WEBHOOK_SECRET)
        owner = data.get("owner") or {}
        return StoredApp(app_id=int(data["id"]), slug=str(data["slug"]),
                         name=str(data.get("name") or data["slug"]),
                         html_url=str(data["html_url"]), owner=str(owner.get("login", "")),
                         webhook_secret=secret, pem=str(data["pem"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise SetupFailed(messages.SETUP_BAD_ANSWER) from None


def add_routes(app: web.Application, flow: SetupFlow) -> None:
    app[SETUP] = flow
    app.router.add_get("/setup", setup_page)
    app.router.add_get("/setup/callback", setup_callback)
