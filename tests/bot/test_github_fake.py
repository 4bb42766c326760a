"""The fake GitHub behaves like GitHub as shared/github documents it.

Plain aiohttp calls (no bot code): tokens, pagination, blobs, contents, check runs, reviews,
faults and rate limits; then webhook deliveries and the unit-test fake.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
import gidgethub
import gidgethub.aiohttp
import gidgethub.apps
import gidgethub.sansio
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.bot.drivers import (
    FAKE_BASE,
    FAKE_HEAD,
    FAKE_NEW_VIEWS,
    FAKE_OLD_VIEWS,
    FAKE_OWNER,
    FAKE_REPO,
    call,
    installation_token,
    make_jwt,
    review_comment,
)
from tests.github_fake import (
    COMMIT_NOT_IN_PR,
    LINE_NOT_RESOLVED,
    PATH_NOT_RESOLVED,
    SECONDARY_RATE_LIMIT,
    SHARED_GITHUB,
    START_MUST_PRECEDE,
    START_SAME_HUNK,
    DeliveryFactory,
    FakeFile,
    FakeGitHub,
    RecordingGitHubAPI,
    delivery,
    git_blob_sha,
    make_patch,
    payload_validator,
    response_validator,
    webhook_signature,
)


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    """The fake with one pull request: a modified module, an added one, a binary file."""
    fake_github.add_pull_request(
        FAKE_OWNER, FAKE_REPO, 7, head_sha=FAKE_HEAD, base_sha=FAKE_BASE, author="alice",
        base_files={".github/pystd.toml": "[tool.pystd]\nfail-on = \"error\"\n"},
        files=[FakeFile("shop/views.py", "modified", FAKE_NEW_VIEWS, base_content=FAKE_OLD_VIEWS),
               FakeFile("shop/new.py", "added", "import os\nprint(os.sep)\n"),
               FakeFile("logo.png", "added", b"\x89PNG\r\n\x1a\n\0\0", binary=True)])
    return fake_github


# -- tokens -----------------------------------------------------------------------------------

async def test_installation_token_flow(gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    url = f"{gh.url}/app/installations/1/access_tokens"
    async with session.post(url, headers={"Authorization": f"Bearer {make_jwt(gh)}"}) as r:
        assert r.status == 201
        body = await r.json()
    response_validator("apps/create-installation-access-token", 201).validate(body)
    assert body["token"].startswith("ghs_") and body["expires_at"].endswith("Z")
    assert body["permissions"]["checks"] == "write"
    status, pr, _ = await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7",
                               body["token"], headers={"Authorization": f"Bearer {body['token']}"})
    assert status == 200 and pr["head"]["sha"] == FAKE_HEAD

    gh.expire_tokens()
    status, error, _ = await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7",
                                  body["token"])
    assert (status, error["message"]) == (401, "Bad credentials")
    fresh = await installation_token(gh, session)
    assert (await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7", fresh))[0] == 200
    gh.advance_time(3601)  # limits.json: tokens live one hour
    assert (await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7", fresh))[0] == 401


@pytest.mark.parametrize("case", ["other key", "wrong iss", "too long", "garbage", "token scheme",
                                  "missing"])
async def test_bad_app_jwt_is_401(gh: FakeGitHub, session: aiohttp.ClientSession,
                                  case: str) -> None:
    def other_key() -> str:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
    headers = {
        "other key": {"Authorization": f"Bearer {make_jwt(gh, key=other_key())}"}
        if case == "other key" else {},
        "wrong iss": {"Authorization": f"Bearer {make_jwt(gh, iss='1')}"},
        "too long": {"Authorization": f"Bearer {make_jwt(gh, lifetime=3600)}"},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "token scheme": {"Authorization": f"token {make_jwt(gh)}"},
        "missing": {},
    }[case]
    async with session.post(f"{gh.url}/app/installations/1/access_tokens",
                            headers=headers) as response:
        assert response.status == 401
        assert "message" in await response.json()


async def test_gidgethub_gets_a_token_and_pages_files(
        gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    """gidgethub's own JWT (lower-case `bearer`, string iss) and Link-following work."""
    api = gidgethub.aiohttp.GitHubAPI(session, "pystd-tests", base_url=gh.url)
    answer = await gidgethub.apps.get_installation_access_token(
        api, installation_id="1", app_id=str(gh.app_id), private_key=gh.private_key_pem)
    files = [f async for f in api.getiter(f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/files{{?per_page}}",
                                          {"per_page": 2}, oauth_token=answer["token"])]
    assert [f["filename"] for f in files] == ["shop/views.py", "shop/new.py", "logo.png"]
    assert gh.calls("GET", r"^/repositories/\d+/pulls/7/files$")  # followed GitHub's Link


async def test_tokens_reach_only_their_repositories(
        gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    gh.add_pull_request("other", "repo", 1, head_sha="c" * 40, base_sha="d" * 40)
    token = await installation_token(gh, session, installation_id=1)
    status, error, _ = await call(gh, session, "GET", "/repos/other/repo/pulls/1", token)
    assert (status, error["message"]) == (404, "Not Found")  # 404, not 403, as GitHub does
    gh.add_repository(FAKE_OWNER, "docs")
    async with session.post(f"{gh.url}/app/installations/1/access_tokens", json={
            "repositories": ["docs"]}, headers={"Authorization": f"Bearer {make_jwt(gh)}"}) as r:
        scoped = (await r.json())["token"]
    assert (await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7", scoped))[0] == 404
    async with session.get(f"{gh.url}/repos/{FAKE_OWNER}/{FAKE_REPO}/installation",
                           headers={"Authorization": f"Bearer {make_jwt(gh)}"}) as r:
        assert r.status == 200 and (await r.json())["id"] == 1


# -- pull requests and files ----------------------------------------------------------------

async def test_pull_request_matches_the_webhook_schema(
        gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    gh.add_pull_request(FAKE_OWNER, FAKE_REPO, 8, head_sha="e" * 40, base_sha=FAKE_BASE, fork_owner="mallory",
                        head_ref="patch-1")
    token = await installation_token(gh, session)
    status, pr, _ = await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/8", token)
    assert status == 200
    assert (pr["head"]["repo"]["full_name"], pr["head"]["label"]) == (
        "mallory/shop", "mallory:patch-1")
    assert (pr["base"]["sha"], pr["user"]["login"], pr["state"], pr["draft"]) == (
        FAKE_BASE, "octocat", "open", False)
    payload_validator("pull_request", "opened").validate(
        json.loads((SHARED_GITHUB / "webhooks/pull_request/opened.payload.json").read_text())
        | {"pull_request": pr, "number": 8})

    status, listed, _ = await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls?state=open",
                                   token)
    assert [p["number"] for p in listed] == [8, 7] and "changed_files" not in listed[0]
    status, by_head, _ = await call(
        gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls?head=mallory:patch-1", token)
    assert [p["number"] for p in by_head] == [8]


async def test_files_are_paginated_with_link_headers(
        fake_github: FakeGitHub, session: aiohttp.ClientSession) -> None:
    files = [FakeFile(f"pkg/m{n:03}.py", "added", f"x = {n}\n") for n in range(250)]
    fake_github.add_pull_request(FAKE_OWNER, FAKE_REPO, 1, head_sha=FAKE_HEAD, base_sha=FAKE_BASE, files=files)
    token = await installation_token(fake_github, session)
    repo_id = fake_github.find_repository(FAKE_OWNER, FAKE_REPO).id  # type: ignore[union-attr]

    status, page, headers = await call(fake_github, session, "GET",
                                       f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/1/files?per_page=100", token)
    assert status == 200 and len(page) == 100
    base = f"{fake_github.url}/repositories/{repo_id}/pulls/1/files"
    assert headers["Link"] == (f'<{base}?per_page=100&page=2>; rel="next", '
                               f'<{base}?per_page=100&page=3>; rel="last"')
    response_validator("pulls/list-files", 200).validate(page)

    seen, url, pages = [], f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/1/files", 0
    while url:
        status, page, headers = await call(fake_github, session, "GET", url, token)
        seen += [entry["filename"] for entry in page]
        pages += 1
        links = gidgethub.sansio._next_link(headers.get("Link"))
        url = links or ""
    assert pages == 9 and seen == [f.filename for f in files]  # default per_page is 30

    _, capped, _ = await call(fake_github, session, "GET",
                              f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/1/files?per_page=500", token)
    assert len(capped) == 100  # "max 100"
    _, third, headers = await call(fake_github, session, "GET",
                                   f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/1/files?per_page=100&page=3",
                                   token)
    assert len(third) == 50 and 'rel="next"' not in headers["Link"]
    assert 'rel="prev"' in headers["Link"] and 'rel="first"' in headers["Link"]


async def test_files_stop_at_3000(fake_github: FakeGitHub,
                                  session: aiohttp.ClientSession) -> None:
    files = [FakeFile(f"f{n}.py", "added", "x = 1\n") for n in range(3001)]
    fake_github.add_pull_request(FAKE_OWNER, FAKE_REPO, 2, head_sha=FAKE_HEAD, base_sha=FAKE_BASE, files=files)
    token = await installation_token(fake_github, session)
    path = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/2"
    _, last, headers = await call(fake_github, session, "GET", f"{path}/files?per_page=100&page=30",
                                  token)
    assert len(last) == 100 and 'rel="next"' not in headers["Link"]
    _, beyond, _ = await call(fake_github, session, "GET", f"{path}/files?per_page=100&page=31",
                              token)
    assert beyond == []
    _, pr, _ = await call(fake_github, session, "GET", path, token)
    assert pr["changed_files"] == 3001  # what the bot can compare with what it listed


async def test_diff_entries(gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    _, entries, _ = await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/files", token)
    views, new, logo = entries
    assert views["patch"].startswith("@@ -2,7 +2,7 @@ line 1\n line 2\n line 3\n line 4\n-line 5")
    assert "\n@@ -23,6 +23,7 @@ line 22\n line 23\n" in views["patch"]
    assert (views["additions"], views["deletions"], views["changes"]) == (2, 1, 3)
    assert views["sha"] == git_blob_sha(FAKE_NEW_VIEWS.encode())
    assert new["patch"] == "@@ -0,0 +1,2 @@\n+import os\n+print(os.sep)"
    assert "patch" not in logo and (logo["additions"], logo["deletions"]) == (0, 0)
    assert views["contents_url"].endswith(f"/contents/shop/views.py?ref={FAKE_HEAD}")


def test_patches_are_gits() -> None:
    assert make_patch(b"a\n", b"a\nb") == "@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file"
    assert make_patch(b"same\n", b"same\n") is None
    assert make_patch(b"", b"x\n") == "@@ -0,0 +1 @@\n+x"  # as in fixtures/angular get-files
    assert make_patch(b"x\n", b"") == "@@ -1 +0,0 @@\n-x"
    assert git_blob_sha(b"hello world\n") == "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"


def test_renames_removals_and_missing_patches() -> None:
    gh = FakeGitHub()
    pr = gh.add_pull_request(FAKE_OWNER, FAKE_REPO, 3, head_sha=FAKE_HEAD, base_sha=FAKE_BASE, base_files={
        "old.py": "x = 1\n", "gone.py": "y = 2\n", "big.py": "z = 3\n"}, files=[
        FakeFile("new.py", "renamed", None, previous_filename="old.py"),
        FakeFile("gone.py", "removed"),
        FakeFile("big.py", "modified", "z = 4\n", patch=None)])
    renamed, removed, big = pr.entries
    assert (renamed.patch, renamed.previous_filename) == (None, "old.py")
    assert removed.patch == "@@ -1 +0,0 @@\n-y = 2" and removed.deletions == 1
    assert big.patch is None and big.additions == 1  # GitHub still counts a dropped patch
    head = gh.find_repository(FAKE_OWNER, FAKE_REPO).commits[FAKE_HEAD]  # type: ignore[union-attr]
    assert set(head) == {"new.py", "big.py"}
    with pytest.raises(ValueError, match="base content"):
        gh.add_pull_request(FAKE_OWNER, FAKE_REPO, 4, head_sha="c" * 40, base_sha="d" * 40,
                            files=[FakeFile("nobase.py", "modified", "x\n")])


# -- blobs and contents ---------------------------------------------------------------------

async def test_blob_is_base64_in_60_character_lines(
        fake_github: FakeGitHub, session: aiohttp.ClientSession) -> None:
    content = ("# a long line of python " * 20 + "\n").encode()
    fake_github.add_pull_request(FAKE_OWNER, FAKE_REPO, 1, head_sha=FAKE_HEAD, base_sha=FAKE_BASE,
                                 files=[FakeFile("long.py", "added", content)])
    token = await installation_token(fake_github, session)
    sha = git_blob_sha(content)
    status, blob, _ = await call(fake_github, session, "GET",
                                 f"/repos/{FAKE_OWNER}/{FAKE_REPO}/git/blobs/{sha}", token)
    assert status == 200 and blob["encoding"] == "base64" and blob["size"] == len(content)
    lines = blob["content"].split("\n")
    assert all(len(line) == 60 for line in lines[:-2]) and lines[-1] == ""
    assert base64.b64decode(blob["content"]) == content
    response_validator("git/get-blob", 200).validate(blob)

    status, error, _ = await call(fake_github, session, "GET",
                                  f"/repos/{FAKE_OWNER}/{FAKE_REPO}/git/blobs/{'0' * 40}", token)
    assert (status, error["message"]) == (404, "Not Found")


async def test_contents_at_base_and_head(gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    repo = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/contents"
    status, config, _ = await call(gh, session, "GET", f"{repo}/.github/pystd.toml?ref={FAKE_BASE}",
                                   token)
    assert status == 200 and base64.b64decode(config["content"]).startswith(b"[tool.pystd]")
    response_validator("repos/get-content", 200, "application/vnd.github.v3.object").validate(
        config)
    status, views, _ = await call(gh, session, "GET", f"{repo}/shop/views.py?ref={FAKE_HEAD}", token)
    assert base64.b64decode(views["content"]).decode() == FAKE_NEW_VIEWS
    _, old_views, _ = await call(gh, session, "GET", f"{repo}/shop/views.py?ref={FAKE_BASE}", token)
    assert base64.b64decode(old_views["content"]).decode() == FAKE_OLD_VIEWS

    for missing in (f"{repo}/pyproject.toml?ref={FAKE_BASE}", f"{repo}/shop/new.py?ref={FAKE_BASE}"):
        status, error, _ = await call(gh, session, "GET", missing, token)
        assert (status, error["message"]) == (404, "Not Found")
    _, listing, _ = await call(gh, session, "GET", f"{repo}/shop?ref={FAKE_HEAD}", token)
    assert [(e["name"], e["type"]) for e in listing] == [("new.py", "file"), ("views.py", "file")]
    async with session.get(f"{gh.url}{repo}/shop/new.py?ref={FAKE_HEAD}", headers={
            "Authorization": f"token {token}", "Accept": "application/vnd.github.raw"}) as raw:
        assert await raw.read() == b"import os\nprint(os.sep)\n"


# -- check runs -------------------------------------------------------------------------------

def annotation(line: int, **extra: Any) -> dict[str, Any]:
    return {"path": "shop/views.py", "start_line": line, "end_line": line,
            "annotation_level": "warning", "message": f"finding {line}", **extra}


async def test_check_run_annotations_accumulate(gh: FakeGitHub,
                                                session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    runs = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/check-runs"
    status, run, _ = await call(gh, session, "POST", runs, token, json={
        "name": "pystd", "head_sha": FAKE_HEAD, "status": "in_progress",
        "output": {"title": "pystd", "summary": "Checking…"}})
    assert status == 201 and run["status"] == "in_progress"
    assert [pr["number"] for pr in run["pull_requests"]] == [7]
    response_validator("checks/create", 201).validate(run)
    for batch, extra in ((range(1, 51), {}), (range(51, 81),
                                              {"status": "completed", "conclusion": "failure"})):
        status, run, _ = await call(gh, session, "PATCH", f"{runs}/{run['id']}", token, json={
            "output": {"title": "pystd", "summary": "80 findings",
                       "annotations": [annotation(n) for n in batch]}, **extra})
        assert status == 200
    assert run["output"]["annotations_count"] == 80 and run["conclusion"] == "failure"
    response_validator("checks/update", 200).validate(run)
    (state,) = gh.check_runs(FAKE_OWNER, FAKE_REPO)
    assert (state.status, state.conclusion, state.summary, state.updates) == (
        "completed", "failure", "80 findings", 2)
    assert [a["start_line"] for a in state.annotations] == list(range(1, 81))


@pytest.mark.parametrize(("body", "message"), [
    ({"output": {"title": "t", "summary": "s", "annotations": [annotation(1)] * 51}},
     "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."),
    ({"status": "completed"}, "Invalid request.\n\n\"conclusion\" wasn't supplied."),
    ({"conclusion": "great"}, "Invalid request."),
    ({"output": {"title": "t", "summary": "x" * 65536}}, "Invalid request."),
    ({"output": {"title": "t", "summary": "s", "annotations": [
        annotation(1) | {"annotation_level": "error"}]}}, "Invalid request."),
    ({"output": {"title": "t", "summary": "s", "annotations": [
        annotation(3) | {"end_line": 5, "start_column": 1, "end_column": 4}]}},
     "Validation Failed"),
])
async def test_check_run_refusals(gh: FakeGitHub, session: aiohttp.ClientSession,
                                  body: dict[str, Any], message: str) -> None:
    token = await installation_token(gh, session)
    status, error, _ = await call(gh, session, "POST", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/check-runs", token,
                                  json={"name": "pystd", "head_sha": FAKE_HEAD, **body})
    assert status == 422 and error["message"].startswith(message)
    assert gh.check_runs(FAKE_OWNER, FAKE_REPO) == []
    assert [v.status for v in gh.take_violations()] == [422]


async def test_check_run_update_needs_conclusion_when_completed(
        gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    _, run, _ = await call(gh, session, "POST", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/check-runs", token,
                           json={"name": "pystd", "head_sha": FAKE_HEAD})
    status, error, _ = await call(gh, session, "PATCH",
                                  f"/repos/{FAKE_OWNER}/{FAKE_REPO}/check-runs/{run['id']}", token,
                                  json={"status": "completed"})
    assert (status, error["message"]) == (422, "Invalid request.\n\n\"conclusion\" wasn't supplied.")
    assert len(gh.take_violations()) == 1


# -- reviews ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("comments", "error"), [
    ([review_comment(5), review_comment(15)], LINE_NOT_RESOLVED),  # 15 is between the hunks
    ([review_comment(1)], LINE_NOT_RESOLVED),
    ([review_comment(9, side="LEFT")], LINE_NOT_RESOLVED),  # old line 9 is past the first hunk
    ([{"path": "shop/other.py", "line": 1, "body": "x"}], PATH_NOT_RESOLVED),
    ([{"path": "logo.png", "line": 1, "body": "x"}], LINE_NOT_RESOLVED),  # no patch
    ([review_comment(26, start_line=5)], START_SAME_HUNK),
    ([review_comment(5, start_line=6)], START_MUST_PRECEDE),
    ([review_comment(5, start_line=5)], START_MUST_PRECEDE),
])
async def test_review_refused_when_a_comment_is_off_the_diff(
        gh: FakeGitHub, session: aiohttp.ClientSession, comments: list[dict[str, Any]],
        error: str) -> None:
    token = await installation_token(gh, session)
    status, answer, _ = await call(gh, session, "POST", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/reviews",
                                   token, json={"commit_id": FAKE_HEAD, "event": "COMMENT",
                                                "body": "pystd found things", "comments": comments})
    assert (status, answer["message"], answer["errors"]) == (422, "Unprocessable Entity", [error])
    response_validator("pulls/create-review", 422).validate(answer)
    assert gh.reviews(FAKE_OWNER, FAKE_REPO, 7) == []  # all or nothing
    assert len(gh.take_violations()) == 1


async def test_review_accepted_on_hunk_lines(gh: FakeGitHub,
                                             session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    body = {"commit_id": FAKE_HEAD, "event": "COMMENT", "body": "pystd: 4 findings", "comments": [
        review_comment(5, body="```suggestion\nline 5\n```"),  # added line
        review_comment(2),  # context line
        review_comment(27, start_line=26),  # multi-line, same hunk
        review_comment(5, side="LEFT"),  # the deleted line, old numbering
        {"path": "shop/new.py", "line": 2, "body": "print"},  # side defaults to RIGHT
    ]}
    status, review, _ = await call(gh, session, "POST", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/reviews",
                                   token, json=body)
    assert status == 200 and review["state"] == "COMMENTED" and review["commit_id"] == FAKE_HEAD
    assert review["user"]["type"] == "Bot" and review["user"]["login"] == "pystd[bot]"
    response_validator("pulls/create-review", 200).validate(review)

    status, listed, _ = await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/comments",
                                   token)
    response_validator("pulls/list-review-comments", 200).validate(listed)
    assert [(c["path"], c["line"], c["side"], c["start_line"]) for c in listed] == [
        ("shop/views.py", 5, "RIGHT", None), ("shop/views.py", 2, "RIGHT", None),
        ("shop/views.py", 27, "RIGHT", 26), ("shop/views.py", 5, "LEFT", None),
        ("shop/new.py", 2, "RIGHT", None)]
    assert listed[0]["diff_hunk"].endswith("\n-line 5\n+line five")
    assert [c.line for c in gh.review_comments(FAKE_OWNER, FAKE_REPO, 7)] == [5, 2, 27, 5, 2]


async def test_review_commit_and_body_rules(gh: FakeGitHub,
                                            session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    reviews = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/reviews"
    gh.move_head(FAKE_OWNER, FAKE_REPO, 7, "f" * 40)
    status, review, _ = await call(gh, session, "POST", reviews, token,
                                   json={"commit_id": FAKE_HEAD, "event": "COMMENT", "body": "old head"})
    assert (status, review["commit_id"]) == (200, FAKE_HEAD)  # an earlier head is fine
    status, error, _ = await call(gh, session, "POST", reviews, token,
                                  json={"commit_id": "9" * 40, "event": "COMMENT", "body": "x"})
    assert (status, error["errors"]) == (422, [COMMIT_NOT_IN_PR])
    status, _, _ = await call(gh, session, "POST", reviews, token, json={"event": "COMMENT"})
    assert status == 422  # body is required with COMMENT
    status, _, _ = await call(gh, session, "POST", reviews, token, json={"event": "SHIP_IT"})
    assert status == 422  # not in the event enum
    assert len(gh.take_violations()) == 3
    status, pending, _ = await call(gh, session, "POST", reviews, token, json={"body": "draft"})
    assert (status, pending["state"], "submitted_at" in pending) == (200, "PENDING", False)
    status, error, _ = await call(gh, session, "POST", reviews, token,
                                  json={"event": "COMMENT", "body": "x"})
    assert (status, error["errors"]) == (
        422, ["User can only have one pending review per pull request"])
    assert len(gh.take_violations()) == 1


# -- people, comments, reactions ------------------------------------------------------------

async def test_permissions_and_reactions(gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    gh.set_permission(FAKE_OWNER, FAKE_REPO, "bob", "maintain")
    status, perm, _ = await call(gh, session, "GET",
                                 f"/repos/{FAKE_OWNER}/{FAKE_REPO}/collaborators/bob/permission", token)
    assert (status, perm["permission"], perm["role_name"]) == (200, "write", "maintain")
    response_validator("repos/get-collaborator-permission-level", 200).validate(perm)
    _, stranger, _ = await call(gh, session, "GET",
                                f"/repos/{FAKE_OWNER}/{FAKE_REPO}/collaborators/eve/permission", token)
    assert stranger["permission"] == "none"

    comment_id = gh.add_issue_comment(FAKE_OWNER, FAKE_REPO, 7, "/pystd recheck", user="bob")
    reactions = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/issues/comments/{comment_id}/reactions"
    status, reaction, _ = await call(gh, session, "POST", reactions, token, json={"content": "eyes"})
    assert status == 201
    response_validator("reactions/create-for-issue-comment", 201).validate(reaction)
    status, _, _ = await call(gh, session, "POST", reactions, token, json={"content": "eyes"})
    assert status == 200  # already there
    assert gh.reactions(FAKE_OWNER, FAKE_REPO, comment_id) == ["eyes"]
    status, _, _ = await call(gh, session, "POST", reactions, token, json={"content": "party"})
    assert status == 422 and len(gh.take_violations()) == 1
    status, _, _ = await call(gh, session, "POST",
                              f"/repos/{FAKE_OWNER}/{FAKE_REPO}/issues/comments/1/reactions", token,
                              json={"content": "eyes"})
    assert status == 404


async def test_bot_issue_comments(gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    status, created, _ = await call(gh, session, "POST", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/issues/7/comments",
                                    token, json={"body": "pystd could not analyse this push"})
    assert status == 201 and created["user"]["type"] == "Bot"
    response_validator("issues/create-comment", 201).validate(created)
    assert [c.body for c in gh.issue_comments(FAKE_OWNER, FAKE_REPO, 7)] == [
        "pystd could not analyse this push"]


# -- faults and limits ----------------------------------------------------------------------

async def test_latency_is_added_to_every_answer(gh: FakeGitHub,
                                                session: aiohttp.ClientSession) -> None:
    gh.latency = 0.02
    started = time.perf_counter()
    async with session.get(f"{gh.url}/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7") as response:
        assert response.status == 401  # even refusals take their time
    assert time.perf_counter() - started >= 0.02


async def test_fail_next_then_normal(gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    path = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7"
    gh.fail_next("GET", r"/pulls/7$", 500)
    gh.fail_next("GET", r"/pulls/7$", 403, headers={"Retry-After": "1"})
    status, error, _ = await call(gh, session, "GET", path, token)
    assert (status, error["message"]) == (500, "Internal Server Error")
    status, error, headers = await call(gh, session, "GET", path, token)
    assert (status, headers["Retry-After"]) == (403, "1")
    assert error["message"].startswith("You have exceeded a secondary rate limit")
    assert (await call(gh, session, "GET", path, token))[0] == 200
    assert len(gh.calls("GET", r"/pulls/7$")) == 3


async def test_faults_before_and_after_processing(gh: FakeGitHub,
                                                  session: aiohttp.ClientSession) -> None:
    """A 502 "after" and a dropped connection "reset-after" still did the work; "before"
    and "reset" did not; "slow" did it and answered after `slow_seconds`."""
    token = await installation_token(gh, session)
    runs = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/check-runs"
    body = {"name": "pystd", "head_sha": FAKE_HEAD, "status": "in_progress"}
    gh.slow_seconds = 0.05
    for kind in ("before", "after", "reset", "reset-after", "slow"):
        gh.fail_next("POST", r"/check-runs$", 502, kind=kind)
        try:
            status = (await call(gh, session, "POST", runs, token, json=body))[0]
        except aiohttp.ServerDisconnectedError:
            status = None
        assert status == {"before": 502, "after": 502, "slow": 201}.get(kind), kind
    assert len(gh.check_runs(FAKE_OWNER, FAKE_REPO)) == 3  # after, reset-after, slow
    assert [fault.kind for _method, _path, fault in gh.injected] == [
        "before", "after", "reset", "reset-after", "slow"]


async def test_check_runs_for_a_ref_and_one_run(gh: FakeGitHub,
                                                session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    runs = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/check-runs"
    made = []
    for name, external in (("pystd", "one"), ("pystd", "two"), ("other", "three")):
        made.append((await call(gh, session, "POST", runs, token, json={
            "name": name, "head_sha": FAKE_HEAD, "external_id": external}))[1])
    await call(gh, session, "PATCH", f"{runs}/{made[1]['id']}", token, json={
        "conclusion": "success", "output": {"title": "t", "summary": "s",
                                            "annotations": [annotation(1)]}})
    listing = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/commits/{FAKE_HEAD}/check-runs"

    async def external_ids(**query: Any) -> list[str]:
        status, data, _ = await call(gh, session, "GET", listing, token, params=query)
        assert status == 200 and data["total_count"] == len(data["check_runs"])
        for run in data["check_runs"]:
            response_validator("checks/create", 201).validate(run)
        return [run["external_id"] for run in data["check_runs"]]

    assert await external_ids() == ["three", "two"]  # filter=latest: newest of each name
    assert await external_ids(check_name="pystd", filter="all") == ["two", "one"]
    assert await external_ids(filter="all", status="completed") == ["two"]
    assert await external_ids(app_id=str(gh.app_id), filter="all") == ["three", "two", "one"]
    assert await external_ids(app_id="1") == []
    status, run, _ = await call(gh, session, "GET", f"{runs}/{made[1]['id']}", token)
    assert (status, run["output"]["annotations_count"], run["conclusion"]) == (200, 1, "success")
    assert (await call(gh, session, "GET", f"{runs}/999999", token))[0] == 404


async def test_reviews_are_listed(gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    reviews = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/reviews"
    for text in ("first", "second"):
        status, _, _ = await call(gh, session, "POST", reviews, token, json={
            "commit_id": FAKE_HEAD, "event": "COMMENT", "body": text})
        assert status == 200
    status, listed, _ = await call(gh, session, "GET", reviews, token)
    assert (status, [r["body"] for r in listed]) == (200, ["first", "second"])
    for review in listed:
        response_validator("pulls/create-review", 200).validate(review)


async def test_rate_limit_headers_on_every_answer(
        gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    for path in (f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/99"):
        _, _, headers = await call(gh, session, "GET", path, token)
        for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                     "x-ratelimit-used", "x-ratelimit-resource", "x-github-request-id"):
            assert name in headers
    assert headers["x-ratelimit-used"] == "2" and headers["x-ratelimit-remaining"] == "4998"
    assert int(headers["x-ratelimit-reset"]) > time.time()


async def test_primary_rate_limit(gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    gh.rate_limit = 2
    api = gidgethub.aiohttp.GitHubAPI(session, "pystd-tests", oauth_token=token, base_url=gh.url)
    await api.getitem(f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7")
    await api.getitem(f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7")
    with pytest.raises(gidgethub.RateLimitExceeded):  # 403 with x-ratelimit-remaining: 0
        await api.getitem(f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7")


async def test_secondary_rate_limit_on_content_creation(
        gh: FakeGitHub, session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    runs = f"/repos/{FAKE_OWNER}/{FAKE_REPO}/check-runs"
    for _ in range(80):
        status, _, _ = await call(gh, session, "POST", runs, token,
                                  json={"name": "pystd", "head_sha": FAKE_HEAD})
        assert status == 201
    status, error, headers = await call(gh, session, "POST", runs, token,
                                        json={"name": "pystd", "head_sha": FAKE_HEAD})
    assert status == 403 and error == SECONDARY_RATE_LIMIT
    assert 1 <= int(headers["Retry-After"]) <= 60 and int(headers["x-ratelimit-remaining"]) > 0
    assert (await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7", token))[0] == 200
    gh.advance_time(61)
    assert (await call(gh, session, "POST", runs, token,
                       json={"name": "pystd", "head_sha": FAKE_HEAD}))[0] == 201


async def test_unknown_routes_are_violations(gh: FakeGitHub,
                                             session: aiohttp.ClientSession) -> None:
    token = await installation_token(gh, session)
    status, _, _ = await call(gh, session, "GET", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7/commits", token)
    assert status == 404
    status, _, _ = await call(gh, session, "DELETE", f"/repos/{FAKE_OWNER}/{FAKE_REPO}/pulls/7", token)
    assert status == 404
    assert [(v.method, v.status) for v in gh.take_violations()] == [("GET", 404), ("DELETE", 404)]


# -- webhooks ---------------------------------------------------------------------------------

def test_signature_matches_githubs_test_vector() -> None:
    vector = json.loads((SHARED_GITHUB / "limits.json").read_text())[
        "webhook_signature_test_vector"]
    assert webhook_signature(vector["secret"], vector["payload"].encode()) == \
        vector["X-Hub-Signature-256"]


def test_delivery_is_signed_and_parses(delivery: DeliveryFactory, webhook_secret: str) -> None:
    headers, body = delivery("pull_request", "opened.payload.json", delivery_id="d-1")
    assert headers["X-GitHub-Event"] == "pull_request" and headers["X-GitHub-Delivery"] == "d-1"
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    expected = hmac.new(webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={expected}"
    event = gidgethub.sansio.Event.from_http({k.lower(): v for k, v in headers.items()}, body,
                                             secret=webhook_secret)
    assert (event.event, event.data["action"], event.delivery_id) == ("pull_request", "opened",
                                                                      "d-1")


def test_overrides_are_checked_against_the_schemas(delivery: DeliveryFactory) -> None:
    _, body = delivery("pull_request", "synchronize.payload.json",
                       overrides={"pull_request": {"head": {"sha": FAKE_HEAD}}, "after": FAKE_HEAD})
    assert json.loads(body)["pull_request"]["head"]["sha"] == FAKE_HEAD
    with pytest.raises(ValueError, match="breaks the schema"):
        delivery("pull_request", "opened.payload.json", overrides={"number": "7"})
    with pytest.raises(ValueError, match="breaks the schema"):
        delivery("issue_comment", "created.payload.json", overrides={"surprise": True})


def test_overrides_from_the_fakes_state_fit_the_schemas(gh: FakeGitHub,
                                                        delivery: DeliveryFactory) -> None:
    _, body = delivery("pull_request", "synchronize.payload.json",
                       overrides=gh.pull_request_overrides(FAKE_OWNER, FAKE_REPO, 7))
    payload = json.loads(body)
    assert (payload["installation"]["id"], payload["pull_request"]["head"]["sha"],
            payload["repository"]["full_name"]) == (1, FAKE_HEAD, f"{FAKE_OWNER}/{FAKE_REPO}")
    comment_id = gh.add_issue_comment(FAKE_OWNER, FAKE_REPO, 7, "/pystd recheck", user="alice")
    _, body = delivery("issue_comment", "created.with-installation.payload.json",
                       overrides=gh.issue_comment_overrides(FAKE_OWNER, FAKE_REPO, comment_id))
    payload = json.loads(body)
    assert payload["issue"]["pull_request"]["url"].endswith("/pulls/7")
    assert (payload["comment"]["id"], payload["comment"]["author_association"]) == (
        comment_id, "CONTRIBUTOR")
    _, body = delivery("check_suite", "rerequested.payload.json",
                       overrides=gh.check_suite_overrides(FAKE_OWNER, FAKE_REPO, FAKE_HEAD))
    assert [pr["number"] for pr in json.loads(body)["check_suite"]["pull_requests"]] == [7]


def test_extra_payloads_are_unwrapped_not_validated(webhook_secret: str) -> None:
    """webhooks-extra predates today's schemas: delivered as recorded (no `draft`, …)."""
    _, body = delivery("pull_request", "angular-github-robot/pull_request.synchronize.json",
                       secret=webhook_secret)
    payload = json.loads(body)
    assert payload["action"] == "synchronize" and "draft" not in payload["pull_request"]
    _, body = delivery("issue_comment", "all-contributors-app/issue_comment.created.json",
                       secret=webhook_secret, overrides={"comment": {"body": "/pystd recheck"}})
    assert json.loads(body)["issue"]["pull_request"]["url"]


# -- the unit-test fake ---------------------------------------------------------------------

async def test_recording_api_answers_records_and_refuses_the_unexpected() -> None:
    files_url = "/repos/o/r/pulls/1/files"
    gh = RecordingGitHubAPI({
        ("GET", "/repos/o/r/pulls/1"): (200, {}, {"number": 1}),
        ("GET", files_url): (200, {"link": f'<https://api.github.com{files_url}?page=2>; '
                                           'rel="next"'}, [{"filename": "a.py"}]),
        ("GET", f"{files_url}?page=2"): (200, {}, [{"filename": "b.py"}]),
        ("POST", "/repos/o/r/check-runs"): [(500, {}, {"message": "Server Error"}),
                                            (201, {}, {"id": 5})],
    }, oauth_token="t")
    assert (await gh.getitem("/repos/{owner}/{repo}/pulls/{number}",
                             {"owner": "o", "repo": "r", "number": 1}))["number"] == 1
    assert [f["filename"] async for f in gh.getiter(files_url)] == ["a.py", "b.py"]
    with pytest.raises(gidgethub.GitHubBroken):
        await gh.post("/repos/o/r/check-runs", data={"name": "pystd", "head_sha": FAKE_HEAD})
    assert (await gh.post("/repos/o/r/check-runs", data={"name": "pystd"}))["id"] == 5
    assert gh.calls[-1].json == {"name": "pystd"} and gh.calls[-1].authorization == "token t"
    with pytest.raises(AssertionError, match="unexpected GitHub call"):
        await gh.getitem("/repos/o/r/pulls/2")
    await gh.sleep(1.5)
    assert gh.sleeps == [1.5] and gh.unused() == []
    gh.answer("GET", "/repos/o/r/pulls/3", (404, {}, {"message": "Not Found"}))
    with pytest.raises(gidgethub.BadRequest):
        await gh.getitem("/repos/o/r/pulls/3")
