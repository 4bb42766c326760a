"""Comments that follow the code: when a push fixes what one of pystd's review comments
said, its thread is resolved (GraphQL `resolveReviewThread`), or, where the App may not
(GraphQL errors or 403), pystd replies once in the thread that it is fixed.

Only pystd's own comments count, found by their hidden fingerprint marker; a thread already
resolved, or already answered by pystd, is left alone. A thread a person re-opened is
resolved again on the next push that still finds the problem fixed (GitHub keeps no trace
of who re-opened it that the App could read cheaply).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gidgethub

from pystd.bot import messages
from pystd.bot.github import GitHubError, InstallationClient, describe_error
from pystd.bot.plans import offers_in

log = logging.getLogger(__name__)

_FIXED_RE = re.compile(r"<!-- pystd:fixed ([0-9a-f]{16}) -->")

# GitHub's GraphQL API (docs.github.com/graphql: PullRequest.reviewThreads,
# PullRequestReviewThread, Mutation.resolveReviewThread). The first comment of a thread is
# the one that opened it: pystd's, when it carries the marker.
THREADS_QUERY = """
query($owner: String!, $repo: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $repo) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved comments(first: 1) { nodes { databaseId body } } }
      }
    }
  }
}
"""
RESOLVE_MUTATION = """
mutation($thread: ID!) {
  resolveReviewThread(input: {threadId: $thread}) { thread { id isResolved } }
}
"""
MAX_THREAD_PAGES = 30  # 3000 threads: more than any pull request pystd comments on


class Refused(Exception):
    """GitHub's GraphQL API would not do it for this App (errors in the answer, 403)."""


@dataclass(frozen=True)
class OurComment:
    """One of pystd's inline comments: its REST id, fingerprint and path, and whether
    pystd already replied in its thread that it is fixed."""

    id: int
    fingerprint: str
    path: str
    replied: bool = False


@dataclass(frozen=True)
class Thread:
    node_id: str
    resolved: bool


def fixed_marker(fp: str) -> str:
    return f"<!-- pystd:fixed {fp} -->"


def our_comments(comments: Iterable[Mapping[str, Any]]) -> list[OurComment]:
    """pystd's comments that open a thread (a reply is not one), from the REST listing."""
    items = list(comments)
    replied = {(c.get("in_reply_to_id"), fp) for c in items
               for fp in _FIXED_RE.findall(c.get("body") or "")}
    out = []
    for c in items:
        if c.get("in_reply_to_id"):
            continue
        for fp in offers_in([c.get("body") or ""]):
            out.append(OurComment(int(c["id"]), fp, str(c.get("path", "")),
                                  (c["id"], fp) in replied))
    return out


def fixed_comments(ours: Sequence[OurComment], current: set[str], checked: set[str],
                   pr_paths: set[str], complete: bool = True) -> list[OurComment]:
    """The comments whose finding this push no longer has: its file was checked and the
    fingerprint is gone, or the file left the pull request (known only from a `complete`
    file listing). A file that could not be checked (or is excluded) says nothing."""
    return [c for c in ours if c.fingerprint not in current
            and (c.path in checked or (complete and c.path not in pr_paths))]


def graphql_endpoint(base_url: str) -> str:
    """api.github.com/graphql; on GitHub Enterprise Server the REST root is /api/v3 and
    GraphQL lives at /api/graphql."""
    base = base_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base.removesuffix("/v3") + "/graphql"
    return base + "/graphql"


async def _graphql(gh: InstallationClient, query: str, **variables: Any) -> Any:
    try:
        return await gh.graphql(query, endpoint=graphql_endpoint(gh.base_url), **variables)
    except (gidgethub.QueryError, gidgethub.BadGraphQLRequest) as exc:
        raise Refused(str(exc)) from exc


async def review_threads(gh: InstallationClient, owner: str, repo: str, number: int
                         ) -> dict[int, Thread]:
    """Threads of the pull request by the REST id of their first comment."""
    threads: dict[int, Thread] = {}
    cursor = None
    for _page in range(MAX_THREAD_PAGES):
        data = await _graphql(gh, THREADS_QUERY, owner=owner, repo=repo, number=number,
                              cursor=cursor)
        pull = ((data or {}).get("repository") or {}).get("pullRequest") or {}
        connection = pull.get("reviewThreads") or {}
        for node in connection.get("nodes") or []:
            first = ((node.get("comments") or {}).get("nodes") or [None])[0]
            if first and first.get("databaseId") is not None:
                threads[int(first["databaseId"])] = Thread(node["id"], bool(node["isResolved"]))
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            break
        cursor = info.get("endCursor")
    return threads


async def follow_fixed(gh: InstallationClient, owner: str, repo: str, number: int,
                       head_sha: str, fixed: Sequence[OurComment]) -> tuple[int, int]:
    """Resolve the threads of `fixed` comments, or reply once where resolving is refused.
    Returns (resolved, replied); never raises for GitHub's sake (the next push tries again)."""
    if not fixed:
        return 0, 0
    threads: dict[int, Thread] | None
    try:
        threads = await review_threads(gh, owner, repo, number)
    except Refused as exc:
        log.warning("review threads not readable, replying instead: %s", exc)
        threads = None
    except (GitHubError, gidgethub.GitHubException) as exc:
        log.warning("review threads not read: %s", describe_error(exc))
        return 0, 0
    resolved = replied = 0
    for comment in fixed:
        if threads is not None:
            thread = threads.get(comment.id)
            if thread is None or thread.resolved:
                continue
            try:
                await _graphql(gh, RESOLVE_MUTATION, thread=thread.node_id)
                resolved += 1
                continue
            except Refused as exc:
                log.warning("thread not resolved, replying instead: %s", exc)
            except (GitHubError, gidgethub.GitHubException) as exc:
                log.warning("thread not resolved: %s", describe_error(exc))
                continue
        if comment.replied:
            continue
        body = messages.THREAD_FIXED_REPLY.format(sha=head_sha[:12],
                                                  marker=fixed_marker(comment.fingerprint))
        try:
            await gh.post("/repos/{owner}/{repo}/pulls/{number}/comments/{comment_id}/replies",
                          {"owner": owner, "repo": repo, "number": number,
                           "comment_id": comment.id}, data={"body": body})
            replied += 1
        except (GitHubError, gidgethub.GitHubException) as exc:
            log.warning("no reply to fixed comment %s: %s", comment.id, describe_error(exc))
    return resolved, replied
