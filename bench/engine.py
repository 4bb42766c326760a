"""Engine benchmark: libcst parse vs the pystd engine vs `fixit lint`, on the same files.

    python bench/engine.py CORPUS [--jobs N] [--repeat K] [--no-fixit] [--json OUT]

CORPUS is a directory (bench/corpus.sh builds the standard one in .bench/corpus). Every
`.py`/`.pyi` file pystd would discover there is read once into memory, then timed:

1. bare parse: `libcst.parse_module` on every file, one process;
2. the engine, one process: `rules.runner.check_source` with every shipped rule;
3. the engine in `--jobs` worker processes: `rules.runner.check_inputs`;
4. `fixit lint` on the same paths, as a child process (fixit uses its own process pool).

Phases 1-3 keep the fastest of `--repeat` runs; fixit runs once. CPU time counts the
process and its reaped children. A Markdown table goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import libcst as cst

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

from pystd.rules.catalogue import select_rules  # noqa: E402
from pystd.rules.runner import FileInput, check_inputs, check_source, decode, discover  # noqa: E402

T = TypeVar("T")
TARGET_PARSE_SHARE = 0.5  # engine throughput / bare parse throughput
TARGET_FIXIT_RATIO = 10.0  # pystd lines per CPU-second / fixit lines per CPU-second
TARGET_RSS_MB = 500.0
MAX_ARGV_CHARS = 100_000  # beyond this fixit gets the directory instead of the file list
_RSS_UNIT = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes vs KiB


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _mb(maxrss: int) -> float:
    return maxrss / _RSS_UNIT


def timed(fn: Callable[[], T], repeat: int) -> tuple[dict[str, float], T]:
    """Run `fn` `repeat` times; wall and CPU seconds of the fastest run, and its result."""
    best: tuple[dict[str, float], T] | None = None
    for _ in range(max(1, repeat)):
        cpu0, child0, wall0 = time.process_time(), _children_cpu(), time.perf_counter()
        result = fn()
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0 + _children_cpu() - child0
        if best is None or wall < best[0]["wall"]:
            best = ({"wall": wall, "cpu": cpu}, result)
    assert best is not None
    return best


def parse_all(texts: list[str]) -> int:
    """Parse every text with libcst; the number that failed to parse."""
    failures = 0
    for text in texts:
        try:
            cst.parse_module(text)
        except Exception:  # a bad file is counted, never fatal
            failures += 1
    return failures


def fixit_command() -> list[str] | None:
    """How to run fixit with this interpreter, or None when it is not installed."""
    if importlib.util.find_spec("fixit") is not None:
        return [sys.executable, "-m", "fixit"]
    script = Path(sys.executable).with_name("fixit")
    return [str(script)] if script.is_file() else None


def run_fixit(command: list[str], corpus: Path, paths: list[str]) -> dict[str, Any]:
    """`fixit lint` on `paths` (relative to `corpus`): wall, CPU and peak RSS of its tree.

    CPU is the RUSAGE_CHILDREN delta, which includes fixit's worker processes once fixit
    has reaped them. The peak RSS comes from `os.wait4`, so it is fixit's own and not
    mixed up with pystd's earlier worker processes.
    """
    targets = paths if sum(len(p) + 1 for p in paths) < MAX_ARGV_CHARS else ["."]
    with tempfile.TemporaryFile() as out:
        child0, wall0 = _children_cpu(), time.perf_counter()
        proc = subprocess.Popen([*command, "lint", *targets], cwd=corpus, stdout=out,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - wall0
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = _children_cpu() - child0
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    checked = re.search(r"(\d+) files? checked", text)
    return {
        "version": importlib.metadata.version("fixit") if command[1:2] == ["-m"] else "?",
        "wall": wall, "cpu": cpu, "exit_code": proc.returncode,
        "files_checked": int(checked.group(1)) if checked else None,
        "findings": len(re.findall(r"^.+@\d+:\d+ \w+: ", text, re.MULTILINE)),
        "peak_rss_mb": _mb(usage.ru_maxrss),
        "output_tail": text.strip().splitlines()[-3:] if not checked else [],
    }


def _rate(amount: float, per: float) -> float:
    """`amount / per`, or 0 when `per` is 0 (lines a second, or one rate over another)."""
    return amount / per if per > 0 else 0.0


def _ok(passed: bool) -> str:
    return "yes" if passed else "**NO**"


def report(r: dict[str, Any]) -> str:
    """The Markdown tables of one run."""
    lines, jobs = r["lines"], r["jobs"]
    parse, single, multi = r["parse"], r["engine"], r["engine_jobs"]
    skipped = ", ".join(f"{n} {why}" for why, n in r["skipped_reasons"].items()) or "none"
    rows = [
        ("Corpus", f"{r['files']:,} files, {lines:,} lines; skipped: {skipped}; "
                   f"{r['parse_failures']} unparsable", ""),
        ("libcst parse, 1 process",
         f"{parse['wall']:.2f} s, {parse['lines_per_s']:,.0f} lines/s", ""),
        (f"pystd engine, 1 process ({r['rule_count']} rules)",
         f"{single['wall']:.2f} s, {single['lines_per_s']:,.0f} lines/s", ""),
        ("Engine / parse throughput, per CPU-s (wall)",
         f"{r['parse_share']:.0%} ({r['parse_share_wall']:.0%})",
         f">= {TARGET_PARSE_SHARE:.0%}: {_ok(r['parse_share'] >= TARGET_PARSE_SHARE)}"),
        (f"pystd engine, --jobs {jobs}",
         f"{multi['wall']:.2f} s, {multi['lines_per_s']:,.0f} lines/s "
         f"({multi['cpu']:.2f} CPU-s)", ""),
        ("libcst / pystd lines per CPU-second (1 process)",
         f"{parse['lines_per_cpu_s']:,.0f} / {single['lines_per_cpu_s']:,.0f}", ""),
    ]
    fixit = r.get("fixit")
    if fixit and fixit.get("lines_per_cpu_s"):
        rows += [
            (f"fixit {fixit['version']} lint (own pool)",
             f"{fixit['wall']:.2f} s wall, {fixit['cpu']:.2f} CPU-s, "
             f"{fixit['files_checked']:,} files, {fixit['findings']:,} findings", ""),
            ("fixit lines per CPU-second", f"{fixit['lines_per_cpu_s']:,.0f}", ""),
            ("pystd / fixit per core", f"{r['fixit_ratio']:.1f}x",
             f">= {TARGET_FIXIT_RATIO:.0f}x: {_ok(r['fixit_ratio'] >= TARGET_FIXIT_RATIO)}"),
        ]
    elif fixit:
        rows.append(("fixit lint", f"failed (exit {fixit['exit_code']}): "
                     + " / ".join(fixit["output_tail"]), ""))
    rss = r["peak_rss_mb"]
    worst = max(rss["pystd_process"], rss["pystd_workers"])
    rows.append(("Peak RSS, pystd process / workers",
                 f"{rss['pystd_process']:.0f} MB / {rss['pystd_workers']:.0f} MB",
                 f"< {TARGET_RSS_MB:.0f} MB: {_ok(worst < TARGET_RSS_MB)}"))
    if fixit:
        rows.append(("Peak RSS, fixit", f"{fixit['peak_rss_mb']:.0f} MB", ""))
    out = [f"Python {r['python']}, libcst {r['libcst']}, {r['cpus']} CPUs, "
           f"best of {r['repeat']}\n", "| Measure | Value | Target |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    out += ["", "| Rule | Findings |", "|---|---|"]
    out += [f"| {code} | {n:,} |" for code, n in sorted(r["findings"].items())] or ["| - | 0 |"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="directory of Python files")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes for the parallel run (default: CPUs)")
    parser.add_argument("--repeat", type=int, default=1, help="keep the best of K runs")
    parser.add_argument("--no-fixit", action="store_true", help="skip the fixit comparison")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers here")
    args = parser.parse_args(argv)
    corpus: Path = args.corpus.resolve()
    if not corpus.is_dir():
        parser.error(f"{args.corpus} is not a directory (see bench/corpus.sh)")

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    paths = [p for p in discover([corpus], corpus) if p.suffix in (".py", ".pyi")]
    datas = [(p.relative_to(corpus).as_posix(), p.read_bytes()) for p in paths]
    items = [FileInput(path, data) for path, data in datas]
    texts = [t for t in (decode(data)[0] for _, data in datas) if t is not None]
    lines = sum(t.count("\n") + (0 if t.endswith("\n") else 1) for t in texts)
    rules = select_rules()
    say(f"{len(items)} files, {lines:,} lines, {len(rules.rules)} rules")

    cst.parse_module("import os\n")  # warm-up: first calls pay one-time setup costs
    check_source("warmup.py", b"import os\n", rules)
    say("libcst parse ...")
    parse, failures = timed(lambda: parse_all(texts), args.repeat)
    say("pystd engine, 1 process ...")
    single, results = timed(lambda: [check_source(path, data, rules) for path, data in datas],
                            args.repeat)
    say(f"pystd engine, --jobs {args.jobs} ...")
    multi, _ = timed(lambda: check_inputs(items, rules, jobs=args.jobs), args.repeat)
    workers_rss = _mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    for timing in (parse, single, multi):
        timing["lines_per_s"] = _rate(lines, timing["wall"])
        timing["lines_per_cpu_s"] = _rate(lines, timing["cpu"])

    fixit: dict[str, Any] | None = None
    command = None if args.no_fixit else fixit_command()
    if command is not None:
        say("fixit lint ...")
        fixit = run_fixit(command, corpus, [i.path for i in items])
        if fixit["files_checked"]:
            # Lines of the files fixit says it checked, in case it skipped some.
            share = min(1.0, fixit["files_checked"] / max(1, len(items)))
            fixit["lines_per_cpu_s"] = _rate(round(lines * share), fixit["cpu"])
            if fixit["files_checked"] != len(items):
                say(f"warning: fixit checked {fixit['files_checked']} of {len(items)} files")

    skipped: Counter[str] = Counter(r.skipped for r in results if r.skipped)
    result: dict[str, Any] = {
        "corpus": str(corpus), "files": len(items), "lines": lines, "jobs": args.jobs,
        "repeat": args.repeat, "python": sys.version.split()[0],
        "libcst": importlib.metadata.version("libcst"), "cpus": os.cpu_count(),
        "rule_count": len(rules.rules), "skipped": sum(skipped.values()),
        "skipped_reasons": dict(skipped), "parse_failures": failures,
        "parse": parse, "engine": single, "engine_jobs": multi,
        # Judged on CPU time: on a loaded machine wall time also measures the neighbours.
        "parse_share": _rate(single["lines_per_cpu_s"], parse["lines_per_cpu_s"]),
        "parse_share_wall": _rate(single["lines_per_s"], parse["lines_per_s"]),
        "findings": dict(Counter(f.code for r in results for f in r.findings)),
        "fixit": fixit,
        "fixit_ratio": _rate(single["lines_per_cpu_s"], (fixit or {}).get("lines_per_cpu_s", 0)),
        "peak_rss_mb": {
            "pystd_process": _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
            "pystd_workers": workers_rss,
        },
    }
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
