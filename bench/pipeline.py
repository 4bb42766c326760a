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
import hashlib
import itertools
import json
import math
import os
import re
import resource
import secrets
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout: the fake GitHub lives in tests/
    sys.path.insert(0, str(ROOT))

from bot.app import create_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from rules.catalogue import select_rules  # noqa: E402
from rules.runner import FileInput, check_inputs  # noqa: E402
from tests.github_fake import (  # noqa: E402
    APP_ID,
    FakeFile,
    FakeGitHub,
    app_private_key_pem,
    delivery,
    git_blob_sha,
)

TARGET_ANSWER_P99_MS = 50.0
TARGET_COMPLETED_S = 2.0
TARGET_EXTRA_CALLS = 6  # API calls per pull request <= changed files + this
MIN_LINES = 50  # corpus files must be longer than this
BLOCK_LINES = 12  # lines removed from each file to make its base version
OWNER, REPO = "pystd-bench", "backend"
WARMUP_OWNER, WARMUP_REPO = "pystd-warmup", "warmup"
WARMUP_FILES = 4
TOKEN_PATH = re.compile(r"^/app/installations/\d+/access_tokens$")
REPO_PATH = r"^/(?:repos/[^/]+/[^/]+|repositories/\d+)"
KINDS: tuple[tuple[str, re.Pattern[str], str], ...] = (  # (method, path, kind)
    ("POST", re.compile(REPO_PATH + r"/check-runs$"), "check run: create"),
    ("PATCH", re.compile(REPO_PATH + r"/check-runs/(?P<run>\d+)$"), "check run: update"),
    ("GET", re.compile(REPO_PATH + r"/pulls/(?P<number>\d+)/files$"), "pull: list files"),
    ("GET", re.compile(REPO_PATH + r"/pulls/(?P<number>\d+)/comments$"),
     "pull: list review comments"),
    ("POST", re.compile(REPO_PATH + r"/pulls/(?P<number>\d+)/reviews$"), "pull: create review"),
    ("GET", re.compile(REPO_PATH + r"/pulls/(?P<number>\d+)$"), "pull: get"),
    ("GET", re.compile(REPO_PATH + r"/git/blobs/(?P<sha>[0-9a-f]+)$"), "blob"),
    ("GET", re.compile(REPO_PATH + r"/contents/(?P<path>.+)$"), "config: "),
)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the pull requests ---------------------------------------------------------------------

@dataclass(frozen=True)
class SourceFile:
    path: str  # path inside the pull request, e.g. django/db/models/query.py
    text: str
    first_finding: int | None  # 1-based line of the first finding in the whole file


def pick_files(corpus: Path, count: int) -> list[SourceFile]:
    """`count` files longer than MIN_LINES lines, sorted by path. The corpus's packages are
    taken in turn, each in sorted order (django, fastapi, flask, django, ...); up to half
    of the files are those with a finding (framework code has few), the rest come first
    in that order. Deterministic for a given corpus and rule set."""
    per_package: list[list[tuple[str, str]]] = []
    for package in sorted(p for p in corpus.iterdir() if p.is_dir()):
        files = []
        for path in sorted(package.rglob("*.py")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if text.count("\n") > MIN_LINES:
                files.append((path.relative_to(package).as_posix(), text))
        per_package.append(files)
    order = [f for group in itertools.zip_longest(*per_package) for f in group if f]
    texts = dict(order)
    results = check_inputs([FileInput(path, text.encode()) for path, text in order],
                           select_rules())
    first = {r.path: min(f.line for f in r.findings) for r in results if r.findings}
    chosen = sorted(first)[:count // 2]
    chosen += [path for path, _ in order if path not in first][:count - len(chosen)]
    return [SourceFile(path, texts[path], first.get(path)) for path in sorted(chosen)]


def change_of(source: SourceFile, label: str) -> FakeFile:
    """The file as one pull request changes it: the head is the real file plus a marker
    line naming `label` (a distinct blob per pull request); the base lacks BLOCK_LINES lines
    around the first finding (or the middle of the file), so those lines are added."""
    text = source.text if source.text.endswith("\n") else source.text + "\n"
    head = f"{text}# pystd-bench: {label}\n"
    lines = text.splitlines(keepends=True)
    size = min(BLOCK_LINES, len(lines) // 4)
    centre = (source.first_finding or len(lines) // 2) - 1
    start = max(0, min(centre - size // 2, len(lines) - size))
    base = "".join(lines[:start] + lines[start + size:])
    return FakeFile(source.path, status="modified", content=head, base_content=base)


def sha_of(label: str) -> str:
    return hashlib.sha1(label.encode(), usedforsecurity=False).hexdigest()


@dataclass
class PullRequest:
    number: int
    head_sha: str
    base_sha: str
    blobs: frozenset[str]
    lines: int
    event: asyncio.Event = field(default_factory=asyncio.Event)
    delivered_at: float | None = None
    created_at: float | None = None  # check run created (in_progress): the job started
    completed_at: float | None = None


def add_pull_requests(gh: FakeGitHub, owner: str, repo: str, sources: list[SourceFile],
                      numbers: range) -> list[PullRequest]:
    pulls = []
    for number in numbers:
        files = [change_of(s, f"{owner}/{repo}#{number}") for s in sources]
        head = sha_of(f"{owner}/{repo} head {number}")
        base = sha_of(f"{owner}/{repo} base {number}")
        gh.add_pull_request(owner, repo, number, head_sha=head, base_sha=base, files=files,
                            title=f"Benchmark change {number}")
        contents = [f.content.encode() for f in files if isinstance(f.content, str)]
        pulls.append(PullRequest(number, head, base,
                                 frozenset(git_blob_sha(c) for c in contents),
                                 sum(c.count(b"\n") for c in contents)))
    return pulls


# -- attributing the fake's requests to pull requests ----------------------------------------

@dataclass
class Attribution:
    """Which pull request a request to the fake belongs to, from its path, query or body."""

    gh: FakeGitHub
    pulls: list[PullRequest]
    by_head: dict[str, PullRequest] = field(init=False)
    by_base: dict[str, PullRequest] = field(init=False)
    by_blob: dict[str, PullRequest] = field(init=False)
    by_number: dict[int, PullRequest] = field(init=False)

    prefixes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        repo = self.gh.find_repository(OWNER, REPO)
        self.prefixes = (f"/repos/{OWNER}/{REPO}/",
                         f"/repositories/{repo.id if repo else 0}/")
        self.by_head = {p.head_sha: p for p in self.pulls}
        self.by_base = {p.base_sha: p for p in self.pulls}
        self.by_blob = {sha: p for p in self.pulls for sha in p.blobs}
        self.by_number = {p.number: p for p in self.pulls}

    def run_head(self, run_id: int) -> str | None:
        repo = self.gh.find_repository(OWNER, REPO)
        run = repo.check_runs.get(run_id) if repo is not None else None
        return run.head_sha if run is not None else None

    def __call__(self, method: str, path: str, query: dict[str, str], body: Any
                 ) -> tuple[PullRequest | None, str]:
        if method == "POST" and TOKEN_PATH.match(path):
            return None, "token exchange"
        if not path.startswith(self.prefixes):  # another repository (the warm-up's)
            return None, f"other: {method} {path}"
        for kind_method, pattern, kind in KINDS:
            match = pattern.match(path)
            if match is None or method != kind_method:
                continue
            groups = match.groupdict()
            pr: PullRequest | None = None
            if "number" in groups:
                pr = self.by_number.get(int(groups["number"]))
            elif "run" in groups:
                pr = self.by_head.get(self.run_head(int(groups["run"])) or "")
            elif "sha" in groups:
                pr = self.by_blob.get(groups["sha"])
            elif "path" in groups:
                pr = self.by_base.get(query.get("ref", ""))
                kind += groups["path"]
            elif isinstance(body, dict):
                pr = self.by_head.get(str(body.get("head_sha")))
            return pr, kind
        return None, f"other: {method} {path}"


# -- timing the fake's answers ---------------------------------------------------------------

@dataclass
class Answered:
    at: float
    pr: int | None
    kind: str
    status: int


RUN_PATH = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/check-runs/(?P<run>\d+)$")


def timing_hook(gh: FakeGitHub, attribute: Attribution, watched: dict[str, PullRequest],
                log: list[Answered]):
    """An `on_response_prepare` handler of the fake: notes when each answer leaves, and
    when the check run of a watched head sha is created and completed (setting its event)."""

    async def hook(request: web.Request, response: web.StreamResponse) -> None:
        now = time.perf_counter()
        body: Any = None
        if request.method == "POST" and request.path.endswith("/check-runs"):
            try:
                body = json.loads(await request.read())
            except ValueError:
                body = None
        pr, kind = attribute(request.method, request.path, dict(request.query), body)
        log.append(Answered(now, pr.number if pr else None, kind, response.status))
        if response.status >= 300:
            return
        if isinstance(body, dict):
            created = watched.get(str(body.get("head_sha")))
            if created is not None and created.created_at is None:
                created.created_at = now
        match = RUN_PATH.match(request.path) if request.method == "PATCH" else None
        repo = gh.find_repository(match["owner"], match["repo"]) if match else None
        run = repo.check_runs.get(int(match["run"])) if repo and match else None
        if run is not None and run.status == "completed" and run.head_sha in watched:
            done = watched[run.head_sha]
            if done.completed_at is None:
                done.completed_at = now
            done.event.set()

    return hook


# -- servers --------------------------------------------------------------------------------

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


@dataclass
class Measured:
    """What one run observed, besides the fake's own state."""

    answers: dict[str, list[float]] = field(
        default_factory=lambda: {"pull_request": [], "ping": []})  # seconds, by event
    statuses: Counter[str] = field(default_factory=Counter)
    first_request: int = 0  # index into the fake's requests where the measured part starts
    started: float = 0.0
    sent_all: float = 0.0
    finished: float = 0.0
    cpu_main: float = 0.0  # this process: the bot, the fake and the client, one event loop
    cpu_workers: float = 0.0  # the bot's engine processes (warm-up included)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after


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


# -- the numbers ----------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values) if values else math.nan,
            "max": max(values) if values else math.nan,
            "min": min(values) if values else math.nan}


def summarise(args: argparse.Namespace, settings: Settings, gh: FakeGitHub,
              pulls: list[PullRequest], attribute: Attribution, answered: list[Answered],
              m: Measured, sources: list[SourceFile]) -> dict[str, Any]:
    answers = m.answers
    requests = gh.requests[m.first_request:]
    calls: dict[int, Counter[str]] = defaultdict(Counter)
    unattributed: Counter[str] = Counter()
    for r in requests:
        pr, kind = attribute(r.method, r.path, r.query, r.json)
        if pr is None:
            unattributed[kind] += 1
        else:
            calls[pr.number][kind] += 1
    token_calls = unattributed.pop("token exchange", 0)
    per_pr = [sum(calls[p.number].values()) for p in pulls]
    kinds = sorted({k for c in calls.values() for k in c}, key=_kind_order)
    breakdown = {k: spread([float(calls[p.number][k]) for p in pulls]) for k in kinds}

    repo = gh.find_repository(OWNER, REPO)
    runs = {r.head_sha: r for r in (repo.check_runs.values() if repo else ())}
    done = [p for p in pulls if p.completed_at is not None and p.delivered_at is not None]
    to_complete = [p.completed_at - p.delivered_at for p in done]  # type: ignore[operator]
    waits = [p.created_at - p.delivered_at for p in done if p.created_at]  # type: ignore[operator]
    runs_for = [p.completed_at - p.created_at for p in done if p.created_at]  # type: ignore[operator]
    all_answers = answers["pull_request"] + answers["ping"]
    ms = [a * 1000 for a in all_answers]
    budget = len(sources) + TARGET_EXTRA_CALLS
    return {
        "python": sys.version.split()[0], "cpus": os.cpu_count(), "load_average": m.load,
        "corpus": str(args.corpus), "files": len(sources),
        "lines_per_pr": statistics.median(p.lines for p in pulls) if pulls else 0,
        "prs": len(pulls), "pings": args.pings, "latency_s": args.latency,
        "settings": {"engine_workers": settings.engine_workers,
                     "concurrent_jobs": settings.concurrent_jobs,
                     "blob_concurrency": settings.blob_concurrency,
                     "writes_per_minute": settings.writes_per_minute},
        "answer_ms": {"all": {"p50": percentile(ms, 50), "p99": percentile(ms, 99),
                              "max": max(ms, default=math.nan), "count": len(ms)},
                      **{kind: {"p50": percentile([a * 1000 for a in v], 50),
                                "p99": percentile([a * 1000 for a in v], 99),
                                "max": max((a * 1000 for a in v), default=math.nan),
                                "count": len(v)} for kind, v in answers.items()}},
        "answer_statuses": dict(m.statuses),
        "answers_ms": {kind: [round(a * 1000, 3) for a in v] for kind, v in answers.items()},
        "delivery_to_completed_s": spread(to_complete),
        "delivery_to_started_s": spread(waits),
        "started_to_completed_s": spread(runs_for),
        "completed": len(done),
        "deliveries_sent_s": m.sent_all - m.started,
        "wall_s": m.finished - m.started,
        "cpu_s": {"main_process": m.cpu_main, "engine_workers": m.cpu_workers},
        "api_calls_per_pr": {**spread([float(n) for n in per_pr]), "budget": budget},
        "api_calls_by_kind": breakdown,
        "token_exchanges": token_calls,
        "unattributed_calls": dict(unattributed),
        "timeline_ms": timeline(pulls, answered, args.latency),
        "conclusions": dict(Counter(runs[p.head_sha].conclusion or runs[p.head_sha].status
                                    for p in pulls if p.head_sha in runs)),
        "annotations_per_pr": spread([float(len(runs[p.head_sha].annotations))
                                      for p in pulls if p.head_sha in runs]),
        "review_comments_per_pr": spread([float(len(gh.review_comments(OWNER, REPO, p.number)))
                                          for p in pulls]),
        "violations": [f"{v.method} {v.path} {v.status}: {v.message[:200]}"
                       for v in gh.violations],
        "targets": {"answer_p99_ms": TARGET_ANSWER_P99_MS, "completed_s": TARGET_COMPLETED_S,
                    "api_calls_per_pr": budget},
    }


def _kind_order(kind: str) -> tuple[int, str]:
    order = ["check run: create", "pull: list files", "config: ", "blob",
             "pull: list review comments", "pull: create review", "check run: update"]
    for i, prefix in enumerate(order):
        if kind.startswith(prefix):
            return i, kind
    return len(order), kind


def timeline(pulls: list[PullRequest], answered: list[Answered], latency: float
             ) -> list[dict[str, Any]]:
    """Per kind of call, the median over pull requests of: calls, when the first one was
    sent (its answer time minus the fake's latency), when the last answer left, and the
    gap before the first one (since the previous calls' last answer: the bot's own time),
    in ms after the job started (its check-run POST was sent)."""
    rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for pr in pulls:
        if pr.created_at is None:
            continue
        start = pr.created_at - latency
        mine = [a for a in answered if a.pr == pr.number]
        spans = {}
        for kind in {a.kind for a in mine}:
            stamps = [a.at for a in mine if a.kind == kind]
            spans[kind] = (min(stamps) - latency - start, max(stamps) - start, len(stamps))
        for kind, (first, last, n) in spans.items():
            before = [end for other, (begin, end, _) in spans.items()
                      if other != kind and begin < first]
            row = rows[kind]
            row["calls"].append(float(n))
            row["first_sent"].append(first * 1000)
            row["last_answer"].append(last * 1000)
            row["gap_before"].append((first - max(before, default=0.0)) * 1000)
    out = []
    for kind in sorted(rows, key=lambda k: statistics.median(rows[k]["first_sent"])):
        out.append({"kind": kind, **{name: statistics.median(v)
                                     for name, v in rows[kind].items()}})
    return out


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def _ok(passed: bool) -> str:
    return "yes" if passed else "**NO**"


def report(r: dict[str, Any]) -> str:
    s, a = r["settings"], r["answer_ms"]
    done, calls, budget = r["delivery_to_completed_s"], r["api_calls_per_pr"], r["targets"]
    rows = [
        ("Load", f"{r['prs']} pull requests x {r['files']} modified files "
                 f"(~{r['lines_per_pr']:,.0f} lines each), {r['pings']} pings, one delivery at "
                 f"a time; fake GitHub latency {r['latency_s'] * 1000:.0f} ms per call", ""),
        ("Bot settings", f"{s['engine_workers']} engine workers, {s['concurrent_jobs']} "
                         f"concurrent jobs, blob concurrency {s['blob_concurrency']}", ""),
        (f"Webhook answer p50 / p99 (all {a['all']['count']} deliveries)",
         f"{a['all']['p50']:.1f} / {a['all']['p99']:.1f} ms (max {a['all']['max']:.1f})",
         f"p99 < {budget['answer_p99_ms']:.0f} ms: "
         f"{_ok(a['all']['p99'] < budget['answer_p99_ms'])}"),
        ("... pull_request / ping p99; answers",
         f"{_ms(a['pull_request']['p99'])} / {_ms(a['ping']['p99'])} ms; " + ", ".join(
             f"{n} x {k}" for k, n in sorted(r["answer_statuses"].items())), ""),
        ("Delivery -> completed check run, median / max",
         f"{done['median']:.2f} / {done['max']:.2f} s ({r['completed']}/{r['prs']} completed)",
         f"< {budget['completed_s']:.0f} s: "
         f"{_ok(r['completed'] == r['prs'] and done['max'] < budget['completed_s'])}"),
        ("... delivery -> check run created (queue wait), median / max",
         f"{r['delivery_to_started_s']['median']:.2f} / "
         f"{r['delivery_to_started_s']['max']:.2f} s", ""),
        ("... created -> completed (the job), median / max",
         f"{r['started_to_completed_s']['median']:.2f} / "
         f"{r['started_to_completed_s']['max']:.2f} s", ""),
        ("All check runs completed after the first delivery",
         f"{r['wall_s']:.2f} s; CPU: {r['cpu_s']['main_process']:.2f} s in the bot's "
         f"process (bot, fake and client share it), {r['cpu_s']['engine_workers']:.2f} s "
         f"in the engine workers", ""),
        ("GitHub API calls per pull request, median / max",
         f"{calls['median']:.0f} / {calls['max']:.0f} (token exchanges apart)",
         f"<= {calls['budget']} ({r['files']} files + {TARGET_EXTRA_CALLS}): "
         f"{_ok(calls['max'] <= calls['budget'])}"),
        ("Installation token exchanges (whole run)", f"{r['token_exchanges']}", ""),
        ("Check runs", ", ".join(f"{n} {c}" for c, n in sorted(r["conclusions"].items()))
         + f"; {r['annotations_per_pr']['median']:.0f} annotations and "
           f"{r['review_comments_per_pr']['median']:.0f} review comments per PR (median)", ""),
        ("Requests GitHub would refuse", f"{len(r['violations'])}", ""),
    ]
    load = r["load_average"]
    out = [f"Python {r['python']}, {r['cpus']} CPUs, load average {load[0]:.2f} before and "
           f"{load[1]:.2f} after the measured part\n", "| Measure | Value | Target |",
           "|---|---|---|"]
    out += [f"| {x} | {y} | {z} |" for x, y, z in rows]
    out += ["", "| API call (per pull request) | Calls, median (max) | First sent | "
                "Last answer | Bot's time before |", "|---|---|---|---|---|"]
    by_kind = r["api_calls_by_kind"]
    times = {t["kind"]: t for t in r["timeline_ms"]}
    for kind in [*times, *(k for k in by_kind if k not in times)]:
        n, t = by_kind.get(kind, {"median": 0, "max": 0}), times.get(kind)
        when = (f"+{t['first_sent']:.0f} ms", f"+{t['last_answer']:.0f} ms",
                f"{t['gap_before']:.0f} ms") if t else ("", "", "")
        out.append(f"| {kind} | {n['median']:.0f} ({n['max']:.0f}) | " + " | ".join(when) + " |")
    out.append(f"| **total** | {calls['median']:.0f} ({calls['max']:.0f}) | | | |")
    out.append("\nTimes: medians over the pull requests, after the job started (its check-run "
               "POST was sent); \"first sent\" is the first answer minus the latency; "
               "\"bot's time before\" runs from the previous calls' last answer to this "
               "kind's first request (the engine's run shows before the review calls).")
    if r["unattributed_calls"]:
        out.append("Unattributed calls: " + ", ".join(
            f"{k} x{n}" for k, n in sorted(r["unattributed_calls"].items())))
    for violation in r["violations"][:5]:
        out.append(f"Refused: {violation}")
    return "\n".join(out)


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
