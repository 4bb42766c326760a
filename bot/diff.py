"""Unified diffs -> the lines a change touched on the new (right) side.

Two sources, one parser (unidiff): GitHub's per-file `patch` (hunks without file headers)
for the App, and `git diff` output for `pystd check --diff`.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from dataclasses import dataclass

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError


class DiffError(Exception):
    """A diff that cannot be parsed."""


@dataclass(frozen=True)
class FileChanges:
    """What a change did to one file, on the right side."""

    path: str
    # Lines added or modified in their code (the lines a finding must touch); a line whose
    # only change is a comment or whitespace is not among them (see `_code_of`).
    added: frozenset[int]
    commentable: frozenset[int]  # every right-side line inside a hunk (added or context)
    status: str = "modified"  # added | modified | removed | renamed
    previous_path: str | None = None
    # Each hunk as (first right-side line, right-side length, lines as (kind, text)),
    # kind "+", "-" or " ": enough to rebuild the left side from the right.
    hunks: tuple[tuple[int, int, tuple[tuple[str, str], ...]], ...] = ()

    def old_text(self, new_text: str) -> str | None:
        """The file before the change, rebuilt from its new text and the hunks (None when
        the hunks do not fit the text)."""
        # Hunks count "\n" only; str.splitlines would also break at \x0c, \x1c-\x1e,
        # \x85, \u2028 ... and shift every line after one of them.
        new_lines = re.findall(r"[^\n]*\n|[^\n]+\Z", new_text)
        out: list[str] = []
        at = 0  # index into new_lines of the next line not yet copied
        for start, length, lines in self.hunks:
            first = max(start - 1, 0) if length else start  # a pure deletion sits after
            if first < at or first > len(new_lines):
                return None
            out.extend(new_lines[at:first])
            at = first
            for kind, text in lines:
                if kind == "-":
                    out.append(text)
                elif kind == "+":
                    at += 1
                else:
                    if at >= len(new_lines):
                        return None
                    out.append(new_lines[at])
                    at += 1
        out.extend(new_lines[at:])
        return "".join(out)


def _code_of(line: str, python: bool) -> str:
    """A line's code without comments and layout: its tokens, space-separated. Two lines
    with the same code differ only in a comment or whitespace (a suppression marker
    renamed, a formatter pass), which does not make their old findings new."""
    if not python:
        return " ".join(line.split())
    tokens: list[str] = []
    read_to = 0  # column after the last token read
    try:
        for tok in tokenize.generate_tokens(io.StringIO(line).readline):
            if tok.type not in _LAYOUT:
                tokens.append(tok.string)
            if tok.end[0] == 1:
                read_to = tok.end[1]
    except (tokenize.TokenError, SyntaxError):
        # A line of a longer statement: the tokens read so far, and whatever the tokenizer
        # could not read (a string that runs on, `f"""SELECT {table}`) are its code.
        tokens.extend(line[read_to:].split())
    return " ".join(tokens)


_LAYOUT = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                     tokenize.DEDENT, tokenize.ENDMARKER})


def _recoded(hunk: object, python: bool) -> set[int]:
    """Right-side lines of `hunk` added with only a comment or whitespace changed: each
    is matched with a removed line of the same code in the hunk (each removed line once)."""
    removed = Counter(_code_of(line.value, python) for line in hunk  # type: ignore[attr-defined]
                      if line.is_removed)
    same: set[int] = set()
    for line in hunk:  # type: ignore[attr-defined]
        if line.is_added:
            code = _code_of(line.value, python)
            if removed[code] > 0:
                removed[code] -= 1
                same.add(line.target_line_no)
    return same


def _file_changes(patched: object, path: str) -> FileChanges:
    added: set[int] = set()
    commentable: set[int] = set()
    hunks = []
    python = path.endswith((".py", ".pyi"))
    for hunk in patched:  # type: ignore[attr-defined]
        hunks.append((hunk.target_start, hunk.target_length,
                      tuple((line.line_type, line.value) for line in hunk
                            if line.line_type in ("+", "-", " "))))
        cosmetic = _recoded(hunk, python)
        for line in hunk:
            if line.target_line_no is None:
                continue
            commentable.add(line.target_line_no)
            if line.is_added and line.target_line_no not in cosmetic:
                added.add(line.target_line_no)
    if patched.is_added_file:  # type: ignore[attr-defined]
        status = "added"
    elif patched.is_removed_file:  # type: ignore[attr-defined]
        status = "removed"
    elif patched.is_rename:  # type: ignore[attr-defined]
        status = "renamed"
    else:
        status = "modified"
    source = patched.source_file  # type: ignore[attr-defined]
    previous = source[2:] if source.startswith(("a/", "b/")) else source
    return FileChanges(path, frozenset(added), frozenset(commentable), status,
                       previous if status == "renamed" else None, tuple(hunks))


def patch_changes(path: str, patch: str) -> FileChanges:
    """Changed lines of one file from GitHub's `patch` field (hunks only, no headers)."""
    text = f"--- a/{path}\n+++ b/{path}\n{patch}"
    if not text.endswith("\n"):
        text += "\n"
    try:
        patches = PatchSet(text)
    except UnidiffParseError as exc:
        raise DiffError(f"{path}: unparsable patch: {exc}") from None
    if not patches:
        return FileChanges(path, frozenset(), frozenset())
    return _file_changes(patches[0], path)


def git_diff_changes(diff: str) -> dict[str, FileChanges]:
    """Per-file changes from `git diff` output, keyed by the new path (repo-relative)."""
    try:
        patches = PatchSet(diff)
    except UnidiffParseError as exc:
        raise DiffError(f"unparsable git diff: {exc}") from None
    out: dict[str, FileChanges] = {}
    for patched in patches:
        target = patched.target_file
        path = patched.path if target == "/dev/null" else target.removeprefix("b/")
        out[path] = _file_changes(patched, path)
    return out
