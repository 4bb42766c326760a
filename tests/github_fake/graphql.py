"""POST /graphql in the fake GitHub: the review-thread query and the resolveReviewThread
mutation, and nothing else.

/work/shared/github holds no GraphQL schema, so this follows GitHub's GraphQL docs
(docs.github.com/graphql, found with the `search` tool): `PullRequest.reviewThreads`
(a connection: `nodes`, `pageInfo { hasNextPage endCursor }`), `PullRequestReviewThread`
(`id`, `isResolved`, `comments` of `PullRequestReviewComment` with `databaseId` and `body`),
`Mutation.resolveReviewThread(input: ResolveReviewThreadInput!)` (`threadId: ID!`,
`clientMutationId`) answering `ResolveReviewThreadPayload { thread clientMutationId }`.
Answers are GraphQL JSON with status 200: `{"data": ...}`, or `{"errors": [...]}` (with
`"data"` holding null for the failed field) for an unknown field or node and for what the
integration may not do ("Resource not accessible by integration", type FORBIDDEN).
A query the fake does not know is an error, never a guess.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import objects
from .endpoints import Answer, Call, _route, repository
from .rules import GitHubError

if TYPE_CHECKING:
    from .server import FakeGitHub
    from .state import PullState, ReviewCommentState

# Every field the two operations may select (GitHub's schema has many more; asking for
# one the fake does not serve is an error rather than a silent null).
KNOWN_FIELDS = frozenset({
    "repository", "pullRequest", "reviewThreads", "pageInfo", "hasNextPage", "endCursor",
    "nodes", "id", "isResolved", "comments", "databaseId", "body", "path", "totalCount",
    "resolveReviewThread", "thread", "clientMutationId", "input", "threadId",
})
_ARGS = re.compile(r"\([^()]*\)")
_NAMES = re.compile(r"(?<![$\w])([A-Za-z_]\w*)")
FORBIDDEN = "Resource not accessible by integration"


def _error(message: str, kind: str | None = None, path: list[str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "locations": [{"line": 1, "column": 1}]}
    if kind:
        error["type"] = kind
    if path:
        error["path"] = path
    return error


def thread_id(root: int) -> str:
    return objects.node_id("PullRequestReviewThread", root)


def _selection(query: str) -> tuple[str, set[str]]:
    """The operation type and the field names the document selects."""
    text = re.sub(r"#[^\n]*", "", query).strip()
    match = re.match(r"(query|mutation|subscription)\b", text)
    kind = match.group(1) if match else ("query" if text.startswith("{") else "")
    _header, _, body = text.partition("{")
    while _ARGS.search(body):
        body = _ARGS.sub(" ", body)
    return kind, set(_NAMES.findall(body))


def _threads(pr: PullState) -> list[tuple[ReviewCommentState, list[ReviewCommentState]]]:
    """Each thread as its first comment and every comment of it, oldest first."""
    comments = sorted((c for r in pr.reviews for c in r.comments), key=lambda c: c.id)
    roots = [c for c in comments if c.in_reply_to_id is None]
    return [(root, [c for c in comments if c.id == root.id or c.in_reply_to_id == root.id])
            for root in roots]


def _thread_json(pr: PullState, root: ReviewCommentState,
                 comments: list[ReviewCommentState], first: int) -> dict[str, Any]:
    return {"id": thread_id(root.id), "isResolved": root.id in pr.resolved_threads,
            "path": root.path,
            "comments": {"totalCount": len(comments), "nodes": [
                {"id": objects.node_id("PullRequestReviewComment", c.id), "databaseId": c.id,
                 "body": c.body, "path": c.path} for c in comments[:first]]}}


def _first(query: str, field: str, default: int) -> int:
    match = re.search(field + r"\s*\(\s*first:\s*(\d+)", query)
    return int(match.group(1)) if match else default


async def graphql(gh: FakeGitHub, call: Call) -> Answer:
    body = call.body if isinstance(call.body, dict) else {}
    query = body.get("query")
    variables = body.get("variables") or {}
    if not isinstance(query, str) or not isinstance(variables, dict):
        return Answer(200, {"errors": [_error("A query attribute must be specified and must "
                                              "be a string.")]})
    kind, names = _selection(query)
    unknown = sorted(names - KNOWN_FIELDS - {"query", "mutation"})
    if unknown:
        return Answer(200, {"errors": [_error(f"Field '{unknown[0]}' doesn't exist on type "
                                              "this fake GitHub serves", "undefinedField")]})
    if kind == "query" and "reviewThreads" in names:
        return _review_threads(gh, call, query, variables)
    if kind == "mutation" and "resolveReviewThread" in names:
        return _resolve(gh, call, query, variables)
    return Answer(200, {"errors": [_error("The fake GitHub answers the reviewThreads query "
                                          "and the resolveReviewThread mutation only")]})


def _variable(query: str, variables: dict[str, Any], literal: str) -> Any:
    """The value of an argument written `name: $var` (or a literal string)."""
    match = re.search(literal + r"\s*:\s*(\$\w+|\"[^\"]*\"|\d+)", query)
    if match is None:
        return None
    token = match.group(1)
    if token.startswith("$"):
        return variables.get(token[1:])
    return token.strip('"') if token.startswith('"') else int(token)


def _review_threads(gh: FakeGitHub, call: Call, query: str, variables: dict[str, Any]) -> Answer:
    if "reviewThreads" in gh.graphql_refused:
        return Answer(200, {"data": {"repository": None}, "errors": [
            _error(FORBIDDEN, "FORBIDDEN", ["repository"])]})
    owner = _variable(query, variables, r"repository\s*\(\s*owner")
    name = _variable(query, variables, r"name")
    number = _variable(query, variables, r"pullRequest\s*\(\s*number")
    call.params = {"owner": str(owner), "repo": str(name)}
    try:
        repo = repository(gh, call)
    except GitHubError:
        return Answer(200, {"data": {"repository": None}, "errors": [_error(
            f"Could not resolve to a Repository with the name '{owner}/{name}'.",
            "NOT_FOUND", ["repository"])]})
    pr = repo.pulls.get(number) if isinstance(number, int) else None
    if pr is None:
        return Answer(200, {"data": {"repository": {"pullRequest": None}}, "errors": [_error(
            f"Could not resolve to a PullRequest with the number of {number}.",
            "NOT_FOUND", ["repository", "pullRequest"])]})
    size = min(_first(query, "reviewThreads", 100), 100)
    after = _variable(query, variables, r"after")
    threads = _threads(pr)
    start = int(after) if isinstance(after, str) and after.isdigit() else 0
    page = threads[start:start + size]
    more = start + size < len(threads)
    first_comments = _first(query, "comments", 100)
    return Answer(200, {"data": {"repository": {"pullRequest": {"reviewThreads": {
        "totalCount": len(threads),
        "pageInfo": {"hasNextPage": more, "endCursor": str(start + len(page)) if page else None},
        "nodes": [_thread_json(pr, root, comments, first_comments) for root, comments in page],
    }}}}})


def _resolve(gh: FakeGitHub, call: Call, query: str, variables: dict[str, Any]) -> Answer:
    thread = _variable(query, variables, r"threadId")
    gh.graphql_mutations.append(("resolveReviewThread", thread))
    if "resolveReviewThread" in gh.graphql_refused:
        return Answer(200, {"data": {"resolveReviewThread": None}, "errors": [
            _error(FORBIDDEN, "FORBIDDEN", ["resolveReviewThread"])]})
    for repo in gh.repositories():
        if call.token is not None and repo.installation_id != call.token.installation_id:
            continue
        for pr in repo.pulls.values():
            for root, comments in _threads(pr):
                if thread_id(root.id) == thread:
                    pr.resolved_threads.add(root.id)
                    return Answer(200, {"data": {"resolveReviewThread": {
                        "thread": _thread_json(pr, root, comments, 1)}}})
    return Answer(200, {"data": {"resolveReviewThread": None}, "errors": [_error(
        f"Could not resolve to a node with the global id of '{thread}'", "NOT_FOUND",
        ["resolveReviewThread"])]})


GRAPHQL_ROUTE = _route("POST", r"/graphql", graphql)
