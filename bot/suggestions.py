"""What a review comment offers as a fix, decided so that GitHub's "Commit suggestion"
button never breaks the module.

A ```suggestion block replaces exactly the commented lines `start_line..line` and nothing
else, so a fix is offered as one only when that replacement alone leaves a module that
parses and names nothing new it lacks:
- a fix whose `imports` the file lacks is suggested only when one multi-line suggestion can
  run from the import insertion point to the fix's end (every line in one hunk of the diff,
  at most `MAX_IMPORT_SPAN` lines); otherwise the whole fix, imports included, is shown as a
  collapsed diff;
- a fix on other lines than its finding (an `async def` made `def` for a blocking call) is
  commented on the finding, with a suggestion covering both when they are close and in one
  hunk, and described in words with the collapsed diff when not;
- a fix that does not compile once applied is never a suggestion: it is shown as a diff
  that is not valid yet, and offered again on a later push that makes it valid.
Pure functions of the finding, the file's text and its diff.
"""

from __future__ import annotations

import ast
import enum
import re
from dataclasses import dataclass

from pystd.bot.diff import FileChanges
from pystd.rules.engine import Finding, Fix

MAX_IMPORT_SPAN = 12  # lines of a suggestion that also adds an import: read, then clicked
MAX_FIX_DISTANCE = 8  # lines between a finding and a fix on other lines (async def -> def)


class OfferKind(enum.IntEnum):
    """How much a comment offers; a later push re-offers a finding whose offer grows."""

    NONE = 0  # no fix: the message alone
    PENDING = 1  # a fix that does not compile applied alone yet (shown as a diff, re-offered)
    TEXT = 2  # the fix as a collapsed diff, to apply by hand
    SUGGESTION = 3  # a ```suggestion block, applied alone by GitHub's button

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str | None) -> OfferKind:
        # Markers written before offers were recorded: they may hold a suggestion, so they
        # are never re-offered.
        return cls[label.upper()] if label else cls.SUGGESTION


@dataclass(frozen=True)
class Offer:
    """Where the comment sits (`line` 0: nowhere GitHub accepts) and what it offers."""

    kind: OfferKind
    start_line: int | None
    line: int
    suggestion: str = ""  # the block's text (kind SUGGESTION), without a final newline
    diff: str = ""  # the whole fix as a unified diff (kinds SUGGESTION and TEXT)
    fix_line: int = 0  # the line the fix starts on, when the comment does not cover it


def split_lines(text: str) -> list[str]:
    """Lines with their "\\n", split as diffs count them (not str.splitlines)."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def apply_fix(lines: list[str], fix: Fix, with_imports: bool = True) -> list[str]:
    """The file's lines with the fix (and its imports) applied."""
    out = lines[: fix.line - 1] + split_lines(fix.replacement) + lines[fix.end_line:]
    if with_imports and fix.imports:
        at = fix.import_line - 1 if fix.import_line <= fix.line else fix.import_line - 1 + (
            len(split_lines(fix.replacement)) - (fix.end_line - fix.line + 1))
        out[at:at] = [f"{imp}\n" for imp in fix.imports]
    return out


def fix_diff(lines: list[str], fix: Fix, path: str) -> str:
    """The fix (imports included) as a unified diff with one line of context, built from
    the edits themselves (no whole-file diff: files may be long and findings many)."""
    start, end, new = fix.line - 1, fix.end_line, split_lines(fix.replacement)
    while start < end and new and lines[start] == new[0]:  # lines the fix leaves alone
        start, new = start + 1, new[1:]
    while start < end and new and lines[end - 1] == new[-1]:
        end, new = end - 1, new[:-1]
    edits = [(start, end, new)]
    if fix.imports:
        edits.insert(0, (fix.import_line - 1, fix.import_line - 1,
                         [f"{imp}\n" for imp in fix.imports]))
    groups: list[list[tuple[int, int, list[str]]]] = []
    for edit in edits:
        if groups and edit[0] - groups[-1][-1][1] <= 2:  # contexts touch: one hunk
            groups[-1].append(edit)
        else:
            groups.append([edit])
    out = [f"--- a/{path}\n", f"+++ b/{path}\n"]
    shift = 0
    for group in groups:
        first, last = max(group[0][0] - 1, 0), min(group[-1][1] + 1, len(lines))
        body: list[str] = []
        at = first
        for start, end, new in group:
            body += [f" {text}" for text in lines[at:start]]
            body += [f"-{text}" for text in lines[start:end]] + [f"+{text}" for text in new]
            at = end
        body += [f" {text}" for text in lines[at:last]]
        old_length = last - first
        new_length = old_length + sum(len(new) - (end - start) for start, end, new in group)
        out.append(f"@@ -{first + 1},{old_length} +{first + 1 + shift},{new_length} @@\n")
        out += [text if text.endswith("\n") else text + "\n" for text in body]
        shift += new_length - old_length
    return "".join(out)


def parses(lines: list[str], path: str) -> bool:
    """Does the text compile (Python files only; templates are not checked)?"""
    if not path.endswith((".py", ".pyi")):
        return True
    try:
        compile("".join(lines), path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _one_hunk(changes: FileChanges, first: int, last: int) -> bool:
    """Are right-side lines first..last all inside one hunk (GitHub's rule for a
    multi-line comment, see limits.json and tests/github_fake/rules.py)?"""
    for start, length, _lines in changes.hunks:
        if start <= first and last <= start + length - 1:
            return all(n in changes.commentable for n in range(first, last + 1))
    return False


def _own_place(finding: Finding, changes: FileChanges) -> tuple[int | None, int]:
    """The finding's own lines as a comment GitHub accepts, or line 0."""
    span = range(finding.line, finding.end_line + 1)
    if finding.end_line > finding.line and _one_hunk(changes, finding.line, finding.end_line):
        return finding.line, finding.end_line
    for n in span:
        if n in changes.added:
            return None, n
    return None, 0


def place(finding: Finding, changes: FileChanges) -> Offer:
    """The finding's own place, offering nothing (cheap: no fix applied)."""
    start, line = _own_place(finding, changes)
    return Offer(OfferKind.NONE, start, line)


def _touches(finding: Finding, fix: Fix, changes: FileChanges) -> bool:
    lines = set(range(fix.line, fix.end_line + 1)) | set(finding.lines())
    return not changes.added.isdisjoint(lines)


def _span(finding: Finding, fix: Fix) -> tuple[int, int, int] | None:
    """(first, last, limit) of the one suggestion that holds the fix, its imports and the
    finding's first line, or None when no such suggestion may exist."""
    first, last = min(fix.line, finding.line), max(fix.end_line, finding.line)
    limit = 0  # no limit: the fix's own lines
    if not fix.line <= finding.line <= fix.end_line:
        limit = fix.end_line - fix.line + 1 + MAX_FIX_DISTANCE
        if finding.line - fix.end_line > MAX_FIX_DISTANCE or \
                fix.line - finding.line > MAX_FIX_DISTANCE:
            return None
    if fix.imports:
        if not fix.import_line <= fix.line:
            return None  # imports below the fix: never seen; not worth a special case
        first = min(first, fix.import_line)
        limit = MAX_IMPORT_SPAN
    return first, last, limit


def plan_offer(finding: Finding, source: str, changes: FileChanges) -> Offer:
    """What the comment on `finding` offers, and where it sits."""
    start, line = _own_place(finding, changes)
    fix = finding.fix
    if fix is None:
        return Offer(OfferKind.NONE, start, line)
    lines = split_lines(source)
    if fix.end_line > len(lines):
        return Offer(OfferKind.NONE, start, line)
    fixed = apply_fix(lines, fix)
    diff = fix_diff(lines, fix, finding.path)
    if not parses(fixed, finding.path) and parses(lines, finding.path):
        # Valid only after another change (a parameter that may not lose its default while
        # one before it keeps one): shown, never suggested, and offered again once valid.
        # (A file this Python cannot compile, newer syntax, cannot be judged: the rule's
        # fix, which libcst validated, is trusted as before.)
        return Offer(OfferKind.PENDING, start, line, diff=diff)
    span = _span(finding, fix)
    if span is not None and _touches(finding, fix, changes):
        first, last, limit = span
        if (not limit or last - first + 1 <= limit) and _one_hunk(changes, first, last):
            new = fixed[first - 1: len(fixed) - (len(lines) - last)]
            alone = lines[: first - 1] + new + lines[last:]
            if alone == fixed:  # the suggestion alone is the whole fix: it parses
                text = "".join(new)
                return Offer(OfferKind.SUGGESTION, first if last > first else None, last,
                             text[:-1] if text.endswith("\n") else text, diff)
    if line == 0:  # the finding's lines are not in the diff: comment on the fix's
        fix_start, fix_line = _own_place(
            Finding(finding.code, finding.name, finding.severity, finding.path, fix.line,
                    1, fix.end_line, 1, finding.message), changes)
        return Offer(OfferKind.TEXT, fix_start, fix_line, diff=diff)
    covered = range(start or line, line + 1)
    away = fix.line if fix.line not in covered and fix.end_line not in covered else 0
    return Offer(OfferKind.TEXT, start, line, diff=diff, fix_line=away)
