"""Whether the App's credentials work: `/healthz` asks GitHub, now and then, whether the
private key signs a JWT it accepts for this App (`GET /app`).

A key that parses but belongs to another App (or to an App since deleted) would
otherwise only show up as every review failing; a health check that says so lets an
orchestrator or an operator see it at once. The answer is cached: a container platform
probes every few seconds, and GitHub needs to be asked only every few minutes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import aiohttp
import gidgethub
from gidgethub.aiohttp import GitHubAPI

from pystd.bot import messages
from pystd.bot.github import USER_AGENT, TokenStore

log = logging.getLogger(__name__)

GOOD_FOR = 300.0  # seconds a working key is taken as still working
BAD_FOR = 30.0  # seconds before a failed or unanswered check is tried again
# GitHub's answers to a JWT it does not accept: 401 (a key of another App, a bad App id),
# 404 (the App was deleted). Anything else (a rate limit's 403 or 429) is not the key's.
KEY_REFUSED = frozenset({401, 404})


@dataclass(frozen=True)
class KeyStatus:
    """`ok` False only when GitHub refused the key; `detail` says why, or that GitHub could
    not be reached (not the key's fault: the server still serves and retries)."""

    ok: bool
    detail: str


class AppKeyCheck:
    """Cached answer to "does GitHub accept this App's JWT?"."""

    def __init__(self, session: aiohttp.ClientSession, app_id: int, tokens: TokenStore,
                 base_url: str, timeout: float) -> None:
        self._app_id = app_id
        self._gh = GitHubAPI(session, USER_AGENT, base_url=base_url.rstrip("/"))
        self._tokens = tokens
        self._timeout = timeout
        self._answer: tuple[float, KeyStatus] | None = None
        self._lock = asyncio.Lock()

    async def status(self) -> KeyStatus:
        async with self._lock:  # one question at a time, however many probes wait
            if self._answer is not None and self._answer[0] > time.monotonic():
                return self._answer[1]
            status = await self._ask()
            self._answer = (time.monotonic() + (GOOD_FOR if status.ok and status.detail == "ok"
                                                else BAD_FOR), status)
            return status

    async def _ask(self) -> KeyStatus:
        try:
            async with asyncio.timeout(self._timeout):
                app = await self._gh.getitem("/app", jwt=self._tokens.app_jwt())
        except gidgethub.BadRequest as exc:
            status = int(exc.status_code)
            if status not in KEY_REFUSED:  # a rate limit (403, 429): says nothing of the key
                log.warning("GitHub did not answer the App's key check", extra={"status": status})
                return KeyStatus(True, messages.HEALTH_GITHUB_DECLINED.format(status=status))
            log.error("GitHub refused the App's key", extra={"status": status})
            return KeyStatus(False, messages.HEALTH_KEY_REFUSED.format(status=status))
        except (gidgethub.GitHubException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("cannot reach GitHub to check the App's key: %s", type(exc).__name__)
            return KeyStatus(True, messages.HEALTH_GITHUB_UNREACHABLE)
        if str(app.get("id")) != str(self._app_id):
            return KeyStatus(False, messages.HEALTH_KEY_REFUSED.format(status=200))
        return KeyStatus(True, "ok")
