"""`issue_comment`: `/pystd recheck` on an open pull request runs the review again."""

from __future__ import annotations

import re

from pystd.bot.events import IssueCommentEvent
from pystd.bot.handlers.routing import Router
from pystd.bot.services import RecheckRequest, Services

router = Router()

RECHECK = re.compile(r"\s*/pystd\s+recheck\s*$", re.IGNORECASE)


def is_recheck(body: str | None) -> bool:
    """The comment's first line is `/pystd recheck` (any case)."""
    first = (body or "").lstrip().splitlines()[:1]
    return bool(first) and RECHECK.match(first[0]) is not None


@router.register(IssueCommentEvent, "created")
async def recheck(event: IssueCommentEvent, services: Services) -> bool:
    issue, comment = event.issue, event.comment
    if not issue.is_pull_request or not is_recheck(comment.body):
        return False
    if comment.user.type == "Bot":
        return False  # never answer bots, ourselves included
    if issue.state != "open":
        return False  # a closed pull request is not reviewed: nothing runs, nothing is written
    return await services.schedule_recheck(RecheckRequest(
        installation_id=event.installation.id,
        owner=event.repository.owner.login,
        repo=event.repository.name,
        number=issue.number,
        comment_id=comment.id,
        commenter=comment.user.login,
        author=issue.user.login if issue.user is not None else None,
        delivery_id=event.delivery_id,
    ))
