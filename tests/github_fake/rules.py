"""GitHub's rules beyond the request schemas, with its error answers.

Wording comes from real api.github.com answers quoted in public issues (cited inline);
where none was found the text is ours and says so. The bot must branch on status codes,
never on these strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .diffs import DiffLine, Hunk, diff_hunk
from .state import PullState

DOCS = "https://docs.github.com/rest"
DOCS_CHECKS_CREATE = "https://docs.github.com/rest/checks/runs#create-a-check-run"
DOCS_CHECKS_UPDATE = "https://docs.github.com/rest/checks/runs#update-a-check-run"
DOCS_REVIEWS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"

# New wording (2026: max-sixty/tend#252, warpdotdev/oz-for-oss#310); before it GitHub said
# "Pull request review thread line must be part of the diff" (parkerbxyz/suggest-changes#28).
LINE_NOT_RESOLVED = "Line could not be resolved"
PATH_NOT_RESOLVED = "Path could not be resolved"
# ubuntu/WSL#244 and parkerbxyz/suggest-changes#64:
START_MUST_PRECEDE = "Pull request review thread start line must precede the end line."
START_SAME_HUNK = "Pull request review thread start line must be part of the same hunk as the line."
COMMIT_NOT_IN_PR = "The commitOID is not part of the pull request"  # reviewdog/reviewdog#434
REQUEST_CHANGES_BODY = "You need to leave a comment indicating the requested changes."  # hubtty#67
COMMENT_BODY = "Body is required when the event is COMMENT."  # ours: docs say "Required when …"


class GitHubError(Exception):
    """An answer other than success, raised where the problem is found."""

    def __init__(self, status: int, body: dict[str, Any],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body.get('message')}")
        self.status, self.body, self.headers = status, body, headers or {}


def not_found(documentation_url: str = DOCS) -> GitHubError:
    return GitHubError(404, {"message": "Not Found", "documentation_url": documentation_url,
                             "status": "404"})


def invalid_request(problems: list[str], documentation_url: str) -> GitHubError:
    """Schema failures: "Invalid request.\\n\\n<one line per problem>" (humanmade/linter-bot#71)."""
    return GitHubError(422, {"message": "Invalid request.\n\n" + "\n".join(problems),
                             "documentation_url": documentation_url, "status": "422"})


def unprocessable(error: str, documentation_url: str = DOCS_REVIEWS) -> GitHubError:
    """Review failures: {"message": "Unprocessable Entity", "errors": [<one string>]}."""
    return GitHubError(422, {"message": "Unprocessable Entity", "errors": [error],
                             "documentation_url": documentation_url, "status": "422"})


def validation_failed(resource: str, field: str, documentation_url: str) -> GitHubError:
    """Model failures, e.g. columns on a multi-line annotation (octokit/octokit.js#1170,
    jenkinsci/github-checks-plugin#20): code "invalid", field "annotations"."""
    return GitHubError(422, {"message": "Validation Failed",
                             "errors": [{"resource": resource, "code": "invalid",
                                         "field": field}],
                             "documentation_url": documentation_url, "status": "422"})


def check_run_rules(body: dict[str, Any], documentation_url: str) -> None:
    """What checks/create|update enforce beyond their schema (shared/github/limits.json
    "checks/create+update"): columns only on one-line annotations, sane line ranges, and
    a conclusion whenever completed_at is given."""
    if "completed_at" in body and "conclusion" not in body:
        raise invalid_request(['"conclusion" wasn\'t supplied.'], documentation_url)
    for annotation in (body.get("output") or {}).get("annotations", []):
        start, end = annotation["start_line"], annotation["end_line"]
        has_columns = "start_column" in annotation or "end_column" in annotation
        bad_columns = has_columns and (
            start != end
            or annotation.get("start_column", 1) > annotation.get("end_column", 10**9))
        if start < 1 or end < start or bad_columns:
            raise validation_failed("CheckRun", "annotations", documentation_url)


@dataclass(frozen=True)
class ResolvedComment:
    """A review comment placed on the diff."""

    path: str
    body: str
    line: int
    side: str
    start_line: int | None
    start_side: str | None
    position: int
    diff_hunk: str


def _locate(hunks: tuple[Hunk, ...], side: str, line: int) -> tuple[int, DiffLine] | None:
    for index, hunk in enumerate(hunks):
        found = hunk.find(side, line)  # type: ignore[arg-type]
        if found:
            return index, found
    return None


def _at_position(hunks: tuple[Hunk, ...], position: int) -> tuple[int, DiffLine] | None:
    for index, hunk in enumerate(hunks):
        for line in hunk.lines:
            if line.position == position:
                return index, line
    return None


def resolve_comment(pr: PullState, comment: dict[str, Any]) -> ResolvedComment:
    """Place one comment of pulls/create-review on the pull request's diff, or raise 422.

    GitHub's rules (docs of pulls/create-review; limits.json "pulls/create-review"): the
    path must be a file of the pull request with a patch; `line` must be shown in a hunk on
    `side` (RIGHT: added or context lines, new numbers; LEFT: deleted or context lines, old
    numbers); `start_line` (on `start_side`, default `side`) must be in the same hunk and
    before `line`. The deprecated `position` counts lines below the file's first "@@".
    """
    entry = pr.entry(comment["path"])
    if entry is None:
        raise unprocessable(PATH_NOT_RESOLVED)
    if entry.patch is None:
        raise unprocessable(LINE_NOT_RESOLVED)
    side = comment.get("side", "RIGHT")
    if side not in ("LEFT", "RIGHT"):
        raise unprocessable(LINE_NOT_RESOLVED)
    if "line" in comment:
        end = _locate(entry.hunks, side, comment["line"])
    elif "position" in comment:
        end = _at_position(entry.hunks, comment["position"])
    else:
        end = None
    if end is None:
        raise unprocessable(LINE_NOT_RESOLVED)
    hunk_index, end_line = end
    side = "LEFT" if end_line.kind == "-" else side if end_line.kind == " " else "RIGHT"
    line = end_line.old if side == "LEFT" else end_line.new
    assert line is not None
    start_line = start_side = None
    if comment.get("start_line") is not None:
        start_side = comment.get("start_side", side)
        if start_side not in ("LEFT", "RIGHT"):
            raise unprocessable(LINE_NOT_RESOLVED)
        start = _locate(entry.hunks, start_side, comment["start_line"])
        if start is None:
            raise unprocessable(LINE_NOT_RESOLVED)
        if start[0] != hunk_index:
            raise unprocessable(START_SAME_HUNK)
        if start[1].position >= end_line.position:
            raise unprocessable(START_MUST_PRECEDE)
        start_line = comment["start_line"]
    assert entry.patch is not None
    return ResolvedComment(
        path=entry.filename, body=comment["body"], line=line, side=side, start_line=start_line,
        start_side=start_side, position=end_line.position,
        diff_hunk=diff_hunk(entry.patch, entry.hunks[hunk_index], end_line))


def review_rules(pr: PullState, body: dict[str, Any]) -> tuple[str, list[ResolvedComment]]:
    """(commit_id, placed comments) for a pulls/create-review body, or raise 422. One bad
    comment refuses the whole review, as GitHub does."""
    commit_id = body.get("commit_id") or pr.head_sha
    if commit_id not in pr.head_history:
        raise unprocessable(COMMIT_NOT_IN_PR)
    event, text = body.get("event"), (body.get("body") or "").strip()
    if event == "REQUEST_CHANGES" and not text:
        raise unprocessable(REQUEST_CHANGES_BODY)
    if event == "COMMENT" and not text:
        raise unprocessable(COMMENT_BODY)
    return commit_id, [resolve_comment(pr, comment) for comment in body.get("comments", [])]
