"""Posting one review on a flaky GitHub: at most one review per attempt, and no inline
comment lost.

- A POST whose answer was lost (`AmbiguousWrite`) may have been processed: before posting
  again, the pull request's reviews are listed and ours is found by its hidden marker.
- A 422 refuses the whole review for one comment GitHub cannot place. It may be transient,
  so the same payload is sent once more; then only what the 422 points at is dropped
  (multi-line placement -> single-line comments without suggestion; an unresolvable line
  or path -> single-line comments on added lines only), then every inline comment. Each
  refused comment is listed in the review body.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import gidgethub

from pystd.bot.github import (
    AmbiguousWrite,
    GitHubError,
    InstallationClient,
    describe_error,
    is_transient,
)
from pystd.bot.plans import ReviewComment, ReviewPlan, review_body, review_marker

log = logging.getLogger(__name__)

# What GitHub's 422 says (wording quoted in tests/github_fake/rules.py, from public issues).
MULTI_LINE_PROBLEMS = ("start line", "start_line")
UNPLACEABLE_PROBLEMS = ("could not be resolved", "must be part of the diff")
MAX_NARROWING = 3


@dataclass(frozen=True)
class ReviewResult:
    """What became of the review: posted or not (`problem` says why), inline comments
    kept, and comments listed in the body instead; `transient`: not posted for a reason
    that may pass (no answer, 5xx, rate limit), so the job may try again."""

    posted: bool
    inline: int = 0
    listed: int = 0
    problem: str | None = None
    transient: bool = False

    @classmethod
    def failed(cls, exc: BaseException) -> ReviewResult:
        """Not posted because of `exc`, which tells whether another attempt may help."""
        return cls(False, problem=describe_error(exc), transient=is_transient(exc))


def narrowed(comments: Sequence[ReviewComment], problem: str,
             added: Mapping[str, frozenset[int]]) -> list[ReviewComment]:
    """The comments that survive what a 422 points at (pure: decided, not sent)."""
    text = problem.lower()
    if any(p in text for p in MULTI_LINE_PROBLEMS):
        return [c.single_line() for c in comments]
    if any(p in text for p in UNPLACEABLE_PROBLEMS):
        return [c for c in comments
                if c.start_line is None and c.line in added.get(c.path, frozenset())]
    return []


async def post_review(gh: InstallationClient, owner: str, repo: str, number: int,
                      head_sha: str, plan: ReviewPlan, added: Mapping[str, frozenset[int]],
                      attempts: int) -> ReviewResult:
    """Post the plan as one COMMENT review; never raises for GitHub's sake."""
    comments = list(plan.comments)
    refused: list[ReviewComment] = []
    reason: str | None = None
    retried_same = False
    narrowing = 0
    while True:
        marker = review_marker(head_sha, secrets.token_hex(6))
        payload = {"commit_id": head_sha, "event": "COMMENT",
                   "body": review_body(plan, refused, reason, marker),
                   "comments": [c.payload() for c in comments]}
        try:
            await _post_once(gh, owner, repo, number, payload, marker, attempts)
            return ReviewResult(True, len(comments), len(refused))
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) != 422 or not comments:
                return ReviewResult.failed(exc)
            problem = describe_error(exc)
        except (GitHubError, gidgethub.HTTPException) as exc:
            return ReviewResult.failed(exc)
        log.warning("review refused: %s", problem)
        if not retried_same:  # a 422 may be transient: the same payload once more
            retried_same = True
            continue
        narrowing += 1
        keep = narrowed(comments, problem, added) if narrowing < MAX_NARROWING else []
        if keep == comments:
            keep = []
        kept_places = {(c.path, c.line) for c in keep}
        refused += [c for c in comments if (c.path, c.line) not in kept_places]
        reason = problem
        comments = keep


async def _post_once(gh: InstallationClient, owner: str, repo: str, number: int,
                     payload: Mapping[str, object], marker: str, attempts: int) -> None:
    """POST the review so that it exists once: after a lost answer, look for its marker
    before posting again."""
    url_vars: dict[str, str | int] = {"owner": owner, "repo": repo, "number": number}
    unsure = False
    for attempt in range(1, attempts + 1):
        try:
            if unsure:
                if await _posted(gh, url_vars, marker):
                    return
                unsure = False
            await gh.post("/repos/{owner}/{repo}/pulls/{number}/reviews", url_vars,
                          data=payload)
            return
        except AmbiguousWrite as exc:
            log.warning("review POST unanswered (%s); looking for it", describe_error(exc))
            unsure = True
        except gidgethub.BadRequest:
            raise
        except (GitHubError, gidgethub.GitHubBroken):
            if attempt == attempts:
                raise
        await gh.sleep(gh.backoff(attempt))
    raise GitHubError("GitHub did not confirm the review")


async def _posted(gh: InstallationClient, url_vars: Mapping[str, str | int], marker: str) -> bool:
    url = "/repos/{owner}/{repo}/pulls/{number}/reviews?per_page=100"
    async for review in gh.getiter(url, url_vars):
        if marker in (review.get("body") or ""):
            return True
    return False
