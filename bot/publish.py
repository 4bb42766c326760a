"""What pystd posts: the check run's conclusion, title, summary and annotations, and one
review's inline comments. Pure functions of findings and diffs; bot/job.py sends them."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import messages
from bot.diff import FileChanges
from rules.config import PystdConfig
from rules.engine import Finding, Severity

CHECK_NAME = "pystd"
ANNOTATIONS_PER_REQUEST = 50  # GitHub's limit per check-run create/update (limits.json)
SUMMARY_LIMIT = 65535  # characters, output.summary and output.text (limits.json)
TITLE_LIMIT = 255
MESSAGE_LIMIT = 60_000  # annotation message: "64 KB" in GitHub's docs, kept well under
_LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}
_MARKER_RE = re.compile(r"<!-- pystd:fingerprint ([0-9a-f]{16}) -->")
REVIEW_MARKER = "<!-- pystd:review {sha} {nonce} -->"  # finds our review after a lost answer


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str
    # Not checked because something went wrong (the analysis failed, the file could not be
    # fetched), as opposed to a file there is nothing to check in (binary, empty).
    failed: bool = False


@dataclass(frozen=True)
class Analysis:
    """The outcome of one run: findings on changed lines, plus the whole-file findings of
    files GitHub sent no patch for (annotations only), and what could not be checked."""

    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...] = ()
    config_error: str | None = None
    config_source: str | None = None
    files_checked: int = 0
    truncated: bool = False


@dataclass(frozen=True)
class CheckOutput:
    conclusion: str
    title: str
    summary: str
    annotations: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ReviewComment:
    path: str
    line: int
    body: str
    start_line: int | None = None
    plain_body: str = ""  # the body without a suggestion (for a single-line fallback)
    listing: str = ""  # one line for the review body when GitHub refuses the comment

    def single_line(self) -> ReviewComment:
        """The comment on its last line alone, without a suggestion (a suggestion would
        replace only that line)."""
        if self.start_line is None:
            return self
        return ReviewComment(self.path, self.line, self.plain_body or self.body, None,
                             self.plain_body, self.listing)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "line": self.line, "side": "RIGHT",
                                "body": self.body}
        if self.start_line is not None:
            data["start_line"] = self.start_line
            data["start_side"] = "RIGHT"
        return data


@dataclass(frozen=True)
class ReviewPlan:
    """One review: event COMMENT, a body and the inline comments (possibly none)."""

    body: str
    comments: tuple[ReviewComment, ...]
    not_commented: int = 0  # findings over max-comments, counted in the body
    already_commented: int = 0
    new_findings: tuple[Finding, ...] = field(default=())

    @property
    def worth_posting(self) -> bool:
        return bool(self.comments) or self.not_commented > 0


# -- check run ----------------------------------------------------------------------------

def conclusion_for(findings: Sequence[Finding], config: PystdConfig, analysed: bool,
                   failed: bool = False) -> str:
    """`failure` on any finding at or above the gate, whatever else went wrong; else
    `neutral` when nothing was analysed or some file could not be checked (trouble is
    never a pass); else `success`."""
    gate = config.gate
    if gate is not None and any(f.severity.rank >= gate.rank for f in findings):
        return "failure"
    if not analysed or failed:
        return "neutral"
    return "success"


def title_for(findings: Sequence[Finding]) -> str:
    if not findings:
        return messages.CHECK_TITLE_CLEAN
    counts = Counter(f.severity for f in findings)
    parts = [
        f"{counts[s]} {noun if counts[s] == 1 else noun + 's'}"
        for s, noun in ((Severity.ERROR, "error"), (Severity.WARNING, "warning"),
                        (Severity.INFO, "notice"))
        if counts[s]
    ]
    return ", ".join(parts)


def annotation(finding: Finding) -> dict[str, Any]:
    """One check-run annotation; columns only on single-line findings (GitHub's rule)."""
    data: dict[str, Any] = {
        "path": finding.path,
        "start_line": finding.line,
        "end_line": max(finding.end_line, finding.line),
        "annotation_level": _LEVEL[finding.severity],
        "message": finding.message[:MESSAGE_LIMIT],
        "title": f"{finding.code} {finding.name}"[:TITLE_LIMIT],
    }
    if finding.line == finding.end_line and finding.end_column >= finding.column:
        data["start_column"] = finding.column
        data["end_column"] = finding.end_column
    if finding.fix is not None:
        data["raw_details"] = messages.ANNOTATION_FIX.format(
            replacement=finding.fix.replacement.rstrip("\n"))[:MESSAGE_LIMIT]
    return data


def check_output(analysis: Analysis, config: PystdConfig) -> CheckOutput:
    analysed = analysis.files_checked > 0 or not analysis.skipped
    failed = sum(1 for s in analysis.skipped if s.failed)
    conclusion = conclusion_for(analysis.findings, config, analysed, failed > 0)
    if failed and not analysis.findings:
        title = messages.CHECK_TITLE_NOT_CHECKED.format(count=failed)
    else:
        title = title_for(analysis.findings) if analysed else messages.CHECK_TITLE_NOTHING
    return CheckOutput(
        conclusion=conclusion,
        title=title,
        summary=summary(analysis, config),
        annotations=tuple(annotation(f) for f in analysis.findings),
    )


def summary(analysis: Analysis, config: PystdConfig) -> str:
    """Markdown: a table per rule with a link to its docs, then what was skipped and why."""
    lines: list[str] = []
    if analysis.config_error:
        lines += [messages.SUMMARY_CONFIG_ERROR.format(error=analysis.config_error), ""]
    if analysis.findings:
        by_rule = Counter((f.code, f.name, f.severity) for f in analysis.findings)
        lines += ["| rule | severity | findings |", "|---|---|---|"]
        for (code, name, severity), count in sorted(by_rule.items()):
            link = messages.rule_docs_url(code, name)
            lines.append(f"| [{code} {name}]({link}) | {severity.value} | {count} |")
        lines.append("")
        gate = config.fail_on
        lines.append(messages.SUMMARY_GATE.format(gate=gate))
    else:
        lines.append(messages.SUMMARY_CLEAN.format(files=analysis.files_checked))
    if analysis.truncated:
        lines += ["", messages.SUMMARY_TRUNCATED]
    if analysis.skipped:
        lines += ["", messages.SUMMARY_SKIPPED_HEADER, ""]
        lines += [f"- `{s.path}`: {s.reason}" for s in analysis.skipped[:200]]
        if len(analysis.skipped) > 200:
            lines.append(f"- … and {len(analysis.skipped) - 200} more")
    text = "\n".join(lines)
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 20] + "\n\n… (cut)"


def annotation_batches(annotations: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """At most 50 per request; the first batch goes with the completing update."""
    return [list(annotations[i:i + ANNOTATIONS_PER_REQUEST])
            for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)] or [[]]


# -- review ---------------------------------------------------------------------------------

def fingerprint(finding: Finding, line_text: str) -> str:
    """Stable across pushes: rule, path and the flagged line's text with whitespace
    folded — not the line number, which moves when code above it changes."""
    normalised = " ".join(line_text.split())
    digest = hashlib.sha256(f"{finding.code}\0{finding.path}\0{normalised}".encode())
    return digest.hexdigest()[:16]


def marker(fp: str) -> str:
    return f"<!-- pystd:fingerprint {fp} -->"


def fingerprints_in(bodies: Iterable[str]) -> set[str]:
    """Fingerprints of pystd's earlier comments (from their hidden markers)."""
    found: set[str] = set()
    for body in bodies:
        found.update(_MARKER_RE.findall(body or ""))
    return found


def _placement(finding: Finding, changes: FileChanges) -> tuple[int | None, int, bool]:
    """(start_line, line, with_suggestion) for a comment GitHub will accept, or line 0.

    A suggestion replaces exactly the commented lines, so a fix is suggested only when its
    whole line range lies inside one hunk; otherwise the comment sits on the finding's
    lines that are in the diff."""
    ok = changes.commentable
    fix = finding.fix
    if fix is not None and all(n in ok for n in range(fix.line, fix.end_line + 1)):
        touches = any(n in changes.added for n in range(fix.line, fix.end_line + 1)) or any(
            n in changes.added for n in range(finding.line, finding.end_line + 1))
        if touches:
            start = fix.line if fix.end_line > fix.line else None
            return start, fix.end_line, True
    span = range(finding.line, finding.end_line + 1)
    if all(n in ok for n in span) and finding.end_line > finding.line:
        return finding.line, finding.end_line, False
    for n in span:
        if n in changes.added:
            return None, n, False
    return None, 0, False


def comment_body(finding: Finding, with_suggestion: bool, fp: str) -> str:
    link = messages.rule_docs_url(finding.code, finding.name)
    parts = [messages.COMMENT_HEADER.format(code=finding.code, name=finding.name, link=link,
                                            severity=finding.severity.value,
                                            message=finding.message)]
    fix = finding.fix
    if with_suggestion and fix is not None:
        replacement = fix.replacement[:-1] if fix.replacement.endswith("\n") else fix.replacement
        parts.append(f"```suggestion\n{replacement}\n```")
        if fix.imports:
            imports = "\n".join(fix.imports)
            parts.append(messages.COMMENT_IMPORTS.format(imports=imports))
    parts.append(messages.COMMENT_FOOTER.format(code=finding.code))
    parts.append(marker(fp))
    return "\n\n".join(parts)


def build_review(findings: Sequence[Finding], changes: Mapping[str, FileChanges],
                 sources: Mapping[str, str], seen: set[str], max_comments: int) -> ReviewPlan:
    """Inline comments for findings on changed lines not already commented on earlier
    pushes, at most `max_comments` (errors first); the rest are counted in the body."""
    candidates: list[tuple[Finding, int | None, int, bool, str]] = []
    already = 0
    order = sorted(findings, key=lambda f: (-f.severity.rank, f.path, f.line))
    for finding in order:
        file_changes = changes.get(finding.path)
        if file_changes is None:
            continue
        lines = sources.get(finding.path, "").splitlines()
        text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        fp = fingerprint(finding, text)
        if fp in seen:
            already += 1
            continue
        start, line, suggest = _placement(finding, file_changes)
        if line == 0:
            continue
        candidates.append((finding, start, line, suggest, fp))
    chosen = candidates[:max_comments]
    overflow = candidates[max_comments:]
    comments = tuple(
        ReviewComment(f.path, line, comment_body(f, suggest, fp), start,
                      comment_body(f, False, fp), listing_line(f, line))
        for f, start, line, suggest, fp in sorted(chosen, key=lambda c: (c[0].path, c[2]))
    )
    body_lines = [messages.REVIEW_BODY.format(count=len(comments))]
    # Change-level findings (PYS9xx) speak for the whole pull request: say them up front.
    for f, *_rest in candidates:
        if f.code.startswith("PYS9"):
            body_lines.append(f"- **{f.code} {f.name}**: {f.message}")
    if overflow:
        body_lines.append("")
        body_lines.append(messages.REVIEW_OVERFLOW.format(count=len(overflow),
                                                          limit=max_comments))
        for f, _s, line, _g, _fp in overflow[:50]:
            body_lines.append(listing_line(f, line))
    return ReviewPlan(
        body="\n".join(body_lines), comments=comments, not_commented=len(overflow),
        already_commented=already, new_findings=tuple(c[0] for c in candidates),
    )


def listing_line(finding: Finding, line: int) -> str:
    """A finding as one line of a review body (over the cap, or refused inline)."""
    return f"- `{finding.path}:{line}` {finding.code} {finding.message}"


def review_marker(head_sha: str, nonce: str) -> str:
    """The hidden marker that identifies one review we post, found again by listing the
    pull request's reviews when GitHub's answer to the POST was lost."""
    return REVIEW_MARKER.format(sha=head_sha, nonce=nonce)


def review_body(plan: ReviewPlan, refused: Sequence[ReviewComment], reason: str | None,
                marker_text: str) -> str:
    """The review's body: the plan's, the comments GitHub refused inline (so none is lost)
    and the marker."""
    parts = [plan.body]
    if refused:
        lines = [messages.REVIEW_REFUSED.format(count=len(refused), reason=reason or "")]
        lines += [c.listing for c in refused]
        parts.append("\n".join(lines))
    parts.append(marker_text)
    return "\n\n".join(parts)
