"""Job queue benchmark: a burst of signed deliveries against the real server, per store
and number of workers.

    python -m bench.queue [--deliveries 100] [--prs 20] [--files 40] [--lines 150]
                          [--workers 1 2]
                          [--stores sqlite postgresql] [--in-flight 100] [--json OUT]

(A module, not a script: a script named queue.py would hide the standard library's
`queue`.) Every part runs in a process of its own, so that each figure is the part's own:
the fake GitHub of the test suite (bench/queue_fake.py), one `pystd serve --workers 0` on
127.0.0.1 that only queues, `--workers` `pystd worker` processes (one job and one engine
process each) that review, and this process, which only sends the deliveries (signed
before the clock starts) and reads the store. The queue is on SQLite (a file in a
temporary folder) or PostgreSQL (a throw-away cluster started with the machine's
`initdb`/`pg_ctl`, skipped when there are none). Each of `--prs` pull requests adds
`--files` files of about `--lines` lines (examples/shop's, repeated: CPU-bound reviews);
`--deliveries` `synchronize` deliveries go out at once (`--in-flight` of them together),
spread over the pull requests (several pushes each).

Reported per run: deliveries accepted (202), jobs processed, coalesced (a waiting push
replaced by a newer one) and lost (accepted, yet neither processed nor coalesced), pull
requests without a completed check run, ack latency p50/p99 (the durable write included),
delivery -> completed p50/p99, the burst's wall time (throughput), the CPU seconds the
workers (with their engine processes) and the fake GitHub used during it (from /proc on
Linux), and the machine's load average (1 minute) before the run, with its number of
CPUs: on a shared machine, figures mean little without them. Two workers can only be
faster than one when the machine gives them more CPU than one uses: the CPUs the workers
used (CPU seconds / wall) say whether it did. First, the engine CPU of a second push
that changes 1 of 40 files, as a share of the first review's (the per-file results come
from the store).
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

from bench.queue_fake import SOURCES, source  # noqa: E402
from pystd.bot.result_cache import CachingEngine  # noqa: E402
from pystd.bot.store import store_for  # noqa: E402
from pystd.bot.store.base import DONE, SUPERSEDED  # noqa: E402
from pystd.bot.store.memory import MemoryStore  # noqa: E402
from pystd.rules.config import PystdConfig  # noqa: E402
from pystd.rules.runner import FileInput  # noqa: E402
from tests.bot.postgres import NoPostgres, throwaway_cluster  # noqa: E402
from tests.github_fake import APP_ID, app_private_key_pem  # noqa: E402

DRAINS: set[asyncio.Task[None]] = set()  # readers of the processes' logs, until they exit
GUARD = 600.0  # seconds: only a hung process ever waits this long


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
    workers_cpu_s: float  # CPU of the workers and their engine processes in the burst
    fake_cpu_s: float  # CPU of the fake GitHub in the burst
    load_before: float
    cpus: int


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) so far of process `pid` and its live descendants, from
    /proc (0 where there is none): how much of the machine a part of the run got."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return own + sum(tree_cpu(int(child)) for child in children)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start(env: dict[str, str], *args: str, ready: str) -> asyncio.subprocess.Process:
    """`python -m ARGS`, once a JSON line of its stderr (pystd's log) says `ready`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    async with asyncio.timeout(GUARD):
        while True:
            line = await proc.stderr.readline()
            if not line:
                raise SystemExit(f"{' '.join(args)} exited before it was ready")
            if json.loads(line).get("message") == ready:
                break
    DRAINS.add(asyncio.get_running_loop().create_task(_drain(proc)))
    return proc


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stderr is not None
    while await proc.stderr.readline():
        pass


async def start_fake(env: dict[str, str], args: argparse.Namespace, out: Path
                     ) -> tuple[asyncio.subprocess.Process, str]:
    """bench/queue_fake.py in its own process; (process, its URL)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.queue_fake", "--prs", str(args.prs),
        "--files", str(args.files), "--lines", str(args.lines),
        "--deliveries", str(args.deliveries), "--out", str(out),
        env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    async with asyncio.timeout(GUARD):
        line = await proc.stdout.readline()
    if not line:
        raise SystemExit("the fake GitHub exited before it was ready")
    return proc, json.loads(line)["url"]


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(GUARD):
        await proc.wait()


async def drained(url: str) -> None:
    """Until the store holds no job running or due (looked at every 50 ms: the workers
    are other processes)."""
    store = store_for(url)
    await store.open()
    try:
        async with asyncio.timeout(GUARD):
            while True:
                if not (await store.stats(time.time())).busy:
                    return
                await asyncio.sleep(0.05)
    finally:
        await store.close()


async def burst(store: str, url: str, workers: int, args: argparse.Namespace,
                folder: Path) -> Figures:
    """One burst: `pystd serve --workers 0` only queues; `workers` `pystd worker`
    processes review; the fake GitHub answers them from its own process."""
    load = os.getloadavg()[0]
    secret = secrets.token_hex(16)  # signs this run's deliveries only
    pem = app_private_key_pem()
    port = free_port()
    env = {**os.environ, "PYSTD_APP_ID": str(APP_ID), "PYSTD_PRIVATE_KEY": pem,
           "PYSTD_WEBHOOK_SECRET": secret, "PYSTD_QUEUE_URL": url, "PYSTD_WORKERS": "1",
           "PYSTD_QUEUE_POLL_INTERVAL": "0.2", "PYSTD_WRITES_PER_MINUTE": str(10**6),
           "PYSTD_HOST": "127.0.0.1", "PYSTD_PORT": str(port)}
    out = folder / f"deliveries-{store}-{workers}.json"
    fake, env["PYSTD_GITHUB_API_URL"] = await start_fake(env, args, out)
    procs: list[asyncio.subprocess.Process] = [fake]
    try:
        procs.append(await start(env, "pystd.bot.cli", "serve", "--workers", "0",
                                 ready="listening"))
        for _ in range(workers):
            procs.append(await start(env, "pystd.bot.cli", "worker", "--workers", "1",
                                     ready="worker ready"))
        cpu_before = [tree_cpu(p.pid) for p in procs]
        signed = [(headers, body.encode()) for headers, body in json.loads(out.read_text())]
        acks: list[float] = []
        statuses: list[int] = []
        gate = asyncio.Semaphore(args.in_flight)
        connector = aiohttp.TCPConnector(limit=args.in_flight)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def post(headers: dict[str, str], body: bytes) -> None:
                async with gate:
                    sent = time.perf_counter()
                    async with session.post(f"http://127.0.0.1:{port}/webhook", data=body,
                                            headers=headers) as answer:
                        await answer.read()
                        statuses.append(answer.status)
                    acks.append(time.perf_counter() - sent)

            started = time.perf_counter()
            await asyncio.gather(*(post(h, b) for h, b in signed))
        await drained(url)
        wall = time.perf_counter() - started
        cpu = [tree_cpu(p.pid) - before for p, before in zip(procs, cpu_before, strict=True)]
        jobs = store_for(url)
        await jobs.open()
        try:
            found = await jobs.jobs(limit=10 * args.deliveries)
        finally:
            await jobs.close()
        done = [j for j in found if j.state == DONE]
        coalesced = sum(j.state == SUPERSEDED for j in found)
        accepted = statuses.count(202)
        latencies = [j.updated_at - j.created_at for j in done]
    finally:
        for proc in reversed(procs):
            await stop(proc)
        await asyncio.gather(*DRAINS)
        DRAINS.clear()
    assert fake.stdout is not None
    seen = json.loads((await fake.stdout.read()).decode().strip().splitlines()[-1])
    return Figures(
        store, workers, args.in_flight, accepted, len(done), coalesced,
        accepted - len(done) - coalesced, seen["prs_without_completed_run"],
        round(percentile(acks, 0.5) * 1000, 1), round(percentile(acks, 0.99) * 1000, 1),
        round(percentile(latencies, 0.5), 2), round(percentile(latencies, 0.99), 2),
        round(wall, 2), round(sum(cpu[2:]), 2), round(cpu[0], 2), round(load, 2),
        os.cpu_count() or 0)


async def second_push_cost(files: int, lines: int) -> float:
    """Engine CPU of a second push changing 1 of `files` files, as a share of the first
    review's (the engine in this process, its per-file results in a store)."""
    engine = CachingEngine(None, store=MemoryStore(), key=secrets.token_bytes(32))
    rules = PystdConfig().rule_set()
    sources = itertools.cycle(SOURCES)

    def inputs(changed: int | None) -> list[FileInput]:
        return [FileInput(f"pkg{k}/{path.replace('/', '_')}",
                          (source(path, lines) + f"# file {k}"
                           + (" pushed again" if k == changed else "") + "\n").encode())
                for k, path in zip(range(files), sources, strict=False)]

    first = time.process_time()
    await engine.check_files(inputs(None), rules)
    second = time.process_time()
    await engine.check_files(inputs(0), rules)
    end = time.process_time()
    return (end - second) / (second - first)


async def main(args: argparse.Namespace) -> list[Figures]:
    share = await second_push_cost(40, args.lines)
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
                    figures = await burst(store, url, workers, args, Path(folder))
                    print(json.dumps(asdict(figures)), flush=True)
                    results.append(figures)
        except NoPostgres as exc:
            print(f"{store}: skipped: {exc}", file=sys.stderr)
    for store in args.stores:
        runs = {f.workers: f for f in results if f.store == store}
        if 1 in runs and 2 in runs:
            one, two = runs[1], runs[2]
            print(f"{store}: 2 workers vs 1: {one.wall_s / two.wall_s:.2f}x throughput; "
                  f"the workers used {one.workers_cpu_s / one.wall_s:.2f} and "
                  f"{two.workers_cpu_s / two.wall_s:.2f} CPUs")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=100)
    parser.add_argument("--prs", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"],
                        choices=("sqlite", "postgresql"))
    parser.add_argument("--files", type=int, default=40,
                        help="files each pull request adds (the reviews' CPU)")
    parser.add_argument("--lines", type=int, default=150,
                        help="lines per file (examples/shop's files repeated; CPU-bound "
                             "reviews: the analysis, not the download, takes the time)")
    parser.add_argument("--in-flight", type=int, default=100,
                        help="deliveries sent at once (100: the whole burst together)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments))
    if arguments.json:
        arguments.json.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")
