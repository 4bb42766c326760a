"""`pystd check --fix`: apply the fixes in place, as ruff does.

Only safe fixes (`Fix.safe`: they keep what the code does) unless `--unsafe-fixes`. One
pass applies every chosen fix of a file whose lines do not overlap another's (an import
insertion inside another fix's lines waits too); the file is then checked again and the
next pass applies what is left or new, until nothing changes or MAX_PASSES. A pass whose
result does not parse — by libcst, which the engine reads with, and by CPython's own
parser — is not written: the file keeps its last parseable text.
"""

from __future__ import annotations

import ast
import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from pystd.bot import messages
from pystd.bot.formats import source_lines
from pystd.rules.engine import Finding, Fix, RuleSet
from pystd.rules.runner import FileResult, check_source

MAX_PASSES = 10
_BOM = "\ufeff".encode()


@dataclass(frozen=True)
class Fixed:
    """One file after fixing: its new text, how many fixes went in, in how many passes,
    and the findings of its final check (`result`, with the configuration's per-file
    ignores applied; `checked`, the engine's own answer for `text`, which the result
    cache stores; None when no pass ran)."""

    text: str
    applied: int
    passes: int
    result: FileResult
    unparsable: bool = False
    checked: FileResult | None = None


def fixable(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and (unsafe or finding.fix.safe)


def fix_files(results: Sequence[FileResult], locate: Callable[[str], Path], rules: RuleSet,
              *, unsafe: bool, keep: Callable[[Finding], bool] = lambda f: True,
              ) -> list[FileResult]:
    """Fix every file of `results` with fixable findings in place (`locate(name)` is its
    path on disk) and return the results with those files' final findings; say on
    stderr how many fixes were applied, and how many unsafe ones were left."""
    return fix_projects([FixGroup(results, locate, rules, keep)], unsafe=unsafe)[0]


@dataclass(frozen=True)
class FixGroup:
    """The results of one project of the run, with how to find its files on disk, its
    rules and which findings its configuration keeps."""

    results: Sequence[FileResult]
    locate: Callable[[str], Path]
    rules: RuleSet
    keep: Callable[[Finding], bool] = lambda f: True
    # Told of each file written: its name, the bytes now on disk and the engine's check
    # of them (the result cache learns them, so the next run checks nothing again).
    written: Callable[[str, bytes, FileResult], None] | None = None


def fix_projects(groups: Sequence[FixGroup], *, unsafe: bool) -> list[list[FileResult]]:
    """`fix_files` over the projects of one run (each file fixed and checked again with
    its own project's rules), with one summary on stderr for them all."""
    projects: list[list[FileResult]] = []
    found = applied = files = passes = unsafe_left = 0
    for group in groups:
        out: list[FileResult] = []
        projects.append(out)
        locate, rules, keep = group.locate, group.rules, group.keep
        for result in group.results:
            if not any(fixable(f, unsafe) for f in result.findings):
                out.append(result)
                unsafe_left += sum(1 for f in result.findings if f.fix is not None)
                continue
            path = locate(result.path)
            try:
                data = path.read_bytes()
                text = data.decode("utf-8-sig")
            except (OSError, UnicodeDecodeError):
                out.append(result)
                continue
            found += sum(1 for f in result.findings if fixable(f, unsafe))
            done = fix_text(result.path, text, rules, result, unsafe=unsafe, keep=keep)
            if done.unparsable:
                print(messages.CLI_FIX_NOT_APPLIED.format(path=path), file=sys.stderr)
            if done.applied:
                new = (_BOM if data.startswith(_BOM) else b"") + done.text.encode("utf-8")
                try:
                    _replace(path, new)
                except OSError as exc:
                    print(messages.CLI_FIX_WRITE_FAILED.format(path=path, reason=exc.strerror),
                          file=sys.stderr)
                    out.append(result)
                    continue
                if group.written is not None and done.checked is not None:
                    group.written(result.path, new, done.checked)
                applied += done.applied
                files += 1
                passes = max(passes, done.passes)
            out.append(done.result)
            unsafe_left += sum(1 for f in done.result.findings
                               if f.fix is not None and not f.fix.safe and not unsafe)
    if found:
        print(messages.CLI_FIXED.format(fixed=applied, found=found, passes=passes,
                                        files=f"{files} file" + ("" if files == 1 else "s")),
              file=sys.stderr)
    if unsafe_left:
        print(messages.CLI_FIX_UNSAFE_HINT.format(count=unsafe_left), file=sys.stderr)
    return projects


def fix_text(name: str, text: str, rules: RuleSet, result: FileResult, *, unsafe: bool,
             keep: Callable[[Finding], bool] = lambda f: True,
             max_passes: int = MAX_PASSES) -> Fixed:
    """Apply the fixes of `result` (the check of `text`) pass after pass until stable."""
    applied = passes = 0
    unparsable = False
    checked: FileResult | None = None
    while passes < max_passes:
        chosen = choose([f.fix for f in result.findings if keep(f) and fixable(f, unsafe)
                         and f.fix is not None])
        if not chosen:
            break
        new = apply_fixes(text, chosen)
        if new == text:
            break
        if not parses(new):
            # Alone, the first fix may still be fine; if not, stop with the last good text.
            new = apply_fixes(text, chosen[:1])
            chosen = chosen[:1]
            if not parses(new):
                unparsable = True
                break
        text, applied, passes = new, applied + len(chosen), passes + 1
        checked = check_source(name, text, rules)
        result = FileResult(checked.path, tuple(f for f in checked.findings if keep(f)),
                            checked.skipped, checked.lines, checked.failed)
    return Fixed(text, applied, passes, result, unparsable, checked)


def choose(fixes: Sequence[Fix]) -> list[Fix]:
    """Fixes of one file that can go in together: no two replace a common line, and no
    import insertion falls inside another fix's lines (those wait for the next pass)."""
    chosen: list[Fix] = []
    spans: list[tuple[int, int]] = []
    points: list[int] = []
    for fix in sorted(fixes, key=lambda f: (f.line, f.end_line)):
        span = (fix.line, fix.end_line)
        at = _import_point(fix)
        if any(span[0] <= b and a <= span[1] for a, b in spans):
            continue
        if any(span[0] < p <= span[1] for p in points):
            continue
        if at is not None and any(a < at <= b for a, b in spans):
            continue
        chosen.append(fix)
        spans.append(span)
        if at is not None:
            points.append(at)
    return chosen


def _import_point(fix: Fix) -> int | None:
    """The line before which the fix's imports go, as rules.fixes.apply_fix puts them."""
    if not fix.imports:
        return None
    at = fix.import_line
    return at if at > fix.end_line else min(at, fix.line)


def apply_fixes(text: str, fixes: Sequence[Fix]) -> str:
    """`text` with every fix of `fixes` (from `choose`) applied, imports once each."""
    newline = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    lines = source_lines(text)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    edits: list[tuple[int, int, int, str]] = []  # (start, kind, end, text); 0 = replace
    imports: dict[int, list[str]] = {}
    for fix in fixes:
        replacement = fix.replacement
        if newline == "\r\n" and "\r\n" not in replacement:
            replacement = replacement.replace("\n", "\r\n")
        edits.append((fix.line, 0, fix.end_line, replacement))
        at = _import_point(fix)
        if at is not None:
            block = imports.setdefault(at, [])
            block.extend(i for i in fix.imports if i not in block)
    for at, statements in imports.items():
        edits.append((at, 1, at - 1, "".join(f"{s}{newline}" for s in statements)))
    # Bottom up, so earlier lines keep their numbers; at one line, the replacement first
    # and the insertion then lands before it.
    for start, _, end, new in sorted(edits, key=lambda e: (-e[0], e[1])):
        lines[start - 1: end] = [new]
    return "".join(lines)


def parses(text: str) -> bool:
    """Does `text` parse, by libcst and by CPython?"""
    try:
        cst.parse_module(text)
        ast.parse(text)
    except (cst.ParserSyntaxError, SyntaxError, ValueError, RecursionError):
        return False
    return True


def _replace(path: Path, data: bytes) -> None:
    """Write the fixed file whole or not at all: a temporary file beside it (the link's
    target, for a symlink), flushed to disk with the old file's mode, then renamed over it.
    A full disk or Ctrl-C mid-write leaves the original untouched."""
    target = path.resolve()
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".pystd-fix",
                                     dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
