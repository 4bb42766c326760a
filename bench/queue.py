"""Job queue benchmark: a burst of signed deliveries against the real server, per store
and number of workers.

    python -m bench.queue [--deliveries 100] [--prs 20] [--files 20] [--workers 1 2]
                          [--stores sqlite postgresql] [--in-flight 100] [--json OUT]

(A module, not a script: a script named queue.py would hide the standard library's
`queue`.) Runs `bot.app.create_app` on 127.0.0.1 against the fake GitHub of the test suite,
in this process and only queueing (`--workers 0`), with the queue on SQLite (a file in a
temporary folder) or PostgreSQL (a throw-away cluster started with the machine's
`initdb`/`pg_ctl`, skipped when there are none); `--workers` `pystd worker` processes (one
job and one engine process each) run the reviews. Each of `--prs` pull requests adds
`--files` files of examples/shop (CPU-bound reviews); `--deliveries` `synchronize`
deliveries go out at once (`--in-flight` of them together), spread over the pull requests
(several pushes each).

Reported per run: deliveries accepted (202), jobs processed, coalesced (a waiting push
replaced by a newer one) and lost (accepted, yet neither processed nor coalesced), pull
requests without a completed check run, ack latency p50/p99 (the durable write included),
delivery -> completed p50/p99, and the burst's wall time (throughput). First, the engine
CPU of a second push that changes 1 of 40 files, as a share of the first review's (the
per-file results come from the store).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout: the fake GitHub lives in tests/
    sys.path.insert(0, str(ROOT))

from bench.faults import BASE_SHA, EXAMPLE, OWNER, REPO  # noqa: E402
from bench.pipeline import serve  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.result_cache import CachingEngine  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store.base import DONE, SUPERSEDED  # noqa: E402
from bot.store.memory import MemoryStore  # noqa: E402
from bot.webhooks import SERVICES  # noqa: E402
from rules.config import PystdConfig  # noqa: E402
from rules.runner import FileInput  # noqa: E402
from tests.bot.postgres import NoPostgres, throwaway_cluster  # noqa: E402
from tests.github_fake import (  # noqa: E402
    APP_ID,
    FakeFile,
    FakeGitHub,
    app_private_key_pem,
    delivery,
)

DRAINS: set[asyncio.Task[None]] = set()  # readers of the workers' logs, until they exit
SOURCES = ("api/main.py", "shop/views.py", "legacy/app.py", "shop/models.py")


@dataclass
class Figures:
    store: str
    workers: int
    in_flight: int
    accepted: int
    processed: int
    coalesced: int
    lost: int
    prs_without_completed_run: int
    ack_p50_ms: float
    ack_p99_ms: float
    completed_p50_s: float
    completed_p99_s: float
    wall_s: float


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def add_pr(gh: FakeGitHub, number: int, files: int) -> str:
    """Pull request `number` adding `files` files (examples/shop's, each with a marker
    line so that no two blobs are alike); its head sha."""
    head = f"{number:040x}"
    changed = [FakeFile(f"pkg{k}/{path.replace('/', '_')}", status="added",
                        content=(EXAMPLE / path).read_text() + f"# pr {number} file {k}\n")
               for k, path in zip(range(files), itertools.cycle(SOURCES), strict=False)]
    gh.add_pull_request(OWNER, REPO, number, head_sha=head, base_sha=BASE_SHA, files=changed)
    return head


async def start_workers(count: int, env: dict[str, str]) -> list[asyncio.subprocess.Process]:
    """`count` `pystd worker` processes (one job at a time, one engine process each),
    once each says it is ready."""
    procs = []
    for _ in range(count):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "worker", "--workers", "1", env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        assert proc.stderr is not None
        while True:
            line = await proc.stderr.readline()
            if not line:
                raise SystemExit("pystd worker exited before it was ready")
            if json.loads(line).get("message") == "worker ready":
                break
        DRAINS.add(asyncio.get_running_loop().create_task(_drain(proc)))
        procs.append(proc)
    return procs


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stderr is not None
    while await proc.stderr.readline():
        pass


async def burst(store: str, url: str, workers: int, args: argparse.Namespace) -> Figures:
    """One burst: the server in this process only queues; `workers` `pystd worker`
    processes review."""
    secret = secrets.token_hex(16)  # signs this run's deliveries only
    pem = app_private_key_pem()
    gh = FakeGitHub(private_key_pem=pem)
    gh.writes_per_minute = gh.writes_per_hour = 10**6
    fake_runner, gh.url = await serve(gh.app)
    settings = Settings(app_id=APP_ID, private_key=pem, webhook_secret=secret,
                        github_api_url=gh.url, writes_per_minute=10**6, queue_url=url,
                        queue_poll_interval=0.2, _env_file=None)
    app = create_app(settings, workers=0)
    bot_runner, bot_url = await serve(app)
    env = {**os.environ, "PYSTD_APP_ID": str(APP_ID), "PYSTD_PRIVATE_KEY": pem,
           "PYSTD_WEBHOOK_SECRET": secret, "PYSTD_GITHUB_API_URL": gh.url,
           "PYSTD_QUEUE_URL": url, "PYSTD_WORKERS": "1", "PYSTD_QUEUE_POLL_INTERVAL": "0.2",
           "PYSTD_WRITES_PER_MINUTE": str(10**6)}
    procs = await start_workers(workers, env)
    try:
        heads = {n: add_pr(gh, n, args.files) for n in range(1, args.prs + 1)}
        acks: list[float] = []
        statuses: list[int] = []
        started = time.perf_counter()
        gate = asyncio.Semaphore(args.in_flight)
        async with aiohttp.ClientSession() as session:

            async def send(i: int) -> None:
                async with gate:
                    await post(i)

            async def post(i: int) -> None:
                number = i % args.prs + 1
                headers, body = delivery(
                    "pull_request", "synchronize.payload.json", secret=secret,
                    overrides=gh.pull_request_overrides(OWNER, REPO, number))
                sent = time.perf_counter()
                async with session.post(f"{bot_url}/webhook", data=body,
                                        headers=headers) as answer:
                    statuses.append(answer.status)
                acks.append(time.perf_counter() - sent)

            await asyncio.gather(*(send(i) for i in range(args.deliveries)))
        queue = app[SERVICES].queue
        await queue.join()  # the workers are other processes: this looks at the store
        wall = time.perf_counter() - started
        jobs = await queue.store.jobs(limit=10 * args.deliveries)
        done = [j for j in jobs if j.state == DONE]
        coalesced = sum(j.state == SUPERSEDED for j in jobs)
        accepted = statuses.count(202)
        latencies = [j.updated_at - j.created_at for j in done]
        missing = sum(
            not any(r.head_sha == head and r.status == "completed"
                    for r in gh.check_runs(OWNER, REPO))
            for head in heads.values())
        return Figures(
            store, workers, args.in_flight, accepted, len(done), coalesced,
            accepted - len(done) - coalesced,
            missing, round(percentile(acks, 0.5) * 1000, 1),
            round(percentile(acks, 0.99) * 1000, 1),
            round(percentile(latencies, 0.5), 2), round(percentile(latencies, 0.99), 2),
            round(wall, 2))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            await proc.wait()
        await asyncio.gather(*DRAINS)
        DRAINS.clear()
        await bot_runner.cleanup()
        await fake_runner.cleanup()


async def second_push_cost(files: int) -> float:
    """Engine CPU of a second push changing 1 of `files` files, as a share of the first
    review's (the engine in this process, its per-file results in a store)."""
    engine = CachingEngine(None, store=MemoryStore(), key=secrets.token_bytes(32))
    rules = PystdConfig().rule_set()
    sources = itertools.cycle(SOURCES)

    def inputs(changed: int | None) -> list[FileInput]:
        return [FileInput(f"pkg{k}/{path.replace('/', '_')}",
                          ((EXAMPLE / path).read_text() + f"# file {k}"
                           + (" pushed again" if k == changed else "") + "\n").encode())
                for k, path in zip(range(files), sources, strict=False)]

    first = time.process_time()
    await engine.check_files(inputs(None), rules)
    second = time.process_time()
    await engine.check_files(inputs(0), rules)
    end = time.process_time()
    return (end - second) / (second - first)


async def main(args: argparse.Namespace) -> list[Figures]:
    share = await second_push_cost(40)
    print(f"second push changing 1 of 40 files: {share:.1%} of the first review's engine CPU")
    results: list[Figures] = []
    for store in args.stores:
        cluster: AbstractContextManager = nullcontext()
        if store == "postgresql":
            cluster = throwaway_cluster()
        try:
            with cluster as pg, tempfile.TemporaryDirectory() as folder:
                for workers in args.workers:
                    url = (pg.fresh_database() if pg is not None
                           else f"sqlite:///{Path(folder) / f'queue-{workers}.db'}")
                    figures = await burst(store, url, workers, args)
                    print(json.dumps(asdict(figures)), flush=True)
                    results.append(figures)
        except NoPostgres as exc:
            print(f"{store}: skipped: {exc}", file=sys.stderr)
    for store in args.stores:
        walls = {f.workers: f.wall_s for f in results if f.store == store}
        if 1 in walls and 2 in walls:
            print(f"{store}: 2 workers vs 1: {walls[1] / walls[2]:.2f}x throughput")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=100)
    parser.add_argument("--prs", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"],
                        choices=("sqlite", "postgresql"))
    parser.add_argument("--files", type=int, default=20,
                        help="files each pull request adds (the reviews' CPU)")
    parser.add_argument("--in-flight", type=int, default=100,
                        help="deliveries sent at once (100: the whole burst together)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments))
    if arguments.json:
        arguments.json.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")
