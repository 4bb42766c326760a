"""bench/replay.py: a repository's merged changes replayed as pull requests through the
real App, with every comment written down for judging and every suggestion applied alone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bench.replay import apply_suggestion, main

BEFORE = "import time\n\n\ndef f():\n    return 1\n"
AFTER = "import time\n\n\nasync def f():\n    time.sleep(1)\n    return 1\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
                   cwd=repo, check=True, capture_output=True)


def test_a_change_is_replayed_and_its_suggestion_judged_alone(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "views.py").write_text(BEFORE)
    (repo / "README.md").write_text("not Python\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    (repo / "README.md").write_text("still not Python\n")
    git(repo, "commit", "-qam", "docs only: not replayed")
    (repo / "views.py").write_text(AFTER)
    git(repo, "commit", "-qam", "make f async")
    out = tmp_path / "out"
    assert main(["--repo", str(repo), "--commits", "5", "--out", str(out)]) == 0
    (record,) = [json.loads(line) for line in (out / "replay.jsonl").read_text().splitlines()]
    assert record["subject"] == "make f async"
    assert record["conclusion"] == "failure"
    (comment,) = record["comments"]
    assert (comment["path"], comment["line"]) == ("views.py", 5)
    # The fix needs `import asyncio`: the one suggestion covers lines 2-5, import included,
    # and applied alone it leaves a module that parses with no new undefined name.
    assert (comment["start_line"], comment["suggestion"]) == (2, "clean")
    judging = (out / "judging.md").read_text()
    assert "### `views.py:5`" in judging and "5 >     time.sleep(1)" in judging


def test_a_suggestion_replaces_exactly_the_commented_lines():
    text = "a\nb\nc\nd\n"
    comment = {"body": "x\n\n```suggestion\nB\nC\n```\n", "start_line": 2, "line": 3}
    assert apply_suggestion(text, comment) == "a\nB\nC\nd\n"
    assert apply_suggestion(text, {"body": "no fix", "start_line": None, "line": 1}) is None
