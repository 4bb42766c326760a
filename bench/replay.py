"""Replay a git repository's merged changes as pull requests through the real App.

    python bench/replay.py --repo PATH [--commits 60] [--out .bench/replay/NAME]
    python bench/replay.py --pypi wagtail==6.0,6.0.1,6.0.2 [--out ...]

Each first-parent commit that touches Python or template files becomes one pull request
(base: its first parent, head: the commit) in the fake GitHub of the test suite; a signed
`pull_request.opened` delivery goes to the real server (`create_app`, its worker
processes, its configuration read from the base commit), and everything the App posts is
written down for judging as the project's maintainer would (bench/README.md, PRECISION.md):

- `replay.jsonl`: one line per change: commit, subject, files, the check run's
  conclusion, title and annotation count, and every inline comment (path, lines, body);
- `judging.md`: each comment with the code around it and the change's diff of that file,
  ready for a verdict (useful / noise / wrong);
- for every ```suggestion: whether it applies cleanly alone (GitHub's button replaces the
  commented lines): the module still parses and gains no undefined name (ruff F821).

`--pypi NAME==V1,V2,...` first builds a repository of consecutive releases from PyPI (one
commit per release; no history is fetched from anywhere else). Nothing downloaded is
imported or run: the App only parses it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout: the fake GitHub lives in tests/
    sys.path.insert(0, str(ROOT))

from bench.diff_history import fetch, replace_tree, sh  # noqa: E402
from bench.pipeline import serve  # noqa: E402
from pystd.bot.app import create_app  # noqa: E402
from pystd.bot.settings import Settings  # noqa: E402
from pystd.rules.runner import is_checkable  # noqa: E402
from tests.github_fake import APP_ID, FakeFile, FakeGitHub, app_private_key_pem  # noqa: E402
from tests.github_fake import delivery as make_delivery  # noqa: E402
from tests.github_fake.state import FileStatus  # noqa: E402

OWNER = "replay"
CONFIG_FILES = ("pyproject.toml", ".github/pystd.toml")
SUGGESTION = "```suggestion\n"


@dataclass
class Change:
    commit: str
    parent: str
    subject: str
    files: list[FakeFile]
    base_files: dict[str, bytes | str]
    diff: dict[str, str] = field(default_factory=dict)  # path -> `git diff` of that file


def git_bytes(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True).stdout


def changes_of(repo: Path, count: int) -> list[Change]:
    """The newest `count` first-parent commits (oldest first) that change a file pystd
    checks, each with its files as the fake GitHub takes them."""
    log = sh("git", "log", "--first-parent", "--format=%H %P", "-n", str(count * 4), cwd=repo)
    out: list[Change] = []
    for line in log.splitlines():
        commit, *parents = line.split()
        if not parents:
            continue
        change = change_of(repo, parents[0], commit)
        if change is not None:
            out.append(change)
        if len(out) == count:
            break
    return out[::-1]


def change_of(repo: Path, parent: str, commit: str) -> Change | None:
    status = sh("git", "diff", "--name-status", "-M", "--no-color", parent, commit, cwd=repo)
    files: list[FakeFile] = []
    diff: dict[str, str] = {}
    for row in status.splitlines():
        kind, *paths = row.split("\t")
        path = paths[-1]
        if not is_checkable(path) and path not in CONFIG_FILES:
            continue
        new = None if kind == "D" else git_bytes(repo, "show", f"{commit}:{path}")
        old_path = paths[0]
        old = None if kind == "A" else git_bytes(repo, "show", f"{parent}:{old_path}")
        statuses: dict[str, FileStatus] = {"A": "added", "D": "removed", "M": "modified"}
        status_name = statuses.get(kind[0], "renamed")
        files.append(FakeFile(path, status_name, new, previous_filename=(
            old_path if status_name == "renamed" else None), base_content=old))
        diff[path] = sh("git", "diff", "--no-color", "-M", parent, commit, "--", *{
            old_path, path}, cwd=repo)
    if not any(is_checkable(f.filename) for f in files):
        return None
    base_files: dict[str, bytes | str] = {}
    for name in CONFIG_FILES:
        with contextlib.suppress(subprocess.CalledProcessError):  # no such file there
            base_files[name] = git_bytes(repo, "show", f"{parent}:{name}")
    subject = sh("git", "log", "-1", "--format=%s", commit, cwd=repo).strip()
    return Change(commit, parent, subject, files, base_files, diff)


def repo_of_releases(spec: str, into: Path) -> Path:
    """A git repository with one commit per release of `NAME==V1,V2,...` from PyPI (built
    aside and moved into place whole, so a failed download leaves nothing half-made)."""
    name, _, versions = spec.partition("==")
    repo = into / f"{name}-releases"
    marker = repo / ".replay-spec"
    if marker.is_file() and marker.read_text() == spec:
        return repo
    building = into / f".{name}-building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    sh("git", "init", "-q", "-b", "main", cwd=building)
    for version in versions.split(","):
        replace_tree(building, fetch(name, version, into / "dl"))
        pins_from_metadata(building)
        sh("git", "add", "-A", cwd=building)
        sh("git", "-c", "user.name=replay", "-c", "user.email=replay@localhost", "commit",
           "-q", "--allow-empty", "-m", f"{name} {version}", cwd=building)
    (building / ".git" / "info" / "exclude").write_text(".replay-spec\n")
    (building / ".replay-spec").write_text(spec)
    shutil.rmtree(repo, ignore_errors=True)
    building.rename(repo)
    return repo


def pins_from_metadata(tree: Path) -> None:
    """A release taken from a wheel has no pyproject.toml; its project's repository does,
    with the same pins as the wheel's `Requires-Dist`. Write those into requirements.txt so
    the App reads the project's versions as it would from the repository (Pydantic 1 in
    lnbits, say). Optional extras' dependencies are left out, as they are not installed."""
    if (tree / "pyproject.toml").exists() or (tree / "requirements.txt").exists():
        return
    pins = []
    for metadata in sorted(tree.glob("*.dist-info/METADATA")):
        for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Requires-Dist:") and "extra ==" not in line:
                pins.append(line.removeprefix("Requires-Dist:").strip())
    if pins:
        (tree / "requirements.txt").write_text("\n".join(pins) + "\n")


# -- through the App ----------------------------------------------------------------------



async def replay(changes: list[Change], repo_name: str, per_change: float
                 ) -> list[dict[str, Any]]:
    secret = secrets.token_hex(16)  # this run's webhook secret; never leaves 127.0.0.1
    pem = app_private_key_pem()
    gh = FakeGitHub(private_key_pem=pem)
    fake_runner, gh.url = await serve(gh.app)
    settings = Settings(app_id=APP_ID, private_key=pem, webhook_secret=secret,
                        github_api_url=gh.url, host="127.0.0.1",
                        queue_url="memory://",  # this run's jobs only, nothing on disk
                        _env_file=None)
    bot_runner, bot_url = await serve(create_app(settings))
    records = []
    try:
        # One connection per delivery, as GitHub does: a keep-alive connection that the
        # server closed during a long review would be reset under the next one.
        async with ClientSession(connector=TCPConnector(force_close=True)) as session:
            for number, change in enumerate(changes, start=1):
                gh.add_pull_request(OWNER, repo_name, number, head_sha=change.commit,
                                    base_sha=change.parent, files=change.files,
                                    base_files=change.base_files, title=change.subject)
                headers, body = make_delivery(
                    "pull_request", "opened.payload.json", secret=secret,
                    overrides=gh.pull_request_overrides(OWNER, repo_name, number))
                started = time.perf_counter()
                async with session.post(f"{bot_url}/webhook", data=body,
                                        headers=headers) as answer:
                    if answer.status != 202:
                        raise SystemExit(f"{change.commit[:12]}: delivery answered "
                                         f"{answer.status}")
                try:
                    async with asyncio.timeout(per_change):
                        run = await completed_run(gh, repo_name, change.commit)
                except TimeoutError:
                    raise SystemExit(f"{change.commit[:12]}: no completed check run within "
                                     f"{per_change:.0f} s") from None
                records.append(record(gh, repo_name, number, change, run,
                                      time.perf_counter() - started))
                print(f"{number:4}/{len(changes)} {change.commit[:12]} "
                      f"{records[-1]['conclusion']:<8} {len(records[-1]['comments'])} "
                      f"comment(s)  {change.subject[:60]}", file=sys.stderr)
    finally:
        await bot_runner.cleanup()
        await fake_runner.cleanup()
    if gh.violations:
        print(f"warning: {len(gh.violations)} request(s) GitHub would refuse: "
              f"{gh.violations[:3]}", file=sys.stderr)
    return records


async def completed_run(gh: FakeGitHub, repo: str, head_sha: str) -> Any:
    """The check run at `head_sha`, once every run there is completed."""
    while True:
        runs = [r for r in gh.check_runs(OWNER, repo) if r.head_sha == head_sha]
        if runs and all(r.status == "completed" for r in runs):
            return runs[-1]
        await asyncio.sleep(0.05)


def record(gh: FakeGitHub, repo: str, number: int, change: Change, run: Any,
           seconds: float) -> dict[str, Any]:
    comments = [{"path": c.path, "line": c.line, "start_line": getattr(c, "start_line", None),
                 "body": c.body} for c in gh.review_comments(OWNER, repo, number)]
    reviews = gh.reviews(OWNER, repo, number)
    return {
        "commit": change.commit, "parent": change.parent, "subject": change.subject,
        "files": [f.filename for f in change.files], "conclusion": run.conclusion,
        "title": run.title, "annotations": len(run.annotations),
        "review_body": reviews[-1].body if reviews else None, "comments": comments,
        "seconds": round(seconds, 2),
    }


# -- suggestions applied alone ------------------------------------------------------------

def apply_suggestion(text: str, comment: dict[str, Any]) -> str | None:
    """The file after GitHub's "Commit suggestion" button, or None without a suggestion."""
    body = comment["body"]
    if SUGGESTION not in body:
        return None
    suggested = body.split(SUGGESTION, 1)[1].split("\n```", 1)[0]
    lines = text.splitlines(keepends=True)
    start = (comment["start_line"] or comment["line"]) - 1
    replacement = [line + "\n" for line in suggested.split("\n")] if suggested else []
    return "".join(lines[:start] + replacement + lines[comment["line"]:])


def undefined_names(text: str, path: str) -> set[str]:
    done = subprocess.run(
        [str(ROOT / ".venv/bin/ruff"), "check", "--isolated", "--select", "F821",
         "--output-format", "json", "--stdin-filename", path, "-"],
        input=text, capture_output=True, text=True, check=False)
    return {item["message"] for item in json.loads(done.stdout or "[]")}


def suggestion_verdict(repo: Path, commit: str, comment: dict[str, Any]) -> str | None:
    """None (no suggestion), "clean", "does not parse" or "new undefined name: …"."""
    try:
        text = git_bytes(repo, "show", f"{commit}:{comment['path']}").decode("utf-8")
    except (subprocess.CalledProcessError, UnicodeDecodeError):
        return None
    after = apply_suggestion(text, comment)
    if after is None or not comment["path"].endswith(".py"):
        return None
    try:
        compile(after, comment["path"], "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return "does not parse"
    new = undefined_names(after, comment["path"]) - undefined_names(text, comment["path"])
    return f"new undefined name: {sorted(new)}" if new else "clean"


# -- the report ---------------------------------------------------------------------------

def context(repo: Path, commit: str, path: str, line: int, around: int = 6) -> str:
    try:
        lines = git_bytes(repo, "show", f"{commit}:{path}").decode("utf-8", "replace")
    except subprocess.CalledProcessError:
        return ""
    rows = lines.splitlines()
    first = max(1, line - around)
    return "\n".join(f"{n:5} {'>' if n == line else ' '} {rows[n - 1]}"
                     for n in range(first, min(len(rows), line + around) + 1))


def write_report(repo: Path, records: list[dict[str, Any]], out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    counts = {"changes": len(records), "comments": 0, "failing runs": 0, "suggestions": 0,
              "suggestions clean": 0}
    md = ["# Replayed changes: every comment, for judging", "",
          "Verdict per comment: useful / noise / wrong (PRECISION.md).", ""]
    with (out / "replay.jsonl").open("w") as jsonl:
        for rec in records:
            counts["failing runs"] += rec["conclusion"] == "failure"
            for comment in rec["comments"]:
                counts["comments"] += 1
                verdict = suggestion_verdict(repo, rec["commit"], comment)
                comment["suggestion"] = verdict
                if verdict is not None:
                    counts["suggestions"] += 1
                    counts["suggestions clean"] += verdict == "clean"
            jsonl.write(json.dumps(rec) + "\n")
            if not rec["comments"] and rec["conclusion"] != "failure":
                continue
            md += [f"## {rec['commit'][:12]} {rec['subject']}", "",
                   f"check run: **{rec['conclusion']}** ({rec['title']}), "
                   f"{rec['annotations']} annotation(s)", ""]
            for comment in rec["comments"]:
                md += [f"### `{comment['path']}:{comment['line']}`", "", comment["body"], "",
                       "```python", context(repo, rec["commit"], comment["path"],
                                            comment["line"]), "```", "",
                       f"suggestion applied alone: {comment['suggestion'] or '—'}", "",
                       "verdict: ", ""]
    (out / "judging.md").write_text("\n".join(md))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--repo", type=Path, help="a local git repository")
    source.add_argument("--pypi", metavar="NAME==V1,V2,...",
                        help="consecutive PyPI releases, one commit each")
    parser.add_argument("--commits", type=int, default=60, help="changes to replay")
    parser.add_argument("--out", type=Path, help="where replay.jsonl and judging.md go")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per change")
    args = parser.parse_args(argv)
    repo = args.repo.resolve() if args.repo else repo_of_releases(
        args.pypi, ROOT / ".bench" / "replay")
    out = args.out or ROOT / ".bench" / "replay" / f"{repo.name}-out"
    changes = changes_of(repo, args.commits)
    if not changes:
        raise SystemExit(f"{repo}: no first-parent commit changes a Python or template file")
    records = asyncio.run(replay(changes, repo.name, args.timeout))
    counts = write_report(repo, records, out)
    print(" | ".join(f"{k}: {v}" for k, v in counts.items()))
    print(f"written: {out / 'replay.jsonl'}, {out / 'judging.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
