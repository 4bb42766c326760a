"""The REST endpoints the bot calls, one function each, answering as api.github.com does.

Each route names its operation in shared/github/openapi/_index.json (when there is one):
the server validates the request body against that operation's schema before the
endpoint runs, so an endpoint only checks what the schema cannot say.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from . import objects
from .diffs import git_blob_sha
from .rules import (
    DOCS,
    DOCS_CHECKS_CREATE,
    DOCS_CHECKS_UPDATE,
    GitHubError,
    check_run_rules,
    not_found,
    review_rules,
)
from .state import (
    CheckRunState,
    IssueCommentState,
    PullState,
    Reaction,
    RepoState,
    ReviewCommentState,
    ReviewState,
    Token,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web

    from .server import FakeGitHub

PER_PAGE_DEFAULT, PER_PAGE_MAX = 30, 100  # limits.json "pulls/list-files"
MAX_PR_FILES = 3000  # limits.json "pulls/list-files".max_files_total
TOKEN_LIFETIME = 3600  # limits.json "apps/create-installation-access-token": 1 hour
RAW_MEDIA_TYPES = ("application/vnd.github.raw", "application/vnd.github.v3.raw")
# pull-request-review states by `event` (openapi/pulls/create-review.json; no event: PENDING)
REVIEW_STATES = {"COMMENT": "COMMENTED", "APPROVE": "APPROVED",
                 "REQUEST_CHANGES": "CHANGES_REQUESTED", None: "PENDING"}
# `permission` is one of admin|write|read|none (openapi/repos/get-collaborator-permission-
# level.json, limits.json); today's docs add that maintain maps to write, triage to read,
# and `role_name` keeps the real role.
LEGACY_PERMISSION = {"admin": "admin", "maintain": "write", "write": "write",
                     "triage": "read", "read": "read", "none": "none"}


@dataclass
class Call:
    """One request as an endpoint sees it."""

    request: web.Request
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    api: str  # scheme://host:port the bot used, for the URLs in answers
    token: Token | None = None


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a raw media type answer instead of JSON


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: Callable[[FakeGitHub, Call], Awaitable[Answer]]
    auth: Literal["jwt", "token"] = "token"
    operation: str | None = None  # openapi operation validating the request body
    write: bool = False  # content-generating: counts toward the secondary rate limit


def repository(gh: FakeGitHub, call: Call) -> RepoState:
    """The repository of the URL (/repos/{owner}/{repo} or /repositories/{id}), if the
    token may see it; GitHub answers 404, not 403, for repositories out of reach."""
    repo = gh.find_repository(call.params.get("owner"), call.params.get("repo"),
                              call.params.get("repo_id"))
    token = call.token
    if repo is None or (token is not None and (
            token.installation_id != repo.installation_id
            or (token.repositories is not None and repo.full_name not in token.repositories))):
        raise not_found()
    return repo


def pull(repo: RepoState, call: Call) -> PullState:
    pr = repo.pulls.get(int(call.params["number"]))
    if pr is None:
        raise not_found()
    return pr


def paginate(call: Call, repo: RepoState, tail: str, items: list[Any]) -> tuple[list[Any], str | None]:
    """One page of `items` and its Link header. Links point at /repositories/{id}/…, as
    GitHub's do (shared/github/fixtures/octokit-fixtures/paginate-issues)."""
    try:
        per_page = min(max(int(call.query.get("per_page", PER_PAGE_DEFAULT)), 1), PER_PAGE_MAX)
    except ValueError:
        per_page = PER_PAGE_DEFAULT
    try:
        page = max(int(call.query.get("page", 1)), 1)
    except ValueError:
        page = 1
    last = max(math.ceil(len(items) / per_page), 1)
    query = {key: value for key, value in call.query.items() if key != "page"}
    link = objects.link_header(f"{call.api}/repositories/{repo.id}/{tail}", query, page, last)
    return items[(page - 1) * per_page:page * per_page], link


def _listing(page: list[Any], link: str | None) -> Answer:
    return Answer(200, page, {"Link": link} if link else {})


# -- apps ---------------------------------------------------------------------------------

async def create_installation_token(gh: FakeGitHub, call: Call) -> Answer:
    installation = gh.installations.get(int(call.params["installation_id"]))
    if installation is None:
        raise not_found()
    body = call.body or {}
    names = None
    if "repositories" in body or "repository_ids" in body:
        own = {repo.name: repo for repo in gh.repositories() if
               repo.installation_id == installation.id}
        by_id = {repo.id: repo for repo in own.values()}
        wanted = [own.get(name) for name in body.get("repositories", [])] + \
                 [by_id.get(number) for number in body.get("repository_ids", [])]
        if any(repo is None for repo in wanted):
            raise GitHubError(422, {"message": "There is at least one repository that does not "
                                               "exist or is not accessible to the parent "
                                               "installation.", "documentation_url": DOCS})
        names = frozenset(repo.full_name for repo in wanted if repo)
    token = Token("ghs_" + secrets.token_hex(18), installation.id, names,
                  gh.now() + TOKEN_LIFETIME)
    gh.tokens[token.token] = token
    return Answer(201, {"token": token.token, "expires_at": objects.iso(token.expires_at),
                        "permissions": body.get("permissions", installation.permissions),
                        "repository_selection": "selected" if names is not None
                        else installation.repository_selection})


async def get_app(gh: FakeGitHub, call: Call) -> Answer:
    """GET /app: the App the JWT authenticates ("Get the authenticated app")."""
    return Answer(200, gh.app_json(call.api))


async def get_repo_installation(gh: FakeGitHub, call: Call) -> Answer:
    repo = repository(gh, call)
    return Answer(200, objects.installation_json(gh.installations[repo.installation_id],
                                                 gh.app_id, gh.app_slug, call.api))


# -- pulls --------------------------------------------------------------------------------

async def list_pulls(gh: FakeGitHub, call: Call) -> Answer:
    repo = repository(gh, call)
    state = call.query.get("state", "open")
    pulls = [pr for pr in repo.pulls.values() if state in ("all", pr.state)]
    if "head" in call.query:
        pulls = [pr for pr in pulls
                 if f"{pr.fork_owner or repo.owner}:{pr.head_ref}" == call.query["head"]]
    if "base" in call.query:
        pulls = [pr for pr in pulls if pr.base_ref == call.query["base"]]
    # default sort: created, newest first; the fake's numbers grow with creation
    pulls.sort(key=lambda pr: pr.number, reverse=call.query.get("direction", "desc") == "desc")
    page, link = paginate(call, repo, "pulls", pulls)
    return _listing([objects.pull_request_json(repo, pr, call.api, simple=True) for pr in page],
                    link)


async def get_pull(gh: FakeGitHub, call: Call) -> Answer:
    repo = repository(gh, call)
    return Answer(200, objects.pull_request_json(repo, pull(repo, call), call.api))


async def list_pull_files(gh: FakeGitHub, call: Call) -> Answer:
    """At most 3000 files in all, even when the pull request has more (limits.json)."""
    repo = repository(gh, call)
    pr = pull(repo, call)
    page, link = paginate(call, repo, f"pulls/{pr.number}/files", pr.entries[:MAX_PR_FILES])
    return _listing([objects.diff_entry_json(repo, pr, entry, call.api) for entry in page], link)


async def list_review_comments(gh: FakeGitHub, call: Call) -> Answer:
    repo = repository(gh, call)
    pr = pull(repo, call)
    comments = sorted((c for review in pr.reviews for c in review.comments), key=lambda c: c.id)
    page, link = paginate(call, repo, f"pulls/{pr.number}/comments", comments)
    bot = gh.bot_user(call.api)
    return _listing([objects.review_comment_json(repo, pr, c, bot, call.api) for c in page], link)


async def list_reviews(gh: FakeGitHub, call: Call) -> Answer:
    """GET /repos/{owner}/{repo}/pulls/{number}/reviews ("pulls/list-reviews": not in
    shared/github/openapi; from GitHub's docs): pull-request-review objects, oldest first."""
    repo = repository(gh, call)
    pr = pull(repo, call)
    page, link = paginate(call, repo, f"pulls/{pr.number}/reviews", list(pr.reviews))
    bot = gh.bot_user(call.api)
    return _listing([objects.review_json(repo, pr, review, bot, call.api) for review in page],
                    link)


async def create_review(gh: FakeGitHub, call: Call) -> Answer:
    repo = repository(gh, call)
    pr = pull(repo, call)
    event = call.body.get("event")
    # One pending review per user and pull request, and it blocks submitted reviews too
    # (real answers: github/app#3371, max-sixty/tend#1171).
    if any(review.state == "PENDING" for review in pr.reviews):
        raise GitHubError(422, {"message": "Unprocessable Entity", "errors": [
            "User can only have one pending review per pull request"],
            "documentation_url": DOCS})
    commit_id, placed = review_rules(pr, call.body)
    now = objects.iso(gh.now())
    review = ReviewState(gh.next_id(), commit_id, call.body.get("body", ""), event,
                         REVIEW_STATES[event], None if event is None else now)
    review.comments = [ReviewCommentState(
        gh.next_id(), review.id, c.path, c.body, commit_id, c.line, c.side, c.start_line,
        c.start_side, c.position, c.diff_hunk, now) for c in placed]
    pr.reviews.append(review)
    return Answer(200, objects.review_json(repo, pr, review, gh.bot_user(call.api), call.api))


async def create_reply(gh: FakeGitHub, call: Call) -> Answer:
    """POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies (not in
    shared/github/openapi; from GitHub's REST docs "Create a reply for a review comment"):
    `body` required; replies to replies are not supported; 201 with the new
    pull-request-review-comment, in a review of its own as GitHub makes one."""
    repo = repository(gh, call)
    pr = pull(repo, call)
    parent = reply_parent(pr, int(call.params["comment_id"]))
    text = call.body.get("body") if isinstance(call.body, dict) else None
    if not isinstance(text, str) or not text or set(call.body) - {"body"}:
        raise GitHubError(422, {"message": "Invalid request.\n\n\"body\" wasn't supplied.",
                                "documentation_url": DOCS})
    if parent.in_reply_to_id is not None:
        raise GitHubError(422, {"message": "Validation Failed", "errors": [
            "Replies to replies are not supported"], "documentation_url": DOCS})
    now = objects.iso(gh.now())
    review = ReviewState(gh.next_id(), pr.head_sha, "", "COMMENT", "COMMENTED", now)
    reply = ReviewCommentState(gh.next_id(), review.id, parent.path, text, pr.head_sha,
                               parent.line, parent.side, parent.start_line, parent.start_side,
                               parent.position, parent.diff_hunk, now, parent.id)
    review.comments = [reply]
    pr.reviews.append(review)
    return Answer(201, objects.review_comment_json(repo, pr, reply, gh.bot_user(call.api),
                                                   call.api))


def reply_parent(pr: PullState, comment_id: int) -> ReviewCommentState:
    """The comment a reply answers; GitHub answers 404 for one not in the pull request."""
    for review in pr.reviews:
        for comment in review.comments:
            if comment.id == comment_id:
                return comment
    raise not_found()


# -- contents -----------------------------------------------------------------------------

def _wants_raw(call: Call) -> bool:
    accept = call.request.headers.get("Accept", "")
    return any(media in accept for media in RAW_MEDIA_TYPES)


async def get_blob(gh: FakeGitHub, call: Call) -> Answer:
    repo = repository(gh, call)
    sha = call.params["sha"]
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise GitHubError(422, {"message": "The sha parameter must be exactly 40 characters "
                                           "and contain only [0-9a-f].",
                                "documentation_url": DOCS})
    content = repo.blobs.get(sha)
    if content is None:
        raise not_found()
    if _wants_raw(call):
        return Answer(200, raw=content)
    return Answer(200, objects.blob_json(repo, sha, content, call.api))


async def get_content(gh: FakeGitHub, call: Call) -> Answer:
    """A file at a commit (`ref`: a sha or a branch; default: the default branch), or
    the entries of a directory; 404 otherwise (openapi/repos/get-content.json)."""
    repo = repository(gh, call)
    ref = call.query.get("ref") or repo.default_branch
    sha = repo.refs.get(ref, ref)
    tree = repo.commits.get(sha)
    if tree is None:
        raise GitHubError(404, {"message": f"No commit found for the ref {ref}",
                                "documentation_url": DOCS, "status": "404"})
    path = (call.params.get("path") or "").strip("/")
    if path in tree:
        if _wants_raw(call):
            return Answer(200, raw=tree[path])
        return Answer(200, objects.content_file_json(repo, path, tree[path], ref, call.api))
    prefix = f"{path}/" if path else ""
    children: dict[str, dict[str, Any]] = {}
    for name, content in sorted(tree.items()):
        if not name.startswith(prefix):
            continue
        child, _, rest = name[len(prefix):].partition("/")
        child_path = prefix + child
        if rest:
            children.setdefault(child_path, objects.content_dir_entry_json(
                repo, child_path, "dir", git_blob_sha(child_path.encode()), 0, ref,
                call.api))
        else:
            children[child_path] = objects.content_dir_entry_json(
                repo, child_path, "file", git_blob_sha(content), len(content), ref,
                call.api)
    if not children:
        raise not_found("https://docs.github.com/rest/repos/contents#get-repository-content")
    return Answer(200, list(children.values()))


# -- checks -------------------------------------------------------------------------------

def _apply_check_run(run: CheckRunState, body: dict[str, Any], now: str) -> None:
    for key in ("name", "details_url", "external_id", "started_at"):
        if key in body:
            setattr(run, key, body[key])
    if "status" in body:
        run.status = body["status"]
    if "conclusion" in body:  # "Providing conclusion will automatically set the status
        run.status, run.conclusion = "completed", body["conclusion"]  # parameter to completed"
    if run.status == "completed":
        run.completed_at = body.get("completed_at") or run.completed_at or now
    output = body.get("output")
    if output:
        run.title = output.get("title", run.title)
        run.summary = output.get("summary", run.summary)
        run.text = output.get("text", run.text)
        run.annotations.extend(output.get("annotations", []))  # appended, never replaced
    if "actions" in body:
        run.actions = list(body["actions"])


def _check_run_answer(gh: FakeGitHub, repo: RepoState, run: CheckRunState, call: Call,
                      status: int) -> Answer:
    pulls = [pr for pr in repo.pulls.values()
             if pr.state == "open" and pr.head_sha == run.head_sha and not pr.fork_owner]
    return Answer(status, objects.check_run_json(repo, run, call.api, gh.app_json(call.api),
                                                 pulls))


async def create_check_run(gh: FakeGitHub, call: Call) -> Answer:
    repo = repository(gh, call)
    check_run_rules(call.body, DOCS_CHECKS_CREATE)
    if call.body["head_sha"] not in repo.commits:
        # wording ours (not found in public answers)
        raise GitHubError(422, {"message": f"No commit found for SHA: {call.body['head_sha']}",
                                "documentation_url": DOCS_CHECKS_CREATE})
    now = objects.iso(gh.now())
    run = CheckRunState(gh.next_id(), call.body["name"], call.body["head_sha"], started_at=now)
    _apply_check_run(run, call.body, now)
    repo.check_runs[run.id] = run
    return _check_run_answer(gh, repo, run, call, 201)


async def get_check_run(gh: FakeGitHub, call: Call) -> Answer:
    """GET /repos/{owner}/{repo}/check-runs/{check_run_id} ("checks/get": not in
    shared/github/openapi; shaped as GitHub documents it, the same check-run object)."""
    repo = repository(gh, call)
    run = repo.check_runs.get(int(call.params["check_run_id"]))
    if run is None:
        raise not_found("https://docs.github.com/rest/checks/runs#get-a-check-run")
    return _check_run_answer(gh, repo, run, call, 200)


async def list_check_runs_for_ref(gh: FakeGitHub, call: Call) -> Answer:
    """GET /repos/{owner}/{repo}/commits/{ref}/check-runs ("checks/list-for-ref": not in
    shared/github/openapi; from GitHub's docs): `{"total_count", "check_runs"}`, filtered
    by `check_name`, `status`, `app_id`, and `filter` (`latest`, the default: the newest
    run of each name; `all`). Every run in the fake is the App's."""
    repo = repository(gh, call)
    ref = call.params["ref"]
    sha = repo.refs.get(ref, ref)
    if sha not in repo.commits:
        raise GitHubError(422, {"message": f"No commit found for SHA: {ref}",
                                "documentation_url": DOCS})
    runs = [run for run in repo.check_runs.values() if run.head_sha == sha]
    if "check_name" in call.query:
        runs = [run for run in runs if run.name == call.query["check_name"]]
    if "status" in call.query:
        runs = [run for run in runs if run.status == call.query["status"]]
    if call.query.get("app_id") not in (None, str(gh.app_id)):
        runs = []
    if call.query.get("filter", "latest") == "latest":
        newest = {run.name: run for run in sorted(runs, key=lambda r: r.id)}
        runs = list(newest.values())
    runs.sort(key=lambda run: run.id, reverse=True)
    page, link = paginate(call, repo, f"commits/{sha}/check-runs", runs)
    pulls = [pr for pr in repo.pulls.values() if pr.state == "open" and not pr.fork_owner]
    body = {"total_count": len(runs), "check_runs": [
        objects.check_run_json(repo, run, call.api, gh.app_json(call.api),
                               [pr for pr in pulls if pr.head_sha == run.head_sha])
        for run in page]}
    return Answer(200, body, {"Link": link} if link else {})


async def update_check_run(gh: FakeGitHub, call: Call) -> Answer:
    repo = repository(gh, call)
    run = repo.check_runs.get(int(call.params["check_run_id"]))
    if run is None:
        raise not_found(DOCS_CHECKS_UPDATE)
    check_run_rules(call.body, DOCS_CHECKS_UPDATE)
    _apply_check_run(run, call.body, objects.iso(gh.now()))
    run.updates += 1
    return _check_run_answer(gh, repo, run, call, 200)


# -- people and comments ------------------------------------------------------------------

async def get_permission(gh: FakeGitHub, call: Call) -> Answer:
    repo = repository(gh, call)
    login = call.params["username"]
    role = repo.roles.get(login, "none" if repo.private else "read")
    rank = ["none", "read", "triage", "write", "maintain", "admin"].index(role)
    user = objects.user_json(login, call.api) | {"role_name": role, "permissions": {
        "pull": rank >= 1, "triage": rank >= 2, "push": rank >= 3, "maintain": rank >= 4,
        "admin": rank >= 5}}
    return Answer(200, {"permission": LEGACY_PERMISSION[role], "role_name": role, "user": user})


async def create_reaction(gh: FakeGitHub, call: Call) -> Answer:
    """201 when created, 200 when the bot had already reacted so (limits.json)."""
    repo = repository(gh, call)
    comment_id = int(call.params["comment_id"])
    if comment_id not in repo.issue_comments:
        raise not_found()
    bot = gh.bot_login
    reactions = repo.reactions.setdefault(comment_id, [])
    existing = next((r for r in reactions if r.user == bot and r.content == call.body["content"]),
                    None)
    if existing:
        return Answer(200, objects.reaction_json(existing, call.api, user_type="Bot"))
    reaction = Reaction(gh.next_id(), call.body["content"], bot, objects.iso(gh.now()))
    reactions.append(reaction)
    return Answer(201, objects.reaction_json(reaction, call.api, user_type="Bot"))


async def create_issue_comment(gh: FakeGitHub, call: Call) -> Answer:
    repo = repository(gh, call)
    number = int(call.params["number"])
    if number not in repo.pulls:
        raise not_found()
    comment = IssueCommentState(gh.next_id(), number, call.body["body"], gh.bot_login, "Bot",
                                objects.iso(gh.now()))
    repo.issue_comments[comment.id] = comment
    return Answer(201, objects.issue_comment_json(repo, comment, call.api))


_REPO = r"/(?:repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)|repositories/(?P<repo_id>\d+))"


def _route(method: str, path: str, endpoint: Callable[[FakeGitHub, Call], Awaitable[Answer]],
           **meta: Any) -> Route:
    return Route(method, re.compile(path.replace("{REPO}", _REPO) + "$"), endpoint, **meta)


ROUTES: tuple[Route, ...] = (
    _route("POST", r"/app/installations/(?P<installation_id>\d+)/access_tokens",
           create_installation_token, auth="jwt",
           operation="apps/create-installation-access-token"),
    _route("GET", r"/app", get_app, auth="jwt"),
    _route("GET", r"{REPO}/installation", get_repo_installation, auth="jwt"),
    _route("GET", r"{REPO}/pulls", list_pulls),
    _route("GET", r"{REPO}/pulls/(?P<number>\d+)", get_pull),
    _route("GET", r"{REPO}/pulls/(?P<number>\d+)/files", list_pull_files),
    _route("GET", r"{REPO}/pulls/(?P<number>\d+)/comments", list_review_comments),
    _route("GET", r"{REPO}/pulls/(?P<number>\d+)/reviews", list_reviews),
    _route("POST", r"{REPO}/pulls/(?P<number>\d+)/reviews", create_review,
           operation="pulls/create-review", write=True),
    _route("POST", r"{REPO}/pulls/(?P<number>\d+)/comments/(?P<comment_id>\d+)/replies",
           create_reply, write=True),
    _route("GET", r"{REPO}/git/blobs/(?P<sha>[^/]+)", get_blob),
    _route("GET", r"{REPO}/contents(?:/(?P<path>.*))?", get_content),
    _route("POST", r"{REPO}/check-runs", create_check_run, operation="checks/create",
           write=True),
    _route("GET", r"{REPO}/check-runs/(?P<check_run_id>\d+)", get_check_run),
    _route("GET", r"{REPO}/commits/(?P<ref>[^/]+)/check-runs", list_check_runs_for_ref),
    _route("PATCH", r"{REPO}/check-runs/(?P<check_run_id>\d+)", update_check_run,
           operation="checks/update", write=True),
    _route("GET", r"{REPO}/collaborators/(?P<username>[^/]+)/permission", get_permission),
    _route("POST", r"{REPO}/issues/comments/(?P<comment_id>\d+)/reactions", create_reaction,
           operation="reactions/create-for-issue-comment", write=True),
    _route("POST", r"{REPO}/issues/(?P<number>\d+)/comments", create_issue_comment,
           operation="issues/create-comment", write=True),
)
