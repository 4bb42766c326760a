"""POST /webhook under hostile input, through the real aiohttp app: what an unauthenticated
sender can make the server do (nothing expensive), what a signed but malformed payload
gets (a 400 saying why), and what `/pystd recheck` costs (nothing, unless authorised)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from pystd.bot import messages
from pystd.bot.app import create_app
from pystd.bot.events import parse_event
from pystd.bot.handlers import router
from pystd.bot.settings import Settings
from pystd.bot.webhooks import MAX_DELIVERY_BYTES, SERVICES
from tests.bot.drivers import HEAD, OWNER, REPO, add_pr, recheck, send, settle
from tests.github_fake import FakeGitHub, webhook_signature
from tests.github_fake.webhooks import load_payload

GUARD = 10.0  # seconds: only a hung test ever waits this long

Mutation = Callable[[dict[str, Any]], Any]


def resign(headers: dict[str, str], body: bytes, secret: str) -> dict[str, str]:
    return dict(headers, **{"X-Hub-Signature-256": webhook_signature(secret, body)})


async def connect(bot: TestClient) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(bot.server.host, bot.server.port)


def request_head(headers: dict[str, str], length: int) -> bytes:
    lines = ["POST /webhook HTTP/1.1", "Host: pystd", f"Content-Length: {length}",
             *(f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def status_of(reader: asyncio.StreamReader) -> int:
    async with asyncio.timeout(GUARD):
        line = await reader.readline()
    return int(line.split()[1])


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    async with asyncio.timeout(GUARD):
        return await reader.read() == b""


def opened(gh: FakeGitHub, delivery: Callable[..., Any]) -> tuple[dict[str, str], bytes]:
    add_pr(gh)
    return delivery("pull_request", "opened.payload.json",
                    overrides=gh.pull_request_overrides(OWNER, REPO, 1))


# -- what an unauthenticated sender can cost --------------------------------------------------

async def test_compressed_body_is_refused_before_it_is_read(bot, delivery, fake_github,
                                                           webhook_secret):
    headers, body = opened(fake_github, delivery)
    bomb = gzip.compress(b"\0" * (4 << 20))
    reader, writer = await connect(bot)
    # Announce a megabyte, send the first part of a gzip bomb: the answer comes anyway.
    writer.write(request_head({**headers, "Content-Encoding": "gzip"}, 1 << 20) + bomb[:4096])
    assert await status_of(reader) == 415
    writer.close()
    assert (await bot.get("/healthz")).status == 200
    signed = resign({**headers, "Content-Encoding": "gzip"}, gzip.compress(body), webhook_secret)
    response = await bot.post("/webhook", data=gzip.compress(body), headers=signed)
    assert response.status == 415
    assert "gzip" in (await response.json())["error"]
    await settle(bot)
    assert fake_github.check_runs(OWNER, REPO) == []


async def test_body_over_25_mb_is_refused_before_it_is_read(bot, delivery, fake_github):
    headers, _ = opened(fake_github, delivery)
    reader, writer = await connect(bot)
    writer.write(request_head(headers, 30 * 1024 * 1024) + b"{" * 4096)
    assert await status_of(reader) == 413
    writer.close()


async def test_chunked_body_over_25_mb_is_cut_off(bot, delivery, fake_github):
    headers, _ = opened(fake_github, delivery)
    reader, writer = await connect(bot)
    head = request_head(headers, 0).replace(b"Content-Length: 0\r\n",
                                            b"Transfer-Encoding: chunked\r\n")
    writer.write(head)
    chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"  # 1 MiB chunks
    try:
        for _ in range(MAX_DELIVERY_BYTES // 0x100000 + 2):
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass  # the server stopped reading: that is the point
    assert await status_of(reader) == 413
    writer.close()


async def test_sha1_signature_in_the_sha256_header_is_401(bot, delivery, fake_github,
                                                           webhook_secret):
    headers, body = opened(fake_github, delivery)
    sha1 = "sha1=" + hmac.new(webhook_secret.encode(), body, hashlib.sha1).hexdigest()
    response = await bot.post("/webhook", data=body,
                              headers=dict(headers, **{"X-Hub-Signature-256": sha1}))
    assert response.status == 401
    assert (await response.json())["error"] == messages.WEBHOOK_BAD_SIGNATURE


@pytest.fixture
async def strict_bot(aiohttp_client: Callable[..., Any], settings: Settings
                     ) -> AsyncIterator[TestClient]:
    """The App with short connection time limits, so tests see them act."""
    tight = settings.model_copy(update={"idle_timeout": 0.2, "body_timeout": 0.2})
    yield await aiohttp_client(create_app(tight, engine_in_process=True))


async def test_idle_connection_is_closed(strict_bot):
    reader, writer = await connect(strict_bot)
    assert await closed_by_server(reader)
    writer.close()


async def test_headers_sent_slowly_are_cut_off(strict_bot):
    reader, writer = await connect(strict_bot)
    writer.write(b"POST /webhook HTTP/1.1\r\nHost: pystd\r\n")  # and never the rest
    assert await closed_by_server(reader)
    writer.close()


async def test_connection_idle_after_a_request_is_closed(strict_bot):
    reader, writer = await connect(strict_bot)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: pystd\r\n\r\n")
    assert await status_of(reader) == 200
    async with asyncio.timeout(GUARD):
        assert b'"ok"' in await reader.read()  # the rest of the answer, then the close
    writer.close()


async def test_body_sent_slowly_is_408(strict_bot, delivery, fake_github):
    headers, body = opened(fake_github, delivery)
    reader, writer = await connect(strict_bot)
    writer.write(request_head(headers, len(body)) + body[:10])
    assert await status_of(reader) == 408
    writer.close()


# -- signed but malformed: 400 with the reason ---------------------------------------------------

def set_path(path: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = data
        for key in parents:
            target = target[key]
        target[last] = value

    return mutate


COMMENT = ("issue_comment", "created.with-installation.payload.json")
CHECK_RUN = ("check_run", "rerequested.payload.json")
OPENED = ("pull_request", "opened.payload.json")
DEEP = b'{"action": "opened", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize(("source", "change", "content_type", "reason"), [
    (COMMENT, set_path("issue", "a string"), None, "issue:"),
    (COMMENT, set_path("comment.user", None), None, "comment.user:"),
    (COMMENT, set_path("comment.body", 42), None, "comment.body:"),
    (COMMENT, set_path("comment.id", "11"), None, "comment.id:"),
    (CHECK_RUN, set_path("check_run.app", None), None, "check_run.app:"),
    (OPENED, set_path("pull_request.head", {"ref": "main"}), None, "pull_request.head.sha:"),
    (OPENED, set_path("installation", None), None, "installation:"),
    (OPENED, set_path("action", ["opened"]), None, "action"),
    (OPENED, None, "application/json; charset=klingon", "unknown charset 'klingon'"),
    (OPENED, None, "application/json; charset=punycode", "not valid punycode"),
    (OPENED, b'{"action": "opened", "x": "\xff"}', None, "not valid utf-8"),
    (OPENED, DEEP, None, "nested too deeply"),
    (OPENED, b"[1, 2]", None, "not a JSON object"),
    (OPENED, b'"opened"', None, "not a JSON object"),
    (OPENED, b'{"action": "opened", ', None, "not JSON"),
], ids=["issue-string", "user-null", "body-number", "id-string", "app-null", "no-head-sha",
        "installation-null", "action-list", "charset", "charset-punycode", "bad-utf8", "deep", "array", "string",
        "truncated"])
async def test_signed_malformed_payload_is_400_with_the_reason(
        bot, delivery, fake_github, webhook_secret, source, change, content_type, reason):
    headers, body = delivery(*source)
    if isinstance(change, bytes):
        body = change
    elif change is not None:
        data = json.loads(body)
        change(data)
        body = json.dumps(data).encode()
    headers = resign(headers, body, webhook_secret)
    if content_type:
        headers["Content-Type"] = content_type
    response = await bot.post("/webhook", data=body, headers=headers)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error.startswith("malformed delivery: ") and reason in error
    await settle(bot)
    assert bot.app[SERVICES].queue.queued_total == 0


async def test_form_encoded_delivery_is_accepted(bot, delivery, fake_github, webhook_secret):
    from urllib.parse import urlencode

    headers, body = opened(fake_github, delivery)
    form = urlencode({"payload": body.decode()}).encode()
    headers = dict(resign(headers, form, webhook_secret),
                   **{"Content-Type": "application/x-www-form-urlencoded"})
    assert (await bot.post("/webhook", data=form, headers=headers)).status == 202
    await settle(bot)
    assert [r.conclusion for r in fake_github.check_runs(OWNER, REPO)] == ["failure"]


async def test_a_bug_in_a_handler_is_a_logged_500_not_a_400(bot, delivery, fake_github, caplog):
    def broken(target: object) -> None:
        raise RuntimeError("a bug in pystd")

    bot.app[SERVICES].schedule_review = broken  # type: ignore[method-assign]
    headers, body = opened(fake_github, delivery)
    with caplog.at_level(logging.INFO, logger="pystd.bot.webhooks"):
        response = await bot.post("/webhook", data=body, headers=headers)
    assert response.status == 500
    (record,) = [r for r in caplog.records if r.name == "pystd.bot.webhooks"]
    assert record.exc_info is not None and "a bug in pystd" in str(record.exc_info[1])
    assert (record.outcome, record.status) == ("error", 500)


async def test_each_delivery_is_one_log_line(bot, delivery, fake_github, caplog):
    headers, body = opened(fake_github, delivery)
    with caplog.at_level(logging.INFO, logger="pystd.bot.webhooks"):
        await bot.post("/webhook", data=body, headers=headers)
    (record,) = [r for r in caplog.records if r.name == "pystd.bot.webhooks"]
    assert record.getMessage() == "delivery"
    assert (record.delivery_id, record.event, record.action, record.repository, record.pr,
            record.outcome, record.status) == (
        headers["X-GitHub-Delivery"], "pull_request", "opened", f"{OWNER}/{REPO}", 1,
        "queued", 202)
    await settle(bot)


# -- older real payloads ------------------------------------------------------------------------

@pytest.mark.parametrize(("event", "file", "pr"), [
    ("issue_comment", "all-contributors-app/issue_comment.created.json", 1),
    ("pull_request", "angular-github-robot/pull_request.synchronize.json", 10),
])
def test_older_payloads_parse(event, file, pr):
    data, _ = load_payload(event, file)
    route = router.lookup(event, data["action"])
    assert route is not None
    assert parse_event(route.model, data, "d-1").pr == pr


async def test_older_comment_payload_is_accepted_by_the_app(bot, delivery):
    headers, body = delivery("issue_comment", "all-contributors-app/issue_comment.created.json")
    response = await bot.post("/webhook", data=body, headers=headers)
    assert response.status == 200  # parsed; not a `/pystd recheck`, so nothing to do
    assert (await response.json())["status"] == messages.WEBHOOK_IGNORED


# -- /pystd recheck: costs ------------------------------------------------------------------------

def reactions_posted(gh: FakeGitHub) -> int:
    return len(gh.calls("POST", r"/reactions$"))


async def test_second_recheck_within_a_minute_is_ignored(bot, delivery, fake_github):
    add_pr(fake_github)
    fake_github.set_permission(OWNER, REPO, "maintainer", "write")
    first_id, first = await recheck(bot, delivery, fake_github, "maintainer")
    second_id, second = await recheck(bot, delivery, fake_github, "maintainer")
    assert (first.status, second.status) == (202, 200)
    assert fake_github.reactions(OWNER, REPO, first_id) == ["eyes"]
    assert fake_github.reactions(OWNER, REPO, second_id) == []
    assert len(fake_github.check_runs(OWNER, REPO)) == 1


async def test_rechecks_from_a_read_only_user_write_nothing(bot, delivery, fake_github):
    add_pr(fake_github)
    fake_github.add_pull_request(OWNER, REPO, 2, head_sha="d" * 40, base_sha="b" * 40,
                                 author="octocat", files=[])
    fake_github.set_permission(OWNER, REPO, "visitor", "read")
    for _ in range(3):
        await recheck(bot, delivery, fake_github, "visitor")
    comment_id = fake_github.add_issue_comment(OWNER, REPO, 2, "/pystd recheck", user="visitor")
    await send(bot, delivery, fake_github, "issue_comment", "created.payload.json",
               fake_github.issue_comment_overrides(OWNER, REPO, comment_id))
    await settle(bot)
    assert reactions_posted(fake_github) == 0
    assert fake_github.check_runs(OWNER, REPO) == []
    # One permission question for both pull requests: the answer is cached.
    assert len(fake_github.calls("GET", r"/collaborators/visitor/permission$")) == 1


async def test_recheck_on_a_closed_pull_request_runs_nothing(bot, delivery, fake_github):
    add_pr(fake_github)
    fake_github.close_pull_request(OWNER, REPO, 1)
    comment_id, response = await recheck(bot, delivery, fake_github, "octocat")
    assert response.status == 200  # the payload says closed: nothing is queued
    assert fake_github.reactions(OWNER, REPO, comment_id) == []
    assert fake_github.check_runs(OWNER, REPO) == []


async def test_recheck_on_a_pull_request_closed_meanwhile_runs_nothing(
        bot, delivery, fake_github):
    add_pr(fake_github)
    comment_id = fake_github.add_issue_comment(OWNER, REPO, 1, "/pystd recheck", user="octocat")
    overrides = fake_github.issue_comment_overrides(OWNER, REPO, comment_id)  # still open
    fake_github.close_pull_request(OWNER, REPO, 1)
    response = await send(bot, delivery, fake_github, "issue_comment", "created.payload.json",
                          overrides)
    assert response.status == 202
    await settle(bot)
    assert fake_github.reactions(OWNER, REPO, comment_id) == []
    assert fake_github.check_runs(OWNER, REPO) == []


async def test_rerun_requested_for_a_closed_pull_request_runs_nothing(bot, delivery, fake_github):
    add_pr(fake_github)
    fake_github.close_pull_request(OWNER, REPO, 1)
    await send(bot, delivery, fake_github, "check_suite", "rerequested.payload.json",
               fake_github.check_suite_overrides(OWNER, REPO, HEAD))
    await settle(bot)
    assert fake_github.check_runs(OWNER, REPO) == []
