"""`issue_comment`: `/pystd recheck` on a pull request runs the review again."""

from __future__ import annotations

import re

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.services import Services

router = Router()

RECHECK = re.compile(r"\s*/pystd\s+recheck\s*$", re.IGNORECASE)


def is_recheck(body: str | None) -> bool:
    """The comment's first line is `/pystd recheck` (any case)."""
    first = (body or "").lstrip().splitlines()[:1]
    return bool(first) and RECHECK.match(first[0]) is not None


@router.register("issue_comment", action="created")
async def recheck(event: Event, services: Services) -> None:
    data = event.data
    if not data["issue"].get("pull_request") or not is_recheck(data["comment"].get("body")):
        return
    if data["comment"]["user"].get("type") == "Bot":
        return  # never answer bots, ourselves included
    repo = data["repository"]
    services.schedule_recheck(
        installation_id=int(data["installation"]["id"]),
        owner=repo["owner"]["login"],
        repo=repo["name"],
        number=int(data["issue"]["number"]),
        comment_id=int(data["comment"]["id"]),
        commenter=data["comment"]["user"]["login"],
        delivery_id=event.delivery_id,
    )
