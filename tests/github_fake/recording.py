"""`RecordingGitHubAPI`: the unit-test fake (STYLE.md convention 10).

A `gidgethub.abc.GitHubAPI` that overrides only `_request` and `sleep`, so gidgethub's
own URL templating, headers, JSON encoding, pagination (`Link`) and error mapping
(`BadRequest`, `GitHubBroken`, `RateLimitExceeded`, …) run for real. It answers from
canned responses keyed by (method, path) or (method, path?query), records every call,
and raises AssertionError on any call it was not given an answer for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast
from urllib.parse import parse_qsl, urlsplit

from gidgethub import abc as gh_abc

#: (status, headers, body): body may be bytes, str, or anything JSON-encodable.
CannedAnswer = tuple[int, Mapping[str, str], Any]

_DEFAULT_HEADERS = {
    "content-type": "application/json; charset=utf-8",
    "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999",
    "x-ratelimit-reset": "4102444800", "x-ratelimit-used": "1",
}


class RecordedCall(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]  # without authorization
    authorization: str | None


class RecordingGitHubAPI(gh_abc.GitHubAPI):
    """Canned answers in, recorded calls out; nothing else gets through.

    `answers` maps (method, path) or (method, "path?query") to one answer (served every
    time) or a list of answers (served in order, then exhausted):
        RecordingGitHubAPI({("GET", "/repos/o/r/pulls/1"): (200, {}, {"number": 1})})
    """

    def __init__(self, answers: Mapping[tuple[str, str], CannedAnswer | Sequence[CannedAnswer]]
                 | None = None, *, requester: str = "pystd-tests", **kwargs: Any) -> None:
        super().__init__(requester, **kwargs)
        self._answers: dict[tuple[str, str], list[CannedAnswer] | CannedAnswer] = {}
        self._used: set[tuple[str, str]] = set()
        self.calls: list[RecordedCall] = []
        self.sleeps: list[float] = []
        for key, answer in (answers or {}).items():
            self.answer(*key, answer)

    def answer(self, method: str, path: str,
               answer: CannedAnswer | Sequence[CannedAnswer]) -> None:
        """Add (or replace) the canned answer for a method and path (query optional)."""
        key = (method.upper(), path)
        is_one = isinstance(answer, tuple) and len(answer) == 3 and isinstance(answer[0], int)
        # One answer is itself a tuple: tell it from a sequence of answers by its shape.
        if is_one:
            self._answers[key] = cast("CannedAnswer", answer)
        else:
            self._answers[key] = list(cast("Sequence[CannedAnswer]", answer))

    def unused(self) -> list[tuple[str, str]]:
        """Canned answers nobody asked for (a handler that skipped a call it should make)."""
        return [key for key in self._answers if key not in self._used]

    async def _request(self, method: str, url: str, headers: Mapping[str, str],
                       body: bytes = b"") -> tuple[int, Mapping[str, str], bytes]:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        sent = {k.lower(): v for k, v in headers.items()}
        authorization = sent.pop("authorization", None)
        decoded: Any = None
        if body:
            decoded = json.loads(body) if "json" in sent.get("content-type", "") else body
        self.calls.append(RecordedCall(method, parts.path, query, decoded, sent, authorization))
        key = next((k for k in ((method, f"{parts.path}?{parts.query}"), (method, parts.path))
                    if k in self._answers), None)
        if key is None:
            raise AssertionError(f"unexpected GitHub call {method} {url}; "
                                 f"canned: {sorted(self._answers)}")
        self._used.add(key)
        canned = self._answers[key]
        if isinstance(canned, list):
            if not canned:
                raise AssertionError(f"no answers left for {method} {url}")
            canned = canned.pop(0)
        status, answer_headers, answer_body = canned
        merged = {**_DEFAULT_HEADERS, **{k.lower(): v for k, v in answer_headers.items()}}
        if isinstance(answer_body, bytes):
            raw = answer_body
        elif isinstance(answer_body, str):
            raw = answer_body.encode()
        else:
            raw = b"" if answer_body is None else json.dumps(answer_body).encode()
        return status, merged, raw

    async def sleep(self, seconds: float) -> None:
        """Record the delay gidgethub or the bot asked for; never actually wait."""
        self.sleeps.append(seconds)
