"""`pystd check --diff` on a real project's history: two releases from PyPI as two commits.

    python bench/diff_history.py                          # django-allauth 65.14.0 -> 65.19.0
    python bench/diff_history.py django-oscar 3.2.6 4.0

Builds .bench/history/<name>: a git repository whose `main` holds the old release and whose
`feature` branch holds the new one, then checks that

1. every finding of `pystd check --diff main` touches a line that changed, judged by an
   oracle independent of pystd's own diff parsing (difflib over both versions of a file),
   and counts the findings whole-file checking would have shown on the same files;
2. PYS206 fires on a model field edited without a migration (a commit made on top of the
   new release) and is quiet once the migration is in the change.

Prints a Markdown report; exits 1 when a check fails. Nothing downloaded is imported or
run: pystd only parses it.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYSTD = ROOT / ".venv" / "bin" / "pystd"
FIELD = re.compile(r"^(?P<indent>\s+)\w+ = models\.\w*Field\(")


def sh(*args: str | Path, cwd: Path, ok: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          check=False)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(map(str, args))}: {done.stderr.strip()}")
    return done.stdout


def fetch(name: str, version: str, into: Path) -> Path:
    """The project's sdist (else its wheel) unpacked; returns the folder holding its code."""
    dest = into / f"{name}-{version}"
    if dest.exists():
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"{name}=={version}"
        base = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp]
        got = subprocess.run([*base, "--no-binary", ":all:", "--no-build-isolation", spec],
                             capture_output=True, check=False)
        if got.returncode != 0:
            subprocess.run([*base, "--only-binary", ":all:", spec], check=True)
        (archive,) = Path(tmp).iterdir()
        unpacked = Path(tmp) / "x"
        if archive.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(archive) as tar:
                tar.extractall(unpacked, filter="data")
        else:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(unpacked)
        children = list(unpacked.iterdir())
        top = children[0] if len(children) == 1 and children[0].is_dir() else unpacked
        shutil.copytree(top, dest)
    return dest


def replace_tree(repo: Path, source: Path) -> None:
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(source, repo, dirs_exist_ok=True)


def build_repo(repo: Path, old: Path, new: Path) -> None:
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    sh("git", "init", "-q", "-b", "main", cwd=repo)
    sh("git", "config", "user.email", "bench@pystd.dev", cwd=repo)
    sh("git", "config", "user.name", "bench", cwd=repo)
    replace_tree(repo, old)
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", f"release {old.name}", cwd=repo)
    sh("git", "checkout", "-qb", "feature", cwd=repo)
    replace_tree(repo, new)
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", f"release {new.name}", cwd=repo)


def pystd(repo: Path, *args: str) -> list[dict]:
    out = sh(PYSTD, "check", *args, "--format", "json", cwd=repo, ok=(0, 1))
    return json.loads(out)


def changed_lines(repo: Path, ref: str, path: str) -> set[int] | None:
    """Lines of `path` that differ from `ref` (None: the file is new there)."""
    old = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=repo, capture_output=True,
                         text=True, check=False)
    if old.returncode != 0:
        return None
    new = (repo / path).read_text(encoding="utf-8", errors="replace").splitlines()
    matcher = difflib.SequenceMatcher(a=old.stdout.splitlines(), b=new, autojunk=False)
    return {j + 1 for tag, _, _, j1, j2 in matcher.get_opcodes() if tag != "equal"
            for j in range(j1, j2)}


def check_diff_scoping(repo: Path) -> tuple[list[str], bool]:
    findings = pystd(repo, "--diff", "main")
    report = [f"`pystd check --diff main`: {len(findings)} findings in "
              f"{len({f['path'] for f in findings})} files"]
    off = []
    for f in findings:
        lines = changed_lines(repo, "main", f["path"])
        if lines is not None and not lines & set(range(f["line"], f["end_line"] + 1)):
            off.append(f"{f['path']}:{f['line']} {f['code']}")
    report.append(f"findings on a line the oracle says did not change: {len(off)}"
                  + (f" ({', '.join(off[:10])})" if off else ""))
    files = sorted({f["path"] for f in findings if f["path"].endswith(".py")})
    whole = pystd(repo, *files) if files else []
    report.append(f"whole-file checking of the same files: {len(whole)} findings, so "
                  f"{len(whole) - len([f for f in findings if f['path'] in files])} "
                  "were on unchanged lines and left out")
    added = sh("git", "diff", "--name-only", "--diff-filter=A", "main", "feature", "--",
               "*/migrations/*.py", cwd=repo).split()
    report.append(f"migrations the release adds: {len(added)}; PYS206 findings on the "
                  f"release: {sum(f['code'] == 'PYS206' for f in findings)}")
    by_code = Counter(f["code"] for f in findings)
    report.append("by rule: " + ", ".join(f"{c} {n}" for c, n in sorted(by_code.items())))
    return report, not off


def model_edit_target(repo: Path) -> tuple[Path, int, str] | None:
    """A models module (models.py, abstract_models.py) of an app with a migrations/
    package, and the line of its first field (the new field goes just above it, so never
    inside a statement)."""
    for models in sorted(repo.rglob("*models.py")):
        if not (models.parent / "migrations").is_dir():
            continue
        for number, line in enumerate(models.read_text(errors="replace").splitlines(), 1):
            match = FIELD.match(line)
            if match:
                return models, number, match["indent"]
    return None


def check_missing_migration(repo: Path) -> tuple[list[str], bool]:
    target = model_edit_target(repo)
    if target is None:
        return ["no models module with a migrations/ package: PYS206 not exercised"], False
    models, number, indent = target
    rel = models.relative_to(repo).as_posix()
    sh("git", "checkout", "-qb", "model-edit", cwd=repo)
    lines = models.read_text(errors="replace").splitlines(keepends=True)
    lines.insert(number - 1, f"{indent}bench_note = models.TextField(blank=True, default='')\n")
    models.write_text("".join(lines))
    sh("git", "commit", "-qam", "add a field, no migration", cwd=repo)
    without = [f for f in pystd(repo, "--diff", "feature") if f["code"] == "PYS206"]
    migration = models.parent / "migrations" / "9999_bench_note.py"
    migration.write_text("from django.db import migrations\n\n\n"
                         "class Migration(migrations.Migration):\n    operations = []\n")
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", "and its migration", cwd=repo)
    with_it = [f for f in pystd(repo, "--diff", "feature") if f["code"] == "PYS206"]
    sh("git", "checkout", "-q", "feature", cwd=repo)
    fired = [(f["path"], f["line"]) for f in without]
    ok = fired == [(rel, number)] and not with_it
    return [f"field added to `{rel}` at line {number} without a migration: PYS206 at "
            f"{fired or 'nowhere'}",
            f"with `{migration.relative_to(repo).as_posix()}` in the change: "
            f"{len(with_it)} PYS206 findings"], ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", nargs="?", default="django-allauth")
    parser.add_argument("old", nargs="?", default="65.14.0")
    parser.add_argument("new", nargs="?", default="65.19.0")
    args = parser.parse_args()
    work = ROOT / ".bench" / "history"
    old = fetch(args.name, args.old, work / "dl")
    new = fetch(args.name, args.new, work / "dl")
    repo = work / args.name
    build_repo(repo, old, new)
    stat = sh("git", "diff", "--shortstat", "main", "feature", cwd=repo).strip()
    print(f"# `--diff` on {args.name} {args.old} -> {args.new} ({stat})\n")
    report, scoped = check_diff_scoping(repo)
    more, migration = check_missing_migration(repo)
    for line in [*report, *more]:
        print(f"- {line}")
    print(f"\nresult: diff scoping {'ok' if scoped else 'FAILED'}, "
          f"PYS206 {'ok' if migration else 'FAILED'}")
    return 0 if scoped and migration else 1


if __name__ == "__main__":
    raise SystemExit(main())
