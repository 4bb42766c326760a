"""The pull requests of the pipeline benchmark (bench/pipeline.py): real corpus files,
each changed by removing a block of lines from its base version, with a marker line per
pull request so that every blob is distinct.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from pystd.rules.catalogue import select_rules
from pystd.rules.runner import FileInput, check_inputs
from tests.github_fake import (
    FakeFile,
    FakeGitHub,
    git_blob_sha,
)

MIN_LINES = 50  # corpus files must be longer than this
BLOCK_LINES = 12  # lines removed from each file to make its base version
OWNER, REPO = "pystd-bench", "backend"
WARMUP_OWNER, WARMUP_REPO = "pystd-warmup", "warmup"


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
