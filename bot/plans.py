"""What pystd will post, decided: the check run's conclusion, title, summary, annotations
and the updates that complete it, and one review's inline comments and body. Pure
functions of findings and diffs (no `gh` here); bot/publish.py sends them.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pystd.bot import messages
from pystd.bot.diff import FileChanges
from pystd.bot.suggestions import Offer, OfferKind, place, plan_offer
from pystd.rules.config import PystdConfig
from pystd.rules.context import module_kind
from pystd.rules.engine import Finding, Severity

CHECK_NAME = "pystd"
ANNOTATIONS_PER_REQUEST = 50  # GitHub's limit per check-run create/update (limits.json)
SUMMARY_LIMIT = 65535  # characters, output.summary and output.text (limits.json)
TITLE_LIMIT = 255
MESSAGE_LIMIT = 60_000  # annotation message: "64 KB" in GitHub's docs, kept well under
_LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}
# A comment's fingerprint and what it offered (older markers have no offer).
_MARKER_RE = re.compile(
    r"<!-- pystd:fingerprint ([0-9a-f]{16})(?: (none|pending|text|suggestion))? -->")
REVIEW_MARKER = "<!-- pystd:review {sha} {nonce} -->"  # finds our review after a lost answer


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str
    # Not checked because something went wrong (the analysis failed, the file could not be
    # fetched), as opposed to a file there is nothing to check in (binary, empty).
    failed: bool = False
    # GitHub may serve it on another attempt (no answer, 5xx, rate limit): the job is
    # retried before the file is reported as not checked (bot/job.py).
    transient: bool = False


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
    said: int = 0  # change-level findings said in the body (maybe nowhere else)

    @property
    def worth_posting(self) -> bool:
        return bool(self.comments) or self.not_commented > 0 or self.said > 0


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


def annotation(finding: Finding, public_url: str | None = None) -> dict[str, Any]:
    """One check-run annotation; columns only on single-line findings (GitHub's rule).
    With a public URL its raw details end with the rule page's address."""
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
    details = []
    if finding.fix is not None:
        details.append(messages.ANNOTATION_FIX.format(
            replacement=finding.fix.replacement.rstrip("\n")))
    if public_url:
        details.append(messages.ANNOTATION_RULE_PAGE.format(
            link=messages.rule_docs_url(finding.code, finding.name, public_url)))
    if details:
        data["raw_details"] = "\n\n".join(details)[:MESSAGE_LIMIT]
    return data


def check_output(analysis: Analysis, config: PystdConfig,
                 public_url: str | None = None) -> CheckOutput:
    """The check run's output; rule links go to `public_url`'s /rules pages when given."""
    analysed = analysis.files_checked > 0 or not analysis.skipped
    failed = sum(1 for s in analysis.skipped if s.failed)
    # Files past GitHub's 3000 were never seen: like a file that could not be checked,
    # that is never a pass.
    conclusion = conclusion_for(analysis.findings, config, analysed,
                                failed > 0 or analysis.truncated)
    if failed and not analysis.findings:
        title = messages.CHECK_TITLE_NOT_CHECKED.format(count=failed)
    elif analysis.truncated and not analysis.findings:
        title = messages.CHECK_TITLE_TRUNCATED
    else:
        title = title_for(analysis.findings) if analysed else messages.CHECK_TITLE_NOTHING
    return CheckOutput(
        conclusion=conclusion,
        title=title,
        summary=summary(analysis, config, public_url),
        annotations=tuple(annotation(f, public_url) for f in analysis.findings),
    )


def summary(analysis: Analysis, config: PystdConfig, public_url: str | None = None) -> str:
    """Markdown: a table per rule with a link to its docs, then what was skipped and why."""
    lines: list[str] = []
    if analysis.config_error:
        lines += [messages.SUMMARY_CONFIG_ERROR.format(error=analysis.config_error), ""]
    if analysis.findings:
        by_rule = Counter((f.code, f.name, f.severity) for f in analysis.findings)
        lines += ["| rule | severity | findings |", "|---|---|---|"]
        for (code, name, severity), count in sorted(by_rule.items()):
            link = messages.rule_docs_url(code, name, public_url)
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


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def completion(conclusion: str, title: str, summary: str,
               annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The body of the PATCH that completes a run."""
    return {"status": "completed", "conclusion": conclusion, "completed_at": now_iso(),
            "output": {"title": title, "summary": summary, "annotations": annotations or []}}


def check_run_steps(output: CheckOutput, review_problem: str | None = None
                    ) -> list[dict[str, Any]]:
    """The updates that complete the check run with `output`: GitHub appends annotations
    on every update, so all batches but the last go first. A review that could not be
    posted (`review_problem`) is said atop the summary; the verdict stands, since it comes
    from the analysis, not from the review's fate."""
    summary = output.summary
    if review_problem is not None:
        note = messages.SUMMARY_REVIEW_NOT_POSTED.format(reason=review_problem)
        summary = f"{note}\n\n{summary}"[:SUMMARY_LIMIT]  # GitHub's limit still holds
    batches = annotation_batches(output.annotations)
    text = {"title": output.title, "summary": summary}
    steps: list[dict[str, Any]] = [{"output": {**text, "annotations": batch}}
                                   for batch in batches[:-1]]
    steps.append(completion(output.conclusion, output.title, summary, batches[-1]))
    return steps


def neutral_steps(title: str, summary: str) -> list[dict[str, Any]]:
    """The one update that completes a run as neutral (stale, failed, stopped)."""
    return [completion("neutral", title, summary)]


# -- review ---------------------------------------------------------------------------------

def fingerprint(finding: Finding, line_text: str, context: str = "") -> str:
    """Stable across pushes: rule, path, the flagged line's text with whitespace folded and
    `context` (see `fingerprints`) — not the line number, which moves when code above it
    changes."""
    normalised = " ".join(line_text.split())
    digest = hashlib.sha256(f"{finding.code}\0{finding.path}\0{normalised}\0{context}".encode())
    return digest.hexdigest()[:16]


_HEADER_RE = re.compile(r"(?:async\s+)?def\s+(\w+)|class\s+(\w+)")


def _scope(lines: Sequence[str], index: int) -> str:
    """The name of the `def`/`class` holding line `index` (0-based), read from indentation
    alone ("" at module level): a signature edited elsewhere keeps its body's fingerprints."""
    def indent(text: str) -> int:
        return len(text) - len(text.lstrip())

    threshold = indent(lines[index])
    for text in reversed(lines[:index]):
        stripped = text.strip()
        if not stripped or stripped.startswith("#") or indent(text) >= threshold:
            continue
        header = _HEADER_RE.match(stripped)
        if header is not None:
            return header.group(1) or header.group(2)
        threshold = indent(text)
    return ""


def fingerprints(findings: Sequence[Finding], sources: Mapping[str, str]) -> list[str]:
    """One fingerprint per finding (same order). Two identical lines in one file are two
    fingerprints: the context is the enclosing `def`/`class` name and the line's rank
    among the lines of that block with the same text (and, for several findings of one rule
    on one line, their rank by column). A finding that merely moved keeps its fingerprint;
    one whose identical twin above it in the same block went away takes the twin's."""
    split: dict[str, tuple[list[str], dict[str, list[int]]]] = {}
    ranks: dict[tuple[str, int], int] = {}
    same_line: Counter[tuple[str, str, int]] = Counter()
    order = sorted(range(len(findings)), key=lambda i: (findings[i].path, findings[i].line,
                                                        findings[i].column))
    prints: dict[int, str] = {}
    for i in order:
        f = findings[i]
        if f.path not in split:
            lines = sources.get(f.path, "").splitlines()
            where: dict[str, list[int]] = {}
            for n, text in enumerate(lines):
                where.setdefault(" ".join(text.split()), []).append(n)
            split[f.path] = (lines, where)
        lines, where = split[f.path]
        if not 0 < f.line <= len(lines):
            prints[i] = fingerprint(f, "", f"line {f.line}")
            continue
        text = " ".join(lines[f.line - 1].split())
        python = f.path.endswith((".py", ".pyi"))
        scope = _scope(lines, f.line - 1) if python else ""
        key = (f.path, f.line)
        if key not in ranks:
            ranks[key] = sum(1 for n in where[text] if n < f.line - 1
                             and (not python or _scope(lines, n) == scope))
        column_rank = same_line[(f.code, f.path, f.line)]
        same_line[(f.code, f.path, f.line)] += 1
        context = f"{scope}\0{ranks[key]}" + (f"\0{column_rank}" if column_rank else "")
        prints[i] = fingerprint(f, text, context)
    return [prints[i] for i in range(len(findings))]


def marker(fp: str, kind: OfferKind = OfferKind.SUGGESTION) -> str:
    return f"<!-- pystd:fingerprint {fp} {kind.label} -->"


def offers_in(bodies: Iterable[str]) -> dict[str, OfferKind]:
    """What pystd's earlier comments (and review bodies) offered, by fingerprint (the most
    any of them offered), read from their hidden markers."""
    found: dict[str, OfferKind] = {}
    for body in bodies:
        for fp, label in _MARKER_RE.findall(body or ""):
            kind = OfferKind.from_label(label or None)
            found[fp] = max(kind, found.get(fp, OfferKind.NONE))
    return found


def fingerprints_in(bodies: Iterable[str]) -> set[str]:
    """Fingerprints of pystd's earlier comments (from their hidden markers)."""
    return set(offers_in(bodies))


def noqa_hint(path: str, code: str) -> str:
    """The suppression comment that works in this file."""
    if module_kind(path).is_template:
        return messages.NOQA_TEMPLATE.format(code=code)
    return messages.NOQA_PYTHON.format(code=code)


def comment_body(finding: Finding, offer: Offer, fp: str, public_url: str | None = None) -> str:
    link = messages.rule_docs_url(finding.code, finding.name, public_url)
    parts = [messages.COMMENT_HEADER.format(code=finding.code, name=finding.name, link=link,
                                            severity=finding.severity.value,
                                            message=finding.message)]
    if offer.kind is OfferKind.SUGGESTION:
        parts.append(f"```suggestion\n{offer.suggestion}\n```")
    elif offer.kind is OfferKind.TEXT:
        if offer.fix_line:
            parts.append(messages.FIX_ELSEWHERE.format(line=offer.fix_line))
        parts.append(messages.FIX_COLLAPSED.format(diff=offer.diff.rstrip("\n")))
    elif offer.kind is OfferKind.PENDING:
        parts.append(messages.FIX_NOT_YET.format(diff=offer.diff.rstrip("\n")))
    parts.append(messages.COMMENT_FOOTER.format(noqa=noqa_hint(finding.path, finding.code)))
    parts.append(marker(fp, offer.kind))
    return "\n\n".join(parts)


def _as_text(offer: Offer) -> Offer:
    """The offer without a suggestion (GitHub refused the multi-line placement)."""
    if offer.kind is not OfferKind.SUGGESTION:
        return offer
    return Offer(OfferKind.TEXT, None, offer.line, diff=offer.diff)


def build_review(findings: Sequence[Finding], changes: Mapping[str, FileChanges],
                 sources: Mapping[str, str], seen: set[str] | Mapping[str, OfferKind],
                 max_comments: int, *, public_url: str | None = None) -> ReviewPlan:
    """Inline comments for findings on changed lines not already commented on earlier
    pushes (or commented without a fix that is now valid), at most
    `max_comments` (errors first); the rest are counted in the body. Change-level findings
    are always said in the body, placed inline too when their line is in the diff."""
    offered = seen if isinstance(seen, Mapping) else dict.fromkeys(seen, OfferKind.SUGGESTION)
    candidates: list[tuple[Finding, Offer, str]] = []
    said: list[tuple[Finding, str]] = []  # change-level findings for the body
    already = 0
    prints = fingerprints(findings, sources)
    order = sorted(zip(findings, prints, strict=True),
                   key=lambda c: (-c[0].severity.rank, c[0].path, c[0].line))
    for finding, fp in order:
        before = offered.get(fp)
        # Said before: again only when it had no valid fix to offer and now has one (a fix
        # that became valid, e.g. once a parameter it must follow lost its default). A fix
        # shown as a diff that could now be a suggestion is not worth a second comment.
        if before is not None and before > OfferKind.PENDING:
            already += 1
            continue
        file_changes = changes.get(finding.path)
        if file_changes is None:
            offer = Offer(OfferKind.NONE, None, 0)
        elif len(candidates) >= max_comments and before is None:
            # Over the cap: only listed, so only its place is worked out (an offer compiles
            # the file once more).
            offer = place(finding, file_changes)
        else:
            offer = plan_offer(finding, sources.get(finding.path, ""), file_changes)
        if before is not None and offer.kind < OfferKind.TEXT:
            already += 1
            continue
        if finding.whole_change and before is None:
            said.append((finding, fp))
        if offer.line == 0:
            continue
        candidates.append((finding, offer, fp))
    chosen = candidates[:max_comments]
    overflow = candidates[max_comments:]
    comments = tuple(
        ReviewComment(f.path, o.line, comment_body(f, o, fp, public_url), o.start_line,
                      comment_body(f, _as_text(o), fp, public_url), listing_line(f, o.line))
        for f, o, fp in sorted(chosen, key=lambda c: (c[0].path, c[1].line))
    )
    body_lines = [messages.REVIEW_BODY.format(count=len(comments))]
    # Change-level findings speak for the whole pull request: say them up front, even when
    # their anchor line is not in the diff (then this is the only place they are said).
    for f, fp in said:
        body_lines.append(f"- **{f.code} {f.name}**: {f.message} {marker(fp, OfferKind.NONE)}")
    if overflow:
        body_lines.append("")
        body_lines.append(messages.REVIEW_OVERFLOW.format(count=len(overflow),
                                                          limit=max_comments))
        for f, o, _fp in overflow[:50]:
            body_lines.append(listing_line(f, o.line))
    return ReviewPlan(
        body="\n".join(body_lines), comments=comments, not_commented=len(overflow),
        already_commented=already, new_findings=tuple(c[0] for c in candidates),
        said=len(said),
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
