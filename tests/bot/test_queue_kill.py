"""No accepted delivery is lost: `kill -9` the process running a review (the single
`pystd serve`, or a `pystd worker` beside a `serve --workers 0`), start it again on the same
store (SQLite; PostgreSQL for the worker), and every accepted delivery ends in exactly one completed check run and at
most one review, with no run left `in_progress`. Real processes, the fake GitHub."""

from __future__ import annotations

import asyncio
import signal

import pytest

from pystd.bot.store import store_for
from tests.bot.drivers import HEAD, NEW_VIEWS, OLD_VIEWS, OWNER, REPO
from tests.bot.processes import GUARD, post, settled, start, stop
from tests.github_fake import FakeFile, Fault

HEAD2 = "d" * 40
# Where the first attempt is held when it is killed: after its check run is open and
# before it has analysed anything; or after GitHub has taken its review (the answer held).
HOLD = {"files": ("GET", "/pulls/1/files"), "review": ("POST", "/pulls/1/reviews")}


@pytest.mark.parametrize(("killed", "hold", "store"), [
    ("serve", "files", "sqlite"), ("worker", "review", "sqlite"),
    ("worker", "review", "postgresql")])
async def test_a_review_killed_midway_ends_in_one_completed_run_and_one_review(
        request, environment, tmp_path, fake_github, delivery, killed, hold, store):
    files = [FakeFile("app/views.py", content=NEW_VIEWS, base_content=OLD_VIEWS)]
    fake_github.add_pull_request(OWNER, REPO, 1, head_sha=HEAD, base_sha="b" * 40,
                                 author="octocat", files=files)
    fake_github.add_pull_request(OWNER, REPO, 2, head_sha=HEAD2, base_sha="b" * 40,
                                 author="octocat", files=files)
    fake_github.slow_seconds = GUARD  # a held answer waits for the kill
    held = asyncio.Event()
    method, fragment = HOLD[hold]

    def hold_once(m: str, path: str) -> Fault | None:
        if m == method and path.endswith(fragment) and not held.is_set():
            held.set()
            return Fault("slow")
        return None

    fake_github.chaos = hold_once
    env = environment
    if store == "postgresql":
        env["PYSTD_QUEUE_URL"] = request.getfixturevalue("postgres_cluster").fresh_database()
    serve_args = ("serve",) if killed == "serve" else ("serve", "--workers", "0")
    server = await start(env, tmp_path, *serve_args, ready="listening")
    victim = server if killed == "serve" else await start(env, tmp_path, "worker",
                                                          ready="worker ready")
    try:
        assert await post(env, delivery, fake_github, 1, "delivery-1") == 202
        assert await post(env, delivery, fake_github, 2, "delivery-2") == 202
        async with asyncio.timeout(GUARD):
            await held.wait()
        victim.kill()  # SIGKILL: no drain, no completion, nothing written
        await victim.wait()
        runs = {r.head_sha: r.status for r in fake_github.check_runs(OWNER, REPO)}
        assert runs.get(HEAD) == "in_progress"  # what the dead attempt left
        if killed == "serve":
            server = await start(env, tmp_path, "serve", ready="listening")
        else:
            victim = await start(env, tmp_path, "worker", ready="worker ready")
        # GitHub redelivering an accepted delivery after the restart starts nothing new.
        assert await post(env, delivery, fake_github, 1, "delivery-1") == 200
        await settled(store_for(env["PYSTD_QUEUE_URL"]))
    finally:
        codes = [await stop(p) for p in {server, victim}]
    assert all(code in (0, -signal.SIGKILL) for code in codes), codes
    for head, number in ((HEAD, 1), (HEAD2, 2)):
        runs = [r for r in fake_github.check_runs(OWNER, REPO) if r.head_sha == head]
        assert [(r.status, r.conclusion) for r in runs] == [("completed", "failure")], head
        assert len(fake_github.reviews(OWNER, REPO, number)) == 1
    fake_github.take_violations()  # the held answer's connection was cut by the kill
