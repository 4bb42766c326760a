"""What the result cache and lazy imports buy a user of `pystd check`, in wall seconds.

    python bench/cli_cache.py [TREE]   # default: .bench/corpus (bench/corpus.sh)

Runs the real command as a user does (a fresh process each time):
- the whole tree with an empty cache (the first run), then again (unchanged: all cached),
  then with `--no-cache` (what every run cost before the cache);
- one small file, the pre-commit case, with an empty and with a warm cache;
- the import time of the command (`python -X importtime`, top-level modules summed).
Each figure is the best of `--repeat` runs (default 3). Prints one table.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


CPU: list[float] = []  # CPU seconds (user + system) of each run, beside its wall time


def pystd(*args: str, cwd: Path) -> float:
    """Wall seconds of one `pystd check ...` in a new process (its CPU seconds go to CPU:
    on a machine shared with other work, wall time also counts the waits for a CPU)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pystd.bot.cli", "check", "--exit-zero", *args],
                   cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def best(repeat: int, run: object) -> float:
    return min(run() for _ in range(repeat))  # type: ignore[operator]


def import_ms(cwd: Path, target: str) -> float:
    """Milliseconds spent importing modules (top level of -X importtime) for one check."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pystd.bot.cli", "check",
                           "--exit-zero", "--no-cache", target], cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=True)
    total = 0
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit() and not name.startswith("  "):
                total += int(cumulative)
    return total / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, default=ROOT / ".bench" / "corpus")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tree = args.tree.resolve()
    if not tree.is_dir():
        raise SystemExit(f"no tree at {tree}: run bench/corpus.sh first")
    files = sum(1 for _ in tree.rglob("*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"

        def cold() -> float:
            shutil.rmtree(cache, ignore_errors=True)
            return pystd(str(tree), "--cache-dir", str(cache), "--format", "json", cwd=ROOT)

        first = best(args.repeat, cold)
        warm = best(args.repeat, lambda: pystd(str(tree), "--cache-dir", str(cache),
                                               "--format", "json", cwd=ROOT))
        bare = best(1, lambda: pystd(str(tree), "--no-cache", "--format", "json", cwd=ROOT))
        project = Path(tmp) / "project"
        project.mkdir()
        (project / "app.py").write_text(SMALL)

        def small_cold() -> float:
            shutil.rmtree(project / ".pystd_cache", ignore_errors=True)
            return pystd("app.py", cwd=project)

        CPU.clear()
        small_first = best(args.repeat, small_cold)
        small_first_cpu = min(CPU)
        CPU.clear()
        small_warm = best(args.repeat, lambda: pystd("app.py", cwd=project))
        small_warm_cpu = min(CPU)
        imports = min(import_ms(project, "app.py") for _ in range(args.repeat))
    rows = [
        (f"tree, first run (empty cache), {files} files", f"{first:.2f} s"),
        ("tree, unchanged (warm cache)", f"{warm:.2f} s"),
        ("tree, --no-cache", f"{bare:.2f} s"),
        ("cache speed-up (first / warm)", f"{first / warm:.1f}x"),
        ("one small file, empty cache: wall", f"{small_first:.3f} s"),
        ("one small file, empty cache: CPU", f"{small_first_cpu:.3f} s"),
        ("one small file, warm cache: wall", f"{small_warm:.3f} s"),
        ("one small file, warm cache: CPU", f"{small_warm_cpu:.3f} s"),
        ("imports of one check (-X importtime)", f"{imports:.0f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>9}")


if __name__ == "__main__":
    main()
