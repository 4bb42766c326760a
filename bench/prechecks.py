"""How much the parser's pre-checks (rules/limits.py) cost on ordinary code.

    python bench/prechecks.py DIR [DIR ...] [--compare OLD_LIMITS.py]

Every `.py` file under the folders is read once, then timed in this process: the cheap
screen alone (`_suspect`), the whole `too_deep` (screen plus the tokenizer measure of
the files the screen sends on), and the engine (`check_source`, every shipped rule). With
`--compare`, the `too_deep` of another copy of limits.py is timed on the same files
(e.g. `git show HEAD~1:rules/limits.py > /tmp/old.py`).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pystd.rules import limits
from pystd.rules.catalogue import select_rules
from pystd.rules.runner import check_source


def _timed(fn: Callable[[str], object], texts: list[str]) -> tuple[float, list[object]]:
    start = time.perf_counter()
    out = [fn(t) for t in texts]
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--compare", type=Path, help="another rules/limits.py to time")
    args = parser.parse_args(argv)
    files = sorted(p for d in args.dirs for p in d.rglob("*.py"))
    texts = []
    for path in files:
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    lines = sum(t.count("\n") for t in texts)
    rules = select_rules()
    screen, suspects = _timed(limits._suspect, texts)
    deep_time, deep = _timed(limits.too_deep, texts)
    engine, _ = _timed(lambda t: check_source("x.py", t, rules), texts)
    print(f"{len(texts)} files, {lines} lines, {sum(map(len, texts)) // 1024} KB")
    print(f"engine (check_source):  {engine:8.3f} s")
    print(f"screen (_suspect):      {screen:8.3f} s  {100 * screen / engine:5.2f}% of the engine;"
          f" {sum(map(bool, suspects))} file(s) sent to the tokenizer")
    print(f"too_deep (screen+exact):{deep_time:8.3f} s  {100 * deep_time / engine:5.2f}%;"
          f" {sum(map(bool, deep))} file(s) too deep")
    if args.compare:
        spec = importlib.util.spec_from_file_location("other_limits", args.compare)
        assert spec is not None and spec.loader is not None
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
        other_time, other_deep = _timed(other.too_deep, texts)
        print(f"too_deep of {args.compare}: {other_time:8.3f} s  "
              f"{100 * other_time / engine:5.2f}%; {sum(map(bool, other_deep))} too deep")
    return 0


if __name__ == "__main__":
    sys.exit(main())
