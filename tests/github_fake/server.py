"""`FakeGitHub`: a real aiohttp server that answers the bot as api.github.com would.

What makes it GitHub-like, and where each behaviour comes from:
- answers shaped by shared/github/openapi/** and the webhook examples (objects.py);
- request bodies validated against the openapi `requestBody` schemas (openapi.py) and
  GitHub's further rules (rules.py); every 400/422 and every unknown route is also kept in
  `violations`, so a bot bug cannot hide behind an error answer the bot happens to survive;
- App JWT and installation tokens that expire (auth.py; limits.json "apps/…");
- pagination with `Link` headers, 100 per page at most, 3000 files at most (endpoints.py);
- rate-limit headers on every answer, the primary limit, and the secondary limit on
  content creation: "no more than 80 content-generating requests per minute and no more
  than 500 content-generating requests per hour" (GitHub docs, "Rate limits for the REST
  API"), answered with 403, `Retry-After` and GitHub's message;
- injected faults (`fail_next`, or `chaos` for random ones) and latency (`latency`) for
  retry tests and benchmarks. A fault behaves as a flaky network does: answered without
  processing ("before"), processed then answered with the error ("after", e.g. a 502 from
  a proxy that timed out while GitHub did the work), processed and answered after the
  client gave up ("slow", held `slow_seconds`), or the connection closed without an answer,
  before ("reset") or after ("reset-after") processing.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import itertools
import json
import math
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from aiohttp import web

from . import manifests, objects
from .auth import app_private_key_pem, public_key_of, unauthorized, verify_app_jwt
from .endpoints import ROUTES, Answer, Call, Route
from .graphql import GRAPHQL_ROUTE
from .openapi import github_problems, operation, request_body_required, request_validator
from .rules import DOCS, GitHubError, invalid_request, not_found
from .state import (
    CheckRunState,
    FakeFile,
    Installation,
    IssueCommentState,
    PullState,
    RepoState,
    ReviewCommentState,
    ReviewState,
    Role,
    Token,
    as_bytes,
    trees_for,
)

APP_ID = 424242
APP_SLUG = "pystd"
SECONDARY_RATE_LIMIT = {  # hisxo/gitGraber#41 (a real 403 body)
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before "
               "you try again.",
    "documentation_url": "https://docs.github.com/en/free-pro-team@latest/rest/overview/"
                         "resources-in-the-rest-api#secondary-rate-limits",
}


class RecordedRequest(NamedTuple):
    """A request as the bot sent it (the Authorization header is left out)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Violation:
    """A request GitHub would refuse as malformed (400/422) or an unknown route (404)."""

    method: str
    path: str
    status: int
    message: str


FaultKind = Literal["before", "after", "slow", "reset", "reset-after"]
FAULT_KINDS: tuple[FaultKind, ...] = ("before", "after", "slow", "reset", "reset-after")


@dataclass(frozen=True)
class Fault:
    """What goes wrong with one request (see the module docstring for `kind`)."""

    kind: FaultKind = "before"
    status: int = 502
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    @property
    def processed(self) -> bool:
        return self.kind in ("after", "slow", "reset-after")

    def answer(self) -> Answer:
        return Answer(self.status, _fault_body(self.status) if self.body is None else self.body,
                      dict(self.headers))


@dataclass
class _Pending:
    method: str
    pattern: re.Pattern[str]
    fault: Fault
    times: int


#: chaos(method, path) -> a fault for this request, or None (benchmarks: random faults).
Chaos = Callable[[str, str], Fault | None]


def _fault_body(status: int) -> Any:
    if status in (403, 429):
        return SECONDARY_RATE_LIMIT
    if status == 401:
        return {"message": "Bad credentials", "documentation_url": DOCS}
    return {"message": http.HTTPStatus(status).phrase}


class FakeGitHub:
    """State, faults and inspection helpers, plus the aiohttp `app` that serves them.

    The `fake_github` fixture (tests/conftest.py) starts `app` on 127.0.0.1 and sets
    `url`; build state before or after, from the test.
    """

    def __init__(self, *, app_id: int = APP_ID, private_key_pem: str | None = None,
                 app_slug: str = APP_SLUG) -> None:
        self.app_id, self.app_slug = app_id, app_slug
        self.private_key_pem = private_key_pem or app_private_key_pem()
        self._public_key = public_key_of(self.private_key_pem)
        self.url = "https://api.github.com"  # the fixture sets the served URL
        self.latency = 0.0  # seconds added to every answer (benchmarks)
        self.rate_limit = 5000  # primary limit per hour, per installation (and for the App)
        self.writes_per_minute, self.writes_per_hour = 80, 500
        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        # GraphQL fields answered "Resource not accessible by integration" (FORBIDDEN), and
        # every mutation asked for, as (field, thread id).
        self.graphql_refused: set[str] = set()
        self.graphql_mutations: list[tuple[str, Any]] = []
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self._repos: dict[str, RepoState] = {}
        self._faults: list[_Pending] = []
        self.chaos: Chaos | None = None
        self.injected: list[tuple[str, str, Fault]] = []  # (method, path, fault) served
        self.slow_seconds = 1.0  # how long a "slow" answer is held (past the client's timeout)
        self._released = asyncio.Event()  # set at shutdown: held answers go at once
        self._writes: dict[int, deque[float]] = defaultdict(deque)
        self._usage: dict[str, tuple[float, int]] = {}
        self._ids = itertools.count(1001)
        self._clock_offset = 0.0
        self.manifest_flow = manifests.ManifestFlow()  # the App-manifest flow's web side
        self.app = web.Application()
        manifests.add_routes(self)  # before the API's catch-all
        self.app.router.add_route("*", "/{tail:.*}", self._serve)
        self.app.on_shutdown.append(self._release)

    # -- clock and identity ----------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_time(self, seconds: float) -> None:
        """Move GitHub's clock (token expiry, rate-limit windows) without sleeping."""
        self._clock_offset += seconds

    def next_id(self) -> int:
        return next(self._ids)

    @property
    def bot_login(self) -> str:
        return f"{self.app_slug}[bot]"

    def bot_user(self, api: str) -> dict[str, Any]:
        return objects.user_json(self.bot_login, api, type="Bot")

    def app_json(self, api: str) -> dict[str, Any]:
        return objects.app_json(self.app_id, self.app_slug, "pystd-dev", api)

    # -- building state ---------------------------------------------------------------------

    def add_installation(self, account: str, installation_id: int | None = None) -> Installation:
        number = installation_id or max([0, *self.installations]) + 1
        installation = Installation(number, account)
        self.installations[number] = installation
        return installation

    def add_repository(self, owner: str, repo: str, *, installation_id: int | None = None,
                       private: bool = True, default_branch: str = "main",
                       files: dict[str, bytes | str] | None = None,
                       head_sha: str | None = None) -> RepoState:
        """A repository of an installation (the owner's, created if needed); `files` make
        the first commit `head_sha` of `default_branch`."""
        if installation_id is None:
            installation_id = next((i.id for i in self.installations.values()
                                    if i.account == owner), None) \
                or self.add_installation(owner).id
        elif installation_id not in self.installations:
            self.add_installation(owner, installation_id)
        state = RepoState(owner, repo, objects.numeric_id(f"{owner}/{repo}"), installation_id,
                          private=private, default_branch=default_branch,
                          created_at=objects.iso(self.now()))
        self._repos[state.full_name.lower()] = state
        if files is not None:
            sha = head_sha or secrets.token_hex(20)
            state.add_commit(sha, {path: as_bytes(c) for path, c in files.items()})
            state.refs[default_branch] = sha
        return state

    def add_pull_request(self, owner: str, repo: str, number: int, *, head_sha: str,
                         base_sha: str, author: str = "octocat",
                         files: list[FakeFile] | tuple[FakeFile, ...] = (),
                         base_files: dict[str, bytes | str] | None = None,
                         head_ref: str | None = None, base_ref: str | None = None,
                         title: str | None = None, body: str | None = None,
                         draft: bool = False, state: str = "open",
                         fork_owner: str | None = None) -> PullState:
        """A pull request; its base commit holds `base_files` (and each file's base
        content), its head commit that plus the changes in `files`."""
        repo_state = self.find_repository(owner, repo) or self.add_repository(owner, repo)
        start = dict(repo_state.commits.get(base_sha, {}))
        start.update({path: as_bytes(c) for path, c in (base_files or {}).items()})
        base, head, entries = trees_for(list(files), start)
        repo_state.add_commit(base_sha, base)
        repo_state.add_commit(head_sha, head)
        base_ref = base_ref or repo_state.default_branch
        head_ref = head_ref or f"feature-{number}"
        repo_state.refs.setdefault(base_ref, base_sha)
        if fork_owner is None:
            repo_state.refs[head_ref] = head_sha
        pr = PullState(number, title or f"Change {number}", body, author, head_ref, base_ref,
                       head_sha, base_sha, fork_owner, state, draft, objects.iso(self.now()),
                       entries, [head_sha])
        repo_state.pulls[number] = pr
        return pr

    def move_head(self, owner: str, repo: str, number: int, new_sha: str, *,
                  files: list[FakeFile] | None = None) -> PullState:
        """A push to the pull request: a new head sha, with new `files` or the same ones."""
        repo_state, pr = self._pull(owner, repo, number)
        if files is None:
            repo_state.add_commit(new_sha, dict(repo_state.commits[pr.head_sha]))
        else:
            base, head, pr.entries = trees_for(files, dict(repo_state.commits[pr.base_sha]))
            repo_state.add_commit(pr.base_sha, base)
            repo_state.add_commit(new_sha, head)
        pr.head_sha = new_sha
        pr.head_history.append(new_sha)
        if pr.fork_owner is None:
            repo_state.refs[pr.head_ref] = new_sha
        return pr

    def close_pull_request(self, owner: str, repo: str, number: int) -> None:
        self._pull(owner, repo, number)[1].state = "closed"

    def set_permission(self, owner: str, repo: str, user: str, role: Role) -> None:
        """The user's role on the repository: admin, maintain, write, triage, read, none."""
        self._repo(owner, repo).roles[user] = role

    def add_issue_comment(self, owner: str, repo: str, number: int, body: str, *,
                          user: str, comment_id: int | None = None) -> int:
        """A comment someone wrote on pull request `number`; returns its id (use it in
        `issue_comment_overrides`)."""
        repo_state, _ = self._pull(owner, repo, number)
        comment = IssueCommentState(comment_id or self.next_id(), number, body, user,
                                    created_at=objects.iso(self.now()))
        repo_state.issue_comments[comment.id] = comment
        return comment.id

    def expire_tokens(self) -> None:
        """Every installation token issued so far stops working (401 Bad credentials)."""
        for token in self.tokens.values():
            token.revoked = True

    def fail_next(self, method: str, path_regex: str, status: int = 502, times: int = 1,
                  headers: dict[str, str] | None = None, body: Any = None,
                  kind: FaultKind = "before") -> None:
        """Fail the next `times` matching requests (method or "*", `re.search` on the
        path): answer `status` before or after processing, answer too late, or close the
        connection (`kind`); 403/429 default to GitHub's secondary-rate-limit body."""
        self._faults.append(_Pending(method.upper(), re.compile(path_regex),
                                     Fault(kind, status, dict(headers or {}), body), times))

    def clear_faults(self) -> None:
        """Forget the faults not served yet: GitHub is healthy again."""
        self._faults.clear()

    # -- inspecting -------------------------------------------------------------------------

    def repositories(self) -> list[RepoState]:
        return list(self._repos.values())

    def find_repository(self, owner: str | None, repo: str | None,
                        repo_id: str | int | None = None) -> RepoState | None:
        if repo_id is not None:
            return next((r for r in self._repos.values() if r.id == int(repo_id)), None)
        return self._repos.get(f"{owner}/{repo}".lower())

    def pull_request(self, owner: str, repo: str, number: int) -> PullState:
        return self._pull(owner, repo, number)[1]

    def calls(self, method: str, path_regex: str) -> list[RecordedRequest]:
        """Recorded requests with this method ("*" for any) whose path matches."""
        pattern = re.compile(path_regex)
        return [r for r in self.requests
                if method.upper() in ("*", r.method) and pattern.search(r.path)]

    def check_runs(self, owner: str, repo: str) -> list[CheckRunState]:
        return list(self._repo(owner, repo).check_runs.values())

    def reviews(self, owner: str, repo: str, number: int) -> list[ReviewState]:
        return list(self._pull(owner, repo, number)[1].reviews)

    def review_comments(self, owner: str, repo: str, number: int) -> list[ReviewCommentState]:
        return [c for review in self.reviews(owner, repo, number) for c in review.comments]

    def issue_comments(self, owner: str, repo: str, number: int) -> list[IssueCommentState]:
        return [c for c in self._repo(owner, repo).issue_comments.values()
                if c.issue_number == number]

    def reactions(self, owner: str, repo: str, comment_id: int) -> list[str]:
        """Contents of the reactions on an issue comment, in order ("eyes", "confused")."""
        return [r.content for r in self._repo(owner, repo).reactions.get(comment_id, [])]

    def take_violations(self) -> list[Violation]:
        """The violations so far, forgotten (for tests that provoke them on purpose)."""
        taken, self.violations = self.violations, []
        return taken

    # -- webhook payloads matching this state (deep-merged by `delivery(overrides=...)`) ----

    def repository_overrides(self, owner: str, repo: str) -> dict[str, Any]:
        state = self._repo(owner, repo)
        return {"repository": objects.repository_json(state, self.url),
                "installation": {"id": state.installation_id, "node_id": objects.node_id(
                    "IntegrationInstallation", state.installation_id)}}

    def pull_request_overrides(self, owner: str, repo: str, number: int) -> dict[str, Any]:
        repo_state, pr = self._pull(owner, repo, number)
        return self.repository_overrides(owner, repo) | {
            "number": number, "sender": objects.user_json(pr.author, self.url),
            "pull_request": objects.pull_request_json(repo_state, pr, self.url)}

    def issue_comment_overrides(self, owner: str, repo: str, comment_id: int) -> dict[str, Any]:
        repo_state = self._repo(owner, repo)
        comment = repo_state.issue_comments[comment_id]
        pr = repo_state.pulls[comment.issue_number]
        pr_json = objects.pull_request_json(repo_state, pr, self.url)
        base = f"{self.url}/repos/{repo_state.full_name}"
        issue = {
            "url": f"{base}/issues/{pr.number}", "repository_url": base,
            "labels_url": f"{base}/issues/{pr.number}/labels{{/name}}",
            "comments_url": f"{base}/issues/{pr.number}/comments",
            "events_url": f"{base}/issues/{pr.number}/events", "html_url": pr_json["html_url"],
            "id": pr_json["id"], "node_id": objects.node_id("Issue", pr_json["id"]),
            "number": pr.number, "title": pr.title, "user": pr_json["user"], "state": pr.state,
            "body": pr.body, "author_association": pr_json["author_association"],
            "pull_request": {key: pr_json[key]
                             for key in ("url", "html_url", "diff_url", "patch_url")},
        }
        comment_json = objects.issue_comment_json(repo_state, comment, self.url)
        comment_json["author_association"] = objects.author_association(
            repo_state, comment.user, pr)
        return self.repository_overrides(owner, repo) | {
            "issue": issue, "comment": comment_json,
            "sender": objects.user_json(comment.user, self.url, type=comment.user_type)}

    def check_suite_overrides(self, owner: str, repo: str, head_sha: str) -> dict[str, Any]:
        """A check suite at `head_sha`; like GitHub, its pull_requests omit fork PRs."""
        repo_state = self._repo(owner, repo)
        run = CheckRunState(0, "", head_sha)
        rendered = objects.check_run_json(repo_state, run, self.url, self.app_json(self.url), [
            pr for pr in repo_state.pulls.values()
            if pr.state == "open" and pr.head_sha == head_sha and not pr.fork_owner])
        branch = next((ref for ref, sha in repo_state.refs.items() if sha == head_sha), None)
        return self.repository_overrides(owner, repo) | {"check_suite": {
            "id": rendered["check_suite"]["id"], "head_sha": head_sha, "head_branch": branch,
            "pull_requests": rendered["pull_requests"], "app": rendered["app"]}}

    def _repo(self, owner: str, repo: str) -> RepoState:
        state = self.find_repository(owner, repo)
        if state is None:
            raise KeyError(f"no repository {owner}/{repo} in the fake")
        return state

    def _pull(self, owner: str, repo: str, number: int) -> tuple[RepoState, PullState]:
        state = self._repo(owner, repo)
        if number not in state.pulls:
            raise KeyError(f"no pull request {owner}/{repo}#{number} in the fake")
        return state, state.pulls[number]

    # -- serving ----------------------------------------------------------------------------

    async def _serve(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
            bad_json = False
        except ValueError:
            body, bad_json = None, True
        self.requests.append(RecordedRequest(
            request.method, request.path, dict(request.query), body,
            {k: v for k, v in request.headers.items() if k.lower() != "authorization"}))
        if self.latency:
            await asyncio.sleep(self.latency)
        principal = self._principal(request)
        self._count_usage(principal)
        fault = self._take_fault(request.method, request.path)
        try:
            if fault is not None and not fault.processed:
                if fault.kind == "reset":
                    return self._reset(request)
                answer = fault.answer()
            else:
                answer = await self._handle(request, body, bad_json, principal)
                if fault is not None and fault.kind == "reset-after":
                    return self._reset(request)
                if fault is not None and fault.kind == "after":
                    answer = fault.answer()
                if fault is not None and fault.kind == "slow":
                    await self._hold()
        except GitHubError as error:
            answer = Answer(error.status, error.body, dict(error.headers))
            if error.status in (400, 422):
                self.violations.append(Violation(request.method, request.path, error.status,
                                                 json.dumps(error.body)))
        return self._response(answer, principal)

    async def _handle(self, request: web.Request, body: Any, bad_json: bool,
                      principal: str) -> Answer:
        route, params = self._match(request.method, request.path)
        if route is None:
            self.violations.append(Violation(request.method, request.path, 404,
                                             "no such route in the fake GitHub"))
            raise not_found()
        if bad_json:
            raise GitHubError(400, {"message": "Problems parsing JSON", "documentation_url": DOCS})
        call = Call(request, params, dict(request.query), body, str(request.url.origin()))
        if route.auth == "jwt":
            self._require_jwt(request)
        else:
            call.token = self._require_token(request)
        if self._usage[principal][1] > self.rate_limit:
            raise GitHubError(403, {"message": f"API rate limit exceeded for {principal}.",
                                    "documentation_url": DOCS})
        if route.operation:
            call.body = self._validate(route.operation, body)
        if route.write and call.token is not None:
            self._pace(call.token.installation_id)
        return await route.endpoint(self, call)

    @staticmethod
    def _match(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in (*ROUTES, GRAPHQL_ROUTE):
            match = route.pattern.match(path)
            if match and route.method == method:
                return route, match.groupdict()
        return None, {}

    @staticmethod
    def _credentials(request: web.Request) -> tuple[str, str] | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return (scheme.lower(), value.strip()) if value.strip() else None

    def _principal(self, request: web.Request) -> str:
        """Who a request counts against for the primary rate limit."""
        credentials = self._credentials(request)
        if credentials is None:
            return "anonymous"
        token = self.tokens.get(credentials[1])
        if token is not None:
            return f"installation ID {token.installation_id}"
        return "app" if credentials[1].count(".") == 2 else "anonymous"

    def _require_jwt(self, request: web.Request) -> None:
        credentials = self._credentials(request)
        if credentials is None or credentials[0] != "bearer":
            raise unauthorized("A JSON web token could not be decoded")
        verify_app_jwt(credentials[1], self._public_key, self.app_id, self.now())

    def _require_token(self, request: web.Request) -> Token:
        """`token <t>` or `Bearer <t>` with a live installation token, else 401."""
        credentials = self._credentials(request)
        if credentials is None:
            raise unauthorized("Requires authentication")
        token = self.tokens.get(credentials[1])
        if credentials[0] not in ("token", "bearer") or token is None or token.revoked \
                or token.expires_at <= self.now():
            raise unauthorized("Bad credentials")
        return token

    def _count_usage(self, principal: str) -> None:
        now = self.now()
        start, used = self._usage.get(principal, (now, 0))
        if now >= start + 3600:
            start, used = now, 0
        self._usage[principal] = (start, used + 1)

    def _pace(self, installation_id: int) -> None:
        now = self.now()
        stamps = self._writes[installation_id]
        while stamps and stamps[0] <= now - 3600:
            stamps.popleft()
        last_minute = [stamp for stamp in stamps if stamp > now - 60]
        if len(last_minute) >= self.writes_per_minute:
            wait = last_minute[0] + 60 - now
        elif len(stamps) >= self.writes_per_hour:
            wait = stamps[0] + 3600 - now
        else:
            stamps.append(now)
            return
        raise GitHubError(403, dict(SECONDARY_RATE_LIMIT),
                          {"Retry-After": str(max(1, math.ceil(wait)))})

    @staticmethod
    def _validate(name: str, body: Any) -> Any:
        """The body, checked against the operation's requestBody schema (422 if not)."""
        validator = request_validator(name)
        if validator is None:
            return body
        if body is None:
            if not request_body_required(name):
                return {}  # GitHub treats a missing optional body as an empty object
            body = {}
        problems = github_problems(validator, body)
        if problems:
            raise invalid_request(problems, operation(name)["externalDocs"]["url"])
        return body

    def _take_fault(self, method: str, path: str) -> Fault | None:
        chosen = None
        for pending in self._faults:
            if pending.method in ("*", method) and pending.pattern.search(path):
                pending.times -= 1
                if pending.times <= 0:
                    self._faults.remove(pending)
                chosen = pending.fault
                break
        if chosen is None and self.chaos is not None:
            chosen = self.chaos(method, path)
        if chosen is not None:
            self.injected.append((method, path, chosen))
        return chosen

    @staticmethod
    def _reset(request: web.Request) -> web.Response:
        """Close the connection without an answer (the client sees it dropped)."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=499)  # never reaches the client

    async def _hold(self) -> None:
        """Keep a processed answer back until the client has timed out."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.slow_seconds):
                await self._released.wait()

    async def _release(self, _app: web.Application) -> None:
        self._released.set()

    def _response(self, answer: Answer, principal: str) -> web.Response:
        limit = 60 if principal == "anonymous" else self.rate_limit
        start, used = self._usage[principal]
        headers = {
            "x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(max(limit - used, 0)),
            "x-ratelimit-reset": str(int(start + 3600)), "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core", "x-github-media-type": "github.v3; format=json",
            "x-github-request-id": ":".join(secrets.token_hex(n).upper() for n in (2, 2, 4, 4, 4)),
            **answer.headers,
        }
        if answer.raw is not None:
            return web.Response(status=answer.status, body=answer.raw, headers=headers,
                                content_type="application/vnd.github.v3.raw", charset="utf-8")
        return web.Response(status=answer.status, text=json.dumps(answer.body), headers=headers,
                            content_type="application/json", charset="utf-8")
