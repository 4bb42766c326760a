"""Talking to GitHub: App JWT, installation tokens, timeouts, retries and rate limits.

gidgethub does the REST plumbing (URL templates, pagination, error mapping) and none of
the resilience, so `InstallationClient` adds it in `_request`, the one method every call
goes through: a timeout per call, retries with backoff on 5xx and network errors, waiting
out secondary rate limits, pacing writes under GitHub's 80 content-creating requests per
minute, and one token refresh on a 401.
"""

from __future__ import annotations

import asyncio
import logging
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
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
)

log = logging.getLogger(__name__)

USER_AGENT = "pystd-app"
TOKEN_REFRESH_MARGIN = 300.0  # seconds before expiry at which a token is renewed
MAX_ATTEMPTS = 4
MAX_RATE_LIMIT_WAIT = 120.0  # seconds; a longer wait fails the job instead of hanging it
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})

Response = tuple[int, Mapping[str, str], bytes]


class GitHubError(Exception):
    """A GitHub call failed for good (after retries); the message is safe to show."""


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


def _retryable(response: Response) -> bool:
    status, headers, body = response
    return status >= 500 or _is_secondary_rate_limit(status, headers, body)


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
                 timeout: float, counter: dict[str, int] | None = None) -> None:
        super().__init__(session, USER_AGENT, base_url=base_url.rstrip("/"))
        self.installation_id = installation_id
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
        retrying = AsyncRetrying(
            stop=stop_after_attempt(MAX_ATTEMPTS),
            retry=retry_if_exception_type((asyncio.TimeoutError, aiohttp.ClientError))
            | retry_if_result(_retryable),
            wait=self._wait,
            sleep=self.sleep,
            retry_error_callback=self._give_up,
        )
        async for attempt in retrying:
            with attempt:
                result = await self._send(method, url, headers, body)
            if attempt.retry_state.outcome is not None and not attempt.retry_state.outcome.failed:
                attempt.retry_state.set_result(result)
        return result  # type: ignore[possibly-undefined]

    async def _send(self, method: str, url: str, headers: Mapping[str, str],
                    body: bytes) -> Response:
        if method in WRITE_METHODS:
            await self._pacer.limiter(self.installation_id).acquire()
        self.calls[method] = self.calls.get(method, 0) + 1
        async with asyncio.timeout(self._timeout):
            return await super()._request(method, url, headers, body)

    @staticmethod
    def _wait(state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            status, headers, body = outcome.result()
            if _is_secondary_rate_limit(status, headers, body):
                wait = rate_limit_wait(headers)
                if wait > MAX_RATE_LIMIT_WAIT:
                    raise GitHubError(f"GitHub rate limit: retry in {wait:.0f} s")
                log.warning("GitHub rate limit; waiting %.1f s", wait)
                return wait
        return min(8.0, 0.5 * 2 ** (state.attempt_number - 1))

    @staticmethod
    def _give_up(state: RetryCallState) -> Response:
        outcome = state.outcome
        assert outcome is not None
        if outcome.failed:
            exc = outcome.exception()
            raise GitHubError(f"GitHub did not answer: {type(exc).__name__}") from exc
        return outcome.result()  # the last 5xx/429: gidgethub maps it to an exception


@dataclass
class GitHubAccess:
    """What every installation client shares: the HTTP session, tokens and write pacing."""

    session: aiohttp.ClientSession
    tokens: TokenStore
    pacer: WritePacer
    base_url: str
    timeout: float
    calls: dict[str, int] = field(default_factory=dict)  # requests by method, for /metrics

    def client(self, installation_id: int) -> InstallationClient:
        return InstallationClient(
            self.session, installation_id=installation_id, tokens=self.tokens,
            pacer=self.pacer, base_url=self.base_url, timeout=self.timeout, counter=self.calls,
        )


def describe_error(exc: BaseException) -> str:
    """A short, token-free description of a failed GitHub call for summaries and logs."""
    if isinstance(exc, gidgethub.HTTPException):
        return f"GitHub answered {int(exc.status_code)}: {exc}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}".rstrip(": ")
