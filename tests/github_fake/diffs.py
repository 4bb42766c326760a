"""Git's view of file contents, as GitHub's REST API shows it: blob shas, base64 with
line breaks, and per-file `patch` texts (hunks only, no `---`/`+++` header, as in
shared/github/fixtures/angular-github-robot/get-files.json: "@@ -0,0 +1 @@\\n+hello <3").

Written independently of bot/diff.py on purpose: the fake must not share the bot's bugs.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import re
from dataclasses import dataclass
from typing import Literal

Side = Literal["LEFT", "RIGHT"]

CONTEXT_LINES = 3  # git's default (-U3), which GitHub uses for `patch`
NO_NEWLINE = "\\ No newline at end of file"
# git's default funcname rule: the last line before the hunk that starts with a letter,
# "_" or "$" is shown after the second "@@" (truncated; xdiff keeps about 80 bytes).
_FUNCNAME = re.compile(r"^[A-Za-z_$]")
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def git_blob_sha(content: bytes) -> str:
    """The sha git (and GitHub) names a blob by: sha1("blob <size>\\0" + content)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def github_base64(content: bytes) -> str:
    """Base64 split into 60-character lines, each ending in "\\n", as the contents and
    blobs APIs return it (Ruby's Base64.encode64 layout)."""
    text = base64.b64encode(content).decode("ascii")
    return "".join(text[i:i + 60] + "\n" for i in range(0, len(text), 60))


def _lines(content: bytes) -> list[str]:
    """Lines as git splits them: on "\\n" only, keeping it; a last line may lack it."""
    text = content.decode("utf-8", errors="replace")
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"


def _emit(prefix: str, line: str) -> list[str]:
    if line.endswith("\n"):
        return [prefix + line[:-1]]
    return [prefix + line, NO_NEWLINE]


def make_patch(old: bytes, new: bytes) -> str | None:
    """GitHub's `patch` for a change from `old` to `new`; None when nothing changed."""
    a, b = _lines(old), _lines(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out: list[str] = []
    for group in matcher.get_grouped_opcodes(CONTEXT_LINES):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        header = f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@"
        heading = next((line.rstrip("\n") for line in reversed(a[:i1]) if _FUNCNAME.match(line)),
                       "")
        out.append(f"{header} {heading[:80]}" if heading else header)
        for tag, s1, s2, t1, t2 in group:
            if tag == "equal":
                for line in a[s1:s2]:
                    out.extend(_emit(" ", line))
                continue
            for line in a[s1:s2]:
                out.extend(_emit("-", line))
            for line in b[t1:t2]:
                out.extend(_emit("+", line))
    return "\n".join(out) if out else None


@dataclass(frozen=True)
class DiffLine:
    """One line of a patch: its kind (" ", "+", "-"), line numbers and diff position."""

    kind: str
    old: int | None
    new: int | None
    position: int  # lines below the first "@@" header (GitHub's deprecated `position`)


@dataclass(frozen=True)
class Hunk:
    header_index: int  # index of the "@@" line in patch.split("\n")
    lines: tuple[DiffLine, ...]

    def find(self, side: Side, line: int) -> DiffLine | None:
        """The diff line shown at `line` on `side`: RIGHT = context or added (new numbers),
        LEFT = context or deleted (old numbers)."""
        for diff_line in self.lines:
            number = diff_line.new if side == "RIGHT" else diff_line.old
            if number == line:
                return diff_line
        return None


def parse_patch(patch: str) -> list[Hunk]:
    """Hunks of a GitHub `patch` (text after the second "@@" is ignored)."""
    hunks: list[Hunk] = []
    lines: list[DiffLine] = []
    header_index = old = new = 0
    for index, text in enumerate(patch.split("\n")):
        match = _HUNK_HEADER.match(text)
        if match:
            if hunks or lines or index:
                hunks.append(Hunk(header_index, tuple(lines)))
            header_index, lines = index, []
            old, new = int(match.group(1)), int(match.group(3))
            continue
        kind = text[:1] or " "  # a blank context line may lose its leading space
        if kind == " ":
            lines.append(DiffLine(" ", old, new, index))
            old, new = old + 1, new + 1
        elif kind == "-":
            lines.append(DiffLine("-", old, None, index))
            old += 1
        elif kind == "+":
            lines.append(DiffLine("+", None, new, index))
            new += 1
        # "\ No newline at end of file" takes a position but no line number
    if patch:
        hunks.append(Hunk(header_index, tuple(lines)))
    return hunks


def count_changes(patch: str) -> tuple[int, int]:
    """(additions, deletions) of a patch."""
    lines = patch.split("\n")
    return (sum(1 for line in lines if line.startswith("+")),
            sum(1 for line in lines if line.startswith("-")))


def diff_hunk(patch: str, hunk: Hunk, upto: DiffLine) -> str:
    """A review comment's `diff_hunk`: the hunk header and its lines up to the commented one."""
    return "\n".join(patch.split("\n")[hunk.header_index:upto.position + 1])
