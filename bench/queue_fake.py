"""The fake GitHub of bench/queue.py, in a process of its own.

    python -m bench.queue_fake --prs 20 --files 40 --lines 150 --deliveries 100 \
        --out DELIVERIES.json

The fake validates every request against GitHub's schemas, which costs CPU: in the
benchmark's process it would compete with the webhook answers being measured (the same
event loop). Here it has its own. It adds `--prs` pull requests of `--files` files each,
writes `--deliveries` signed `synchronize` deliveries spread over them to `--out` (JSON:
[headers, body] pairs, signed with PYSTD_WEBHOOK_SECRET; their payloads match this fake's
state), prints one JSON line with its URL once it listens on 127.0.0.1, and on SIGTERM
prints one JSON line of what it saw (pull requests without a completed check run at their
head, runs left in progress, requests served) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout: the fake GitHub lives in tests/
    sys.path.insert(0, str(ROOT))

from bench.faults import BASE_SHA, EXAMPLE, OWNER, REPO  # noqa: E402
from bench.pipeline import serve  # noqa: E402
from tests.github_fake import FakeFile, FakeGitHub, delivery  # noqa: E402

SOURCES = ("api/main.py", "shop/views.py", "legacy/app.py", "shop/models.py")


def source(path: str, lines: int) -> str:
    """examples/shop's `path` (7 to 33 lines), repeated until it has at least `lines` lines:
    a module of the size reviews meet, whose analysis, not its download, takes the time."""
    text = (EXAMPLE / path).read_text()
    return text * max(1, -(-lines // text.count("\n")))


def add_pr(gh: FakeGitHub, number: int, files: int, lines: int) -> str:
    """Pull request `number` adding `files` files of about `lines` lines (examples/shop's,
    each with a marker line so that no two blobs are alike); its head sha."""
    head = f"{number:040x}"
    changed = [FakeFile(f"pkg{k}/{path.replace('/', '_')}", status="added",
                        content=source(path, lines) + f"# pr {number} file {k}\n")
               for k, path in zip(range(files), itertools.cycle(SOURCES), strict=False)]
    gh.add_pull_request(OWNER, REPO, number, head_sha=head, base_sha=BASE_SHA, files=changed)
    return head


async def main(args: argparse.Namespace) -> None:
    gh = FakeGitHub(private_key_pem=os.environ["PYSTD_PRIVATE_KEY"])
    gh.writes_per_minute = gh.writes_per_hour = 10**6
    runner, gh.url = await serve(gh.app)
    heads = {n: add_pr(gh, n, args.files, args.lines) for n in range(1, args.prs + 1)}
    secret = os.environ["PYSTD_WEBHOOK_SECRET"]
    signed = [delivery("pull_request", "synchronize.payload.json", secret=secret,
                       overrides=gh.pull_request_overrides(OWNER, REPO, i % args.prs + 1))
              for i in range(args.deliveries)]
    args.out.write_text(json.dumps([[headers, body.decode()] for headers, body in signed]))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(json.dumps({"url": gh.url}), flush=True)
    await stop.wait()
    runs = gh.check_runs(OWNER, REPO)
    print(json.dumps({
        "prs_without_completed_run": sum(
            not any(r.head_sha == head and r.status == "completed" for r in runs)
            for head in heads.values()),
        "in_progress": sum(r.status != "completed" for r in runs),
        "requests": len(gh.requests)}), flush=True)
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prs", type=int, required=True)
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--lines", type=int, required=True)
    parser.add_argument("--deliveries", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    asyncio.run(main(parser.parse_args()))
