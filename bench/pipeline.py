"""GitHub App pipeline benchmark: signed deliveries in, completed check runs out.

    python bench/pipeline.py [--corpus .bench/corpus] [--files 40] [--latency 0.05]
                             [--prs 10] [--pings 200] [--json OUT]
                             [--timeout 120] [--profile OUT]

Runs the real server (`bot.app.create_app` with real `Settings` and its process pool)
on 127.0.0.1 against the fake GitHub of the test suite (tests/github_fake), served on
127.0.0.1 with `--latency` seconds added to every API call. Every pull request changes
the same `--files` real Python files of the corpus (bench/corpus.sh): each is a "modified"
file whose base is the file with a block of lines removed, so the patch is realistic and
findings land on changed lines. A marker line per pull request keeps every blob distinct,
so the bot's blob cache never hides a fetch.

One warm-up pull request in another installation starts the engine's worker processes
first. Then `--prs` pull_request "opened" deliveries (distinct pull requests of one
repository) and `--pings` ping deliveries are posted one at a time, the pull requests
spread evenly among the pings, so most answers are timed while reviews are running.

Measured: the webhook answer time (POST /webhook until the answer is read), the time from
each pull request's delivery to its completed check run (a hook on the fake's responses
sets an asyncio.Event), and the API calls the fake received per pull request, by kind,
with installation-token exchanges counted apart. A Markdown table goes to stdout,
progress to stderr. Targets: answer p99 < 50 ms, completed check run < 2 s, API calls
per pull request <= changed files + 6.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import os
import resource
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
# Run as `python bench/pipeline.py`, bench/ comes first on the path, where bench/queue.py
# would stand in for the standard library's `queue` (the bot's process pool imports it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:  # run from a checkout: the fake GitHub lives in tests/
    sys.path.insert(0, str(ROOT))

from bench.pipeline_calls import Answered, Attribution, Measured, timing_hook  # noqa: E402
from bench.pipeline_changes import (  # noqa: E402
    MIN_LINES,
    OWNER,
    REPO,
    WARMUP_OWNER,
    WARMUP_REPO,
    PullRequest,
    SourceFile,
    add_pull_requests,
    pick_files,
)
from bench.pipeline_report import report, summarise  # noqa: E402
from pystd.bot.app import create_app  # noqa: E402
from pystd.bot.settings import Settings  # noqa: E402
from tests.github_fake import (  # noqa: E402
    APP_ID,
    FakeGitHub,
    app_private_key_pem,
    delivery,
)

WARMUP_FILES = 4


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start `app` on a free port of 127.0.0.1; (runner, base URL)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def post(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
               body: bytes) -> tuple[float, int]:
    """POST one delivery; (seconds until the whole answer was read, status)."""
    start = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        status = response.status
    return time.perf_counter() - start, status


def schedule(prs: int, pings: int) -> list[int | None]:
    """Delivery order: None for a ping, else the index of a pull request, spread evenly."""
    total = prs + pings
    slots = {math.floor(i * total / prs) for i in range(prs)} if prs else set()
    order: list[int | None] = []
    pr = 0
    for slot in range(total):
        if slot in slots:
            order.append(pr)
            pr += 1
        else:
            order.append(None)
    return order


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def run(args: argparse.Namespace, sources: list[SourceFile]) -> dict[str, Any]:
    secret = secrets.token_hex(16)  # this run's webhook secret; never leaves 127.0.0.1
    pem = app_private_key_pem()
    gh = FakeGitHub(private_key_pem=pem)
    answered: list[Answered] = []
    warm = add_pull_requests(gh, WARMUP_OWNER, WARMUP_REPO, sources[:WARMUP_FILES], range(1, 2))
    pulls = add_pull_requests(gh, OWNER, REPO, sources, range(1, args.prs + 1))
    attribute = Attribution(gh, pulls)
    watched = {p.head_sha: p for p in [*warm, *pulls]}
    gh.app.on_response_prepare.append(timing_hook(gh, attribute, watched, answered))
    gh.latency = args.latency
    settings = Settings(app_id=APP_ID, private_key=pem, webhook_secret=secret,
                        github_api_url="http://127.0.0.1", host="127.0.0.1",
                        queue_url=os.environ.get("PYSTD_QUEUE_URL", "memory://"),
                        _env_file=None)  # tuning (PYSTD_WORKERS, ...) still comes from env
    m = Measured()
    profiler = cProfile.Profile() if args.profile else None
    children0 = _children_cpu()
    fake_runner, gh.url = await serve(gh.app)
    bot_runner: web.AppRunner | None = None
    try:
        settings = settings.model_copy(update={"github_api_url": gh.url})
        bot_runner, bot_url = await serve(create_app(settings))
        hook_url = f"{bot_url}/webhook"

        def opened(owner: str, repo: str, pr: PullRequest) -> tuple[dict[str, str], bytes]:
            return delivery("pull_request", "opened.payload.json", secret=secret,
                            overrides=gh.pull_request_overrides(owner, repo, pr.number))

        # Built before the clock starts: payload schema validation is the fake's cost.
        pr_deliveries = [opened(OWNER, REPO, pr) for pr in pulls]
        pings = [delivery("ping", "payload.json", secret=secret) for _ in range(args.pings)]
        async with aiohttp.ClientSession() as session:
            say("warm-up pull request (starts the engine's worker processes) ...")
            _, status = await post(session, hook_url, *opened(WARMUP_OWNER, WARMUP_REPO,
                                                             warm[0]))
            if status != 202:
                raise SystemExit(f"warm-up delivery answered {status}, expected 202")
            await asyncio.wait_for(warm[0].event.wait(), args.timeout)
            m.first_request = len(gh.requests)
            answered.clear()
            say(f"{args.prs} pull request(s) of {len(sources)} files, {args.pings} ping(s), "
                f"latency {args.latency * 1000:.0f} ms ...")
            ping_iter = iter(pings)
            cpu0 = time.process_time()
            if profiler is not None:
                profiler.enable()
            m.started = time.perf_counter()
            load0 = os.getloadavg()[0]
            for item in schedule(args.prs, args.pings):
                if item is None:
                    seconds, status = await post(session, hook_url, *next(ping_iter))
                    kind = "ping"
                else:
                    pulls[item].delivered_at = time.perf_counter()
                    seconds, status = await post(session, hook_url, *pr_deliveries[item])
                    kind = "pull_request"
                m.answers[kind].append(seconds)
                m.statuses[f"{kind} {status}"] += 1
            m.sent_all = time.perf_counter()
            say("waiting for the check runs ...")
            try:
                await asyncio.wait_for(asyncio.gather(*(p.event.wait() for p in pulls)),
                                       args.timeout)
            except TimeoutError:
                say(f"warning: not every check run completed within {args.timeout:.0f} s")
            m.finished = time.perf_counter()
            if profiler is not None:
                profiler.disable()
            m.cpu_main = time.process_time() - cpu0
            m.load = (load0, os.getloadavg()[0])
    finally:
        if bot_runner is not None:
            await bot_runner.cleanup()  # drains the job queue, stops the process pool
        await fake_runner.cleanup()
    m.cpu_workers = _children_cpu() - children0  # the pool's workers are reaped by now
    if profiler is not None:
        profiler.dump_stats(args.profile)
        say(f"profile of this process written to {args.profile}")
    return summarise(args, settings, gh, pulls, attribute, answered, m, sources)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / ".bench" / "corpus",
                        help="directory of Python packages (default: .bench/corpus)")
    parser.add_argument("--files", type=int, default=40, help="changed files per pull request")
    parser.add_argument("--latency", type=float, default=0.05,
                        help="seconds the fake GitHub adds to every API call (default 0.05)")
    parser.add_argument("--prs", type=int, default=10, help="pull requests (default 10)")
    parser.add_argument("--pings", type=int, default=200, help="ping deliveries (default 200)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds to wait for every check run (default 120)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers here")
    parser.add_argument("--profile", type=Path, metavar="OUT",
                        help="write a cProfile of this process (measured part) to OUT")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"{args.corpus} is not a directory (run bench/corpus.sh)")
    if args.files < 1 or args.prs < 1 or args.pings < 0 or args.latency < 0:
        parser.error("--files and --prs must be >= 1, --pings and --latency >= 0")
    say(f"picking {args.files} files from {args.corpus} ...")
    sources = pick_files(args.corpus.resolve(), args.files)
    if len(sources) < args.files:
        parser.error(f"only {len(sources)} files of more than {MIN_LINES} lines in the corpus")
    result = asyncio.run(run(args, sources))
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0 if result["completed"] == result["prs"] else 1


if __name__ == "__main__":
    sys.exit(main())
