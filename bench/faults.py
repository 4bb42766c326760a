"""Flaky-GitHub benchmark: one pull request replayed N times under random GitHub faults.

    python bench/faults.py [--runs 200] [--seed 8] [--rate 0.10] [--concurrency 10]
                           [--time-scale 0.01] [--json OUT]

Runs the real server (`bot.app.create_app`) on 127.0.0.1 against the fake GitHub of the
test suite (tests/github_fake). Each run is a distinct pull request adding the same real
files of examples/shop (a marker line per run keeps every blob distinct, so the blob cache
hides no fetch). A fault-free run first gives the reference: conclusion, annotations and
inline comments. Then `--rate` of all GitHub calls fail, a kind drawn from a seeded RNG:
502 before processing, 502 after processing, an answer held past the client's timeout,
a connection dropped before or after processing, a secondary rate limit (403 with
Retry-After), and on review POSTs a 422. Runs go `--concurrency` at a time, so the
order in which calls draw from the RNG (and thus the exact faults) can vary between runs
of the benchmark with the same seed.

Counted per head after every job and background completion has finished (the minute
sweep is not run, so it hides nothing): check runs left `in_progress`, duplicate check
runs, duplicate reviews, missing reviews, wrong conclusions and wrong annotation counts
(vs the reference), inline comments lost without being listed in the review body, and
requests GitHub would have refused (the fake's violations). Target: 0 of each.
Waits (backoff, Retry-After) are scaled by `--time-scale` through gidgethub's `sleep`
seam: a fake clock that keeps the run short; the request timeout is 0.8 s of real time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp
from gidgethub.abc import GitHubAPI

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout: the fake GitHub lives in tests/
    sys.path.insert(0, str(ROOT))

from bench.pipeline import serve  # noqa: E402
from pystd.bot.app import create_app  # noqa: E402
from pystd.bot.github import InstallationClient  # noqa: E402
from pystd.bot.settings import Settings  # noqa: E402
from pystd.bot.webhooks import SERVICES  # noqa: E402
from tests.github_fake import (  # noqa: E402
    APP_ID,
    LINE_NOT_RESOLVED,
    FakeFile,
    FakeGitHub,
    Fault,
    app_private_key_pem,
    delivery,
)

OWNER, REPO = "pystd-bench", "flaky"
FILES = ("api/main.py", "shop/views.py", "legacy/app.py")
EXAMPLE = ROOT / "examples" / "shop"
BASE_SHA = "b" * 40
REQUEST_TIMEOUT = 0.8  # seconds of real time per GitHub call (a loaded machine answers
# within it; a "slow" fault holds its answer 1 s, past it)
SLOW_HOLD = 0.5  # a "slow" answer comes this long after the request: past the timeout
RETRY_AFTER = (1, 5, 30, 60)  # seconds GitHub asks to wait (scaled by --time-scale)
REVIEW_422 = {"message": "Unprocessable Entity", "errors": [LINE_NOT_RESOLVED],
              "documentation_url": "https://docs.github.com/rest/pulls/reviews"}


@dataclass
class Figures:
    runs: int
    faults: Counter[str] = field(default_factory=Counter)
    left_in_progress: int = 0
    duplicate_check_runs: int = 0
    duplicate_reviews: int = 0
    missing_reviews: int = 0
    wrong_conclusions: int = 0
    wrong_annotations: int = 0
    comments_lost: int = 0
    comments_listed: int = 0  # refused inline, listed in the review body instead
    violations: int = 0
    github_calls: int = 0
    wall_seconds: float = 0.0
    reference: str = ""  # the fault-free run's outcome

    @property
    def failures(self) -> int:
        return (self.left_in_progress + self.duplicate_check_runs + self.duplicate_reviews
                + self.missing_reviews + self.wrong_conclusions + self.wrong_annotations
                + self.comments_lost + self.violations)


@dataclass(frozen=True)
class Expected:
    conclusion: str
    annotations: int
    comments: frozenset[tuple[str, int | None]]  # (path, line; None: a file comment)


def chaos(rng: random.Random, rate: float, served: Counter[str]):
    """A `FakeGitHub.chaos` hook: `rate` of the calls fail, the kind drawn from `rng`."""

    def pick(method: str, path: str) -> Fault | None:
        if rng.random() >= rate:
            return None
        kinds = ["502 before", "502 after", "slow", "reset", "reset after", "rate limit"]
        if method == "POST" and path.endswith("/reviews"):
            kinds.append("422 review")
        kind = rng.choice(kinds)
        served[kind] += 1
        if kind == "rate limit":
            return Fault("before", 403, {"Retry-After": str(rng.choice(RETRY_AFTER))})
        if kind == "422 review":
            return Fault("before", 422, body=REVIEW_422)
        return {"502 before": Fault("before"), "502 after": Fault("after"),
                "slow": Fault("slow"), "reset": Fault("reset"),
                "reset after": Fault("reset-after")}[kind]

    return pick


@asynccontextmanager
async def scaled_sleep(scale: float) -> AsyncIterator[None]:
    """Backoff and Retry-After waits run `scale` times faster (gidgethub's sleep seam)."""
    real = InstallationClient.sleep

    async def sleep(self: GitHubAPI, seconds: float) -> None:
        await asyncio.sleep(seconds * scale)

    InstallationClient.sleep = sleep  # type: ignore[method-assign]
    try:
        yield
    finally:
        InstallationClient.sleep = real  # type: ignore[method-assign]




def add_pull_request(gh: FakeGitHub, number: int) -> str:
    head = f"{number:040x}"
    files = [FakeFile(path, status="added",
                      content=(EXAMPLE / path).read_text() + f"# run {number}\n")
             for path in FILES]
    gh.add_pull_request(OWNER, REPO, number, head_sha=head, base_sha=BASE_SHA, files=files)
    return head


def expected_of(gh: FakeGitHub, number: int, head: str) -> Expected:
    (run,) = [r for r in gh.check_runs(OWNER, REPO) if r.head_sha == head]
    reviews = gh.reviews(OWNER, REPO, number)
    comments = frozenset((c.path, c.line) for r in reviews for c in r.comments)
    return Expected(str(run.conclusion), len(run.annotations), comments)


def judge(gh: FakeGitHub, number: int, head: str, expected: Expected, figures: Figures) -> None:
    runs = [r for r in gh.check_runs(OWNER, REPO) if r.head_sha == head]
    figures.left_in_progress += sum(1 for r in runs if r.status != "completed")
    figures.duplicate_check_runs += max(len(runs) - 1, 0)
    if len(runs) != 1 or runs[0].conclusion != expected.conclusion:
        figures.wrong_conclusions += 1
    figures.wrong_annotations += sum(1 for r in runs
                                     if len(r.annotations) != expected.annotations)
    reviews = gh.reviews(OWNER, REPO, number)
    figures.duplicate_reviews += max(len(reviews) - 1, 0)
    if not reviews:
        figures.missing_reviews += 1 if expected.comments else 0
        return
    inline = {(c.path, c.line) for r in reviews for c in r.comments}
    body = "\n".join(r.body for r in reviews)
    for path, line in expected.comments - inline:
        if f"`{path}:{line}`" in body:
            figures.comments_listed += 1
        else:
            figures.comments_lost += 1


async def replay(runs: int = 200, seed: int = 8, rate: float = 0.10, concurrency: int = 10,
                 time_scale: float = 0.01) -> Figures:
    """Replay the pull request `runs` times under random faults; the figures."""
    secret = secrets.token_hex(16)  # this run's webhook secret; never leaves 127.0.0.1
    pem = app_private_key_pem()
    gh = FakeGitHub(private_key_pem=pem)
    gh.add_repository(OWNER, REPO, files={"README.md": "bench\n"}, head_sha=BASE_SHA)
    gh.slow_seconds = SLOW_HOLD
    # GitHub's own write budget (80 a minute, 500 an hour) is bench/pipeline.py's subject;
    # here rate limits come only from the injected faults, so lift the fake's and the bot's.
    gh.writes_per_minute = gh.writes_per_hour = 10**6
    figures = Figures(runs)
    started = time.perf_counter()
    fake_runner, gh.url = await serve(gh.app)
    settings = Settings(app_id=APP_ID, private_key=pem, webhook_secret=secret,
                        github_api_url=gh.url, request_timeout=REQUEST_TIMEOUT,
                        concurrent_jobs=concurrency, writes_per_minute=10**6,
                        queue_url="memory://", _env_file=None,
                        # The queue's retry backoff in real time, scaled like GitHub's waits.
                        queue_retry_delay=30.0 * time_scale, queue_poll_interval=0.05)
    app = create_app(settings, engine_in_process=True)
    bot_runner, bot_url = await serve(app)
    try:
        async with scaled_sleep(time_scale), aiohttp.ClientSession() as session:

            async def review(numbers: range) -> list[str]:
                heads = [add_pull_request(gh, n) for n in numbers]
                for number in numbers:
                    headers, body = delivery(
                        "pull_request", "opened.payload.json", secret=secret,
                        overrides=gh.pull_request_overrides(OWNER, REPO, number))
                    async with session.post(f"{bot_url}/webhook", data=body,
                                            headers=headers) as answer:
                        if answer.status != 202:
                            raise SystemExit(f"delivery answered {answer.status}")
                services = app[SERVICES]
                await services.queue.join()
                # Background work may queue a job again, and a failed job waits for its
                # retry: judged only once nothing runs, is due or waits.
                while services.env.runs.tasks or (await services.queue.refresh_stats()).waiting:
                    await services.env.runs.drain()
                    await asyncio.sleep(0.05)
                    await services.queue.join()
                return heads

            (reference_head,) = await review(range(1, 2))
            expected = expected_of(gh, 1, reference_head)
            figures.reference = (f"{expected.conclusion}, {expected.annotations} annotations, "
                                 f"{len(expected.comments)} inline comments")
            gh.chaos = chaos(random.Random(seed), rate, figures.faults)
            first = 2
            for wave in range(first, first + runs, concurrency):
                numbers = range(wave, min(wave + concurrency, first + runs))
                for number, head in zip(numbers, await review(numbers), strict=True):
                    judge(gh, number, head, expected, figures)
            gh.chaos = None
    finally:
        await bot_runner.cleanup()
        await fake_runner.cleanup()
    figures.violations = len(gh.violations)
    figures.github_calls = len(gh.requests)
    figures.wall_seconds = round(time.perf_counter() - started, 2)
    return figures


def report(f: Figures) -> str:
    rows = [
        ("runs", f.runs), ("fault-free reference", f.reference),
        ("GitHub calls", f.github_calls),
        ("faults injected", f"{sum(f.faults.values())} ({dict(sorted(f.faults.items()))})"),
        ("left in_progress", f.left_in_progress),
        ("duplicate check runs", f.duplicate_check_runs),
        ("duplicate reviews", f.duplicate_reviews), ("missing reviews", f.missing_reviews),
        ("wrong conclusions", f.wrong_conclusions),
        ("wrong annotation counts", f.wrong_annotations),
        ("inline comments lost", f.comments_lost),
        ("comments listed in the body instead", f.comments_listed),
        ("requests GitHub would refuse", f.violations), ("wall time (s)", f.wall_seconds),
    ]
    lines = ["| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    verdict = "PASS" if f.failures == 0 else f"FAIL ({f.failures})"
    return "\n".join([*lines, "", f"target 0 of each: {verdict}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.10)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--time-scale", type=float, default=0.01)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    figures = asyncio.run(replay(args.runs, args.seed, args.rate, args.concurrency,
                                 args.time_scale))
    print(report(figures))
    if args.json:
        data = asdict(figures) | {"faults": dict(figures.faults)}
        args.json.write_text(json.dumps(data, indent=2))
    return 0 if figures.failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
