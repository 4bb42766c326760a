"""The fake GitHub's review threads: POST /graphql (the reviewThreads query and the
resolveReviewThread mutation, GraphQL JSON as GitHub's GraphQL docs show it) and replies to
review comments. Plain aiohttp calls, no bot code."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from pystd.bot.threads import RESOLVE_MUTATION, THREADS_QUERY
from tests.bot.drivers import (
    FAKE_BASE,
    FAKE_HEAD,
    FAKE_NEW_VIEWS,
    FAKE_OLD_VIEWS,
    FAKE_OWNER,
    FAKE_REPO,
    call,
    installation_token,
    review_comment,
)
from tests.github_fake import FakeFile, FakeGitHub, response_validator


@pytest.fixture
async def reviewed(fake_github: FakeGitHub, session: aiohttp.ClientSession
                   ) -> tuple[FakeGitHub, str, list[int]]:
    """A pull request with one review of two comments: (fake, token, comment ids)."""
    fake_github.add_pull_request(
        FAKE_OWNER, FAKE_REPO, 7, head_sha=FAKE_HEAD, base_sha=FAKE_BASE,
        files=[FakeFile("shop/views.py", "modified", FAKE_NEW_VIEWS, base_content=FAKE_OLD_VIEWS)])
    token = await installation_token(fake_github, session)
    status, _review, _ = await call(
        fake_github, session, "POST", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/reviews", token,
        json={"commit_id": FAKE_HEAD, "event": "COMMENT", "body": "b",
              "comments": [review_comment(5, body="one"), review_comment(26, body="two")]})
    assert status == 200
    ids = [c.id for c in fake_github.review_comments(FAKE_OWNER, FAKE_REPO, 7)]
    return fake_github, token, ids


async def graphql(gh: FakeGitHub, session: aiohttp.ClientSession, token: str, query: str,
                  **variables: Any) -> Any:
    status, answer, _ = await call(gh, session, "POST", "/graphql", token,
                                   json={"query": query, "variables": variables})
    assert status == 200  # GraphQL reports its errors in the body
    return answer


async def threads(gh: FakeGitHub, session: aiohttp.ClientSession, token: str) -> list[Any]:
    answer = await graphql(gh, session, token, THREADS_QUERY, owner=FAKE_OWNER, repo=FAKE_REPO,
                           number=7, cursor=None)
    return answer["data"]["repository"]["pullRequest"]["reviewThreads"]["nodes"]


async def test_review_threads_and_resolving_one(reviewed, session) -> None:
    gh, token, (first, second) = reviewed
    nodes = await threads(gh, session, token)
    assert [(n["isResolved"], n["comments"]["nodes"][0]["databaseId"]) for n in nodes] == [
        (False, first), (False, second)]
    assert nodes[0]["comments"]["nodes"][0]["body"] == "one"
    answer = await graphql(gh, session, token, RESOLVE_MUTATION, thread=nodes[0]["id"])
    assert answer == {"data": {"resolveReviewThread": {"thread": {
        **nodes[0], "isResolved": True}}}}
    assert [n["isResolved"] for n in await threads(gh, session, token)] == [True, False]


async def test_graphql_errors_for_what_the_fake_does_not_know(reviewed, session) -> None:
    gh, token, _ = reviewed
    unknown_thread = await graphql(gh, session, token, RESOLVE_MUTATION, thread="PRRT_nope")
    assert unknown_thread["data"] == {"resolveReviewThread": None}
    assert unknown_thread["errors"][0]["type"] == "NOT_FOUND"
    unknown_field = await graphql(gh, session, token, "query { viewer { login } }")
    assert "data" not in unknown_field and unknown_field["errors"]
    other = await graphql(gh, session, token, "query { repository { id } }")
    assert other["errors"] and "data" not in other
    gh.graphql_refused.add("resolveReviewThread")
    nodes = await threads(gh, session, token)
    refused = await graphql(gh, session, token, RESOLVE_MUTATION, thread=nodes[0]["id"])
    assert refused["errors"][0]["type"] == "FORBIDDEN"
    assert gh.pull_request(FAKE_OWNER, FAKE_REPO, 7).resolved_threads == set()


async def test_a_reply_joins_the_thread(reviewed, session) -> None:
    gh, token, (first, _second) = reviewed
    url = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/comments/{first}/replies"
    status, reply, _ = await call(gh, session, "POST", url, token, json={"body": "fixed"})
    assert status == 201 and reply["in_reply_to_id"] == first
    assert (reply["path"], reply["line"], reply["body"]) == ("shop/views.py", 5, "fixed")
    response_validator("pulls/list-review-comments", 200).validate([reply])
    nodes = await threads(gh, session, token)
    assert len(nodes) == 2  # a reply is no thread of its own
    status, _, _ = await call(gh, session, "POST", url, token, json={})
    assert status == 422
    status, _, _ = await call(gh, session, "POST", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/comments/"
                              f"{reply['id']}/replies", token, json={"body": "again"})
    assert status == 422  # replies to replies are not supported
    status, _, _ = await call(gh, session, "POST", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/comments/"
                              "99999/replies", token, json={"body": "x"})
    assert status == 404
    gh.take_violations()
