"""`pull_request`: review on open, push, reopen and ready-for-review."""

from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.job import ReviewTarget
from bot.services import Services

router = Router()


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
async def review_pull_request(event: Event, services: Services) -> None:
    pr = event.data["pull_request"]
    repo = event.data["repository"]
    services.schedule_review(ReviewTarget(
        installation_id=int(event.data["installation"]["id"]),
        owner=repo["owner"]["login"],
        repo=repo["name"],
        number=int(pr["number"]),
        head_sha=pr["head"]["sha"],
        base_sha=pr["base"]["sha"],
        delivery_id=event.delivery_id,
        fresh=event.data["action"] == "opened",
    ))
