"""Talking to GitHub: App JWT, installation tokens, timeouts, retries and rate limits.

gidgethub does the REST plumbing (URL templates, pagination, error mapping) and none of
the resilience, so `InstallationClient` adds it in `_request`, the one method every call
goes through: a timeout per call, retries with backoff on 5xx and network errors (writes
only when GitHub surely did not process them: see AmbiguousWrite), waiting out secondary
rate limits, pacing writes under GitHub's 80 content-creating requests per
minute, and one token refresh on a 401.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime

import aiohttp
import gidgethub
import jwt
from aiolimiter import AsyncLimiter
from cachetools import TLRUCache
from cryptography.hazmat.primitives import serialization
from gidgethub.aiohttp import GitHubAPI

log = logging.getLogger(__name__)

USER_AGENT = "pystd-app"
TOKEN_REFRESH_MARGIN = 300.0  # seconds before expiry at which a token is renewed
MAX_ATTEMPTS = 4
MAX_RATE_LIMIT_WAIT = 120.0  # seconds; a longer wait fails the job instead of hanging it
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# Writes that may be repeated after an unknown outcome: a second installation token is
# harmless, and a reaction the bot already made is answered 200 (reactions docs).
_REPEATABLE_WRITES = re.compile(r"/access_tokens$|/reactions$")

Response = tuple[int, Mapping[str, str], bytes]


class GitHubError(Exception):
    """A GitHub call failed for good (after retries); the message is safe to show."""


class AmbiguousWrite(GitHubError):
    """A write whose outcome is unknown: GitHub may have processed it (a 5xx answer, a
    timeout, a connection lost after sending). Look before writing again."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(GitHubError):
    """GitHub asked to wait longer than a call may block; `wait` is in seconds."""

    def __init__(self, message: str, wait: float) -> None:
        super().__init__(message)
        self.wait = wait


def _is_secondary_rate_limit(status: int, headers: Mapping[str, str], body: bytes) -> bool:
    """GitHub's rate limit answers: 403/429 with Retry-After, an exhausted primary limit,
    or the secondary-limit message (docs: "Rate limits for the REST API")."""
    if status not in (403, 429):
        return False
    if status == 429 or "retry-after" in headers:
        return True
    if headers.get("x-ratelimit-remaining") == "0":
        return True
    return b"rate limit" in body.lower()


def rate_limit_wait(headers: Mapping[str, str], now: float | None = None) -> float:
    """Seconds to wait before retrying: Retry-After, else until x-ratelimit-reset, else a
    minute (GitHub: "wait for at least one minute")."""
    now = time.time() if now is None else now
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = headers.get("x-ratelimit-reset")
    if headers.get("x-ratelimit-remaining") == "0" and reset and reset.isdigit():
        return max(0.0, float(reset) - now)
    return 60.0


class TokenStore:
    """Installation access tokens, cached until shortly before they expire (1 hour)."""

    def __init__(self, app_id: int, private_key: str, maxsize: int = 1024) -> None:
        self._app_id = str(app_id)
        # Parsed once: loading (and checking) an RSA key costs ~30 ms, too long to repeat
        # on the event loop for every token.
        self._private_key = serialization.load_pem_private_key(private_key.encode(),
                                                               password=None)
        self._tokens: TLRUCache[int, tuple[str, float]] = TLRUCache(
            maxsize=maxsize, ttu=lambda _key, value, now: value[1] - TOKEN_REFRESH_MARGIN,
            timer=time.time,
        )
        self._locks: dict[int, asyncio.Lock] = {}

    def app_jwt(self) -> str:
        """The App's JWT: issued a minute in the past for clock drift, valid 9 minutes."""
        now = int(time.time()) - 60
        payload = {"iat": now, "exp": now + 540, "iss": self._app_id}
        return jwt.encode(payload, self._private_key, algorithm="RS256")  # type: ignore[arg-type]

    async def token(self, gh: GitHubAPI, installation_id: int) -> str:
        cached = self._tokens.get(installation_id)
        if cached is not None:
            return cached[0]
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:  # one exchange per installation, however many calls wait
            cached = self._tokens.get(installation_id)
            if cached is not None:
                return cached[0]
            data = await gh.post("/app/installations/{id}/access_tokens",
                                 {"id": installation_id}, data=b"", jwt=self.app_jwt())
            expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))
            self._tokens[installation_id] = (data["token"], expires.timestamp())
            return data["token"]

    def forget(self, installation_id: int) -> None:
        self._tokens.pop(installation_id, None)


class WritePacer:
    """Keeps content-creating requests under GitHub's per-minute budget, per installation."""

    def __init__(self, per_minute: int) -> None:
        self._per_minute = per_minute
        self._limiters: dict[int, AsyncLimiter] = {}

    def limiter(self, installation_id: int) -> AsyncLimiter:
        limiter = self._limiters.get(installation_id)
        if limiter is None:
            limiter = self._limiters[installation_id] = AsyncLimiter(self._per_minute, 60)
        return limiter


class InstallationClient(GitHubAPI):
    """A gidgethub client acting as one installation of the App."""

    def __init__(self, session: aiohttp.ClientSession, *, installation_id: int,
                 tokens: TokenStore, pacer: WritePacer, base_url: str,
                 timeout: float, counter: dict[str, int] | None = None,
                 app_id: int = 0, base_backoff: float = 0.5, max_backoff: float = 8.0,
                 max_rate_limit_wait: float = MAX_RATE_LIMIT_WAIT) -> None:
        super().__init__(session, USER_AGENT, base_url=base_url.rstrip("/"))
        self.installation_id = installation_id
        self.app_id = str(app_id) if app_id else None  # gidgethub's field: the App's id, a str
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self.max_rate_limit_wait = max_rate_limit_wait
        self._tokens = tokens
        self._pacer = pacer
        self._timeout = timeout
        self.calls = counter if counter is not None else {}

    async def _request(self, method: str, url: str, headers: Mapping[str, str],
                       body: bytes = b"") -> Response:
        authorised = "authorization" in {k.lower() for k in headers}
        refreshed = False
        while True:
            request_headers = dict(headers)
            if not authorised:
                token = await self._tokens.token(self, self.installation_id)
                request_headers["authorization"] = f"token {token}"
            response = await self._with_retries(method, url, request_headers, body)
            if response[0] == 401 and not authorised and not refreshed:
                # The token was revoked or expired early: get a new one, once.
                self._tokens.forget(self.installation_id)
                refreshed = True
                continue
            return response

    async def _with_retries(self, method: str, url: str, headers: Mapping[str, str],
                            body: bytes) -> Response:
        """Send, retrying what is safe to repeat. A write that may have been processed
        (a 5xx answer, a timeout, a connection lost after sending) is never repeated here:
        it raises AmbiguousWrite and the caller looks for what it may have made."""
        repeatable = method not in WRITE_METHODS or _REPEATABLE_WRITES.search(url) is not None
        attempt = 0
        while True:
            attempt += 1
            failure: BaseException | None = None
            try:
                response = await self._send(method, url, headers, body)
            except aiohttp.ClientConnectorError as exc:  # refused before anything was sent
                failure = exc
            except (TimeoutError, aiohttp.ClientError) as exc:
                if not repeatable:
                    raise AmbiguousWrite(f"GitHub did not answer: {type(exc).__name__}") from exc
                failure = exc
            else:
                status, answer_headers, answer_body = response
                if _is_secondary_rate_limit(status, answer_headers, answer_body):
                    wait = rate_limit_wait(answer_headers)
                    if wait > self.max_rate_limit_wait:
                        raise RateLimited(f"GitHub rate limit: retry in {wait:.0f} s", wait)
                    if attempt >= MAX_ATTEMPTS:
                        return response  # gidgethub maps it to an exception
                    log.warning("GitHub rate limit; waiting %.1f s", wait)
                    await self.sleep(wait)
                    continue
                if status < 500:
                    return response
                if not repeatable:
                    raise AmbiguousWrite(f"GitHub answered {status}", status)
                if attempt >= MAX_ATTEMPTS:
                    return response
            if failure is not None and attempt >= MAX_ATTEMPTS:
                raise GitHubError(f"GitHub did not answer: {type(failure).__name__}") from failure
            await self.sleep(self.backoff(attempt))

    def backoff(self, attempt: int) -> float:
        """Exponential backoff after the `attempt`-th failure, capped."""
        return min(self.max_backoff, self.base_backoff * 2 ** (attempt - 1))

    async def _send(self, method: str, url: str, headers: Mapping[str, str],
                    body: bytes) -> Response:
        if method in WRITE_METHODS:
            await self._pacer.limiter(self.installation_id).acquire()
        self.calls[method] = self.calls.get(method, 0) + 1
        async with asyncio.timeout(self._timeout):
            return await super()._request(method, url, headers, body)


@dataclass
class GitHubAccess:
    """What every installation client shares: the HTTP session, tokens and write pacing."""

    session: aiohttp.ClientSession
    tokens: TokenStore
    pacer: WritePacer
    base_url: str
    timeout: float
    calls: dict[str, int] = field(default_factory=dict)  # requests by method, for /metrics
    app_id: int = 0
    base_backoff: float = 0.5  # seconds before the first retry; doubles up to max_backoff
    max_backoff: float = 8.0

    def client(self, installation_id: int) -> InstallationClient:
        return InstallationClient(
            self.session, installation_id=installation_id, tokens=self.tokens,
            pacer=self.pacer, base_url=self.base_url, timeout=self.timeout, counter=self.calls,
            app_id=self.app_id, base_backoff=self.base_backoff, max_backoff=self.max_backoff,
        )


def is_transient(exc: BaseException) -> bool:
    """Whether a failed GitHub call may succeed later: no answer (timeout, dropped
    connection), a 5xx, or a rate limit, after the per-call retries. A 404, a 422 or a
    refusal (a blob too large, no permission) is GitHub's last word."""
    if isinstance(exc, GitHubError):  # no answer, an ambiguous write, a long rate limit
        return True
    if isinstance(exc, gidgethub.GitHubBroken):  # 5xx
        return True
    if isinstance(exc, gidgethub.RateLimitExceeded):
        return True
    if isinstance(exc, gidgethub.BadRequest):
        status = int(exc.status_code)
        return status == 429 or (status == 403 and "rate limit" in str(exc).lower())
    return False


def describe_error(exc: BaseException) -> str:
    """A short, token-free description of a failed GitHub call for summaries and logs."""
    if isinstance(exc, GitHubError):
        return str(exc)
    if isinstance(exc, gidgethub.HTTPException):
        return f"GitHub answered {int(exc.status_code)}: {exc}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}".rstrip(": ")
