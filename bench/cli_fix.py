"""`pystd check --fix` on a real tree: how many fixes go in, and does everything still parse?

    python bench/cli_fix.py [TREE]   # default: .bench/corpus (bench/corpus.sh)

Copies the tree to a temporary folder and, for safe fixes alone and then for every fix
(`--unsafe-fixes`), with every rule selected: counts the fixable findings, runs `--fix`,
checks that every file that parsed before still parses (CPython's parser), and checks again
to count the fixable findings left (0 means every fixed finding is gone). Prints one table.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--select", "ALL", "--format", "json", "--no-cache", "--exit-zero"]


def check(tree: Path, *extra: str) -> tuple[list[dict[str, object]], str]:
    done = subprocess.run(
        [sys.executable, "-m", "pystd.bot.cli", "check", str(tree), *FLAGS, *extra],
        cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout), done.stderr


def fixable(findings: list[dict[str, object]], unsafe: bool) -> int:
    return sum(1 for f in findings if isinstance(f["fix"], dict)
               and (unsafe or f["fix"]["safe"]))


def parsable(tree: Path) -> set[Path]:
    out = set()
    for path in tree.rglob("*.py"):
        try:
            ast.parse(path.read_bytes(), str(path))
        except (SyntaxError, ValueError):
            continue
        out.add(path.relative_to(tree))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, default=ROOT / ".bench" / "corpus")
    args = parser.parse_args()
    if not args.tree.is_dir():
        raise SystemExit(f"no tree at {args.tree}: run bench/corpus.sh first")
    rows = []
    for unsafe in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp) / "tree"
            shutil.copytree(args.tree, tree)
            before_parse = parsable(tree)
            before, _ = check(tree)
            start = time.perf_counter()
            _, err = check(tree, "--fix", *(["--unsafe-fixes"] if unsafe else []))
            seconds = time.perf_counter() - start
            applied = re.search(r"fixed (\d+) of (\d+) findings in (\d+) file", err)
            broken = sorted(before_parse - parsable(tree))
            after, _ = check(tree)
            rows.append(("unsafe too" if unsafe else "safe only", fixable(before, unsafe),
                         applied.group(1) if applied else "0",
                         applied.group(3) if applied else "0", len(broken),
                         fixable(after, unsafe), len(before), len(after), seconds))
            for path in broken:
                print(f"no longer parses: {path}", file=sys.stderr)
    print("fixes       fixable  applied  files  broken  fixable-after  findings  after  --fix s")
    for name, want, done, files, n_broken, left, n_before, n_after, seconds in rows:
        print(f"{name:<11} {want:>7}  {done:>7}  {files:>5}  {n_broken:>6}  {left:>13}  "
              f"{n_before:>8}  {n_after:>5}  {seconds:>7.1f}")


if __name__ == "__main__":
    main()
