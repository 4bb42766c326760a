"""`pull_request`: review on open, push, reopen and ready-for-review."""

from __future__ import annotations

from pystd.bot.events import PullRequestEvent
from pystd.bot.handlers.routing import Router
from pystd.bot.services import Services
from pystd.bot.targets import ReviewTarget

router = Router()


@router.register(PullRequestEvent, "opened", "synchronize", "reopened", "ready_for_review")
async def review_pull_request(event: PullRequestEvent, services: Services) -> bool:
    pr = event.pull_request
    if pr.state != "open":
        return False  # a delivery that raced the pull request's closing
    await services.schedule_review(ReviewTarget(
        installation_id=event.installation.id,
        owner=event.repository.owner.login,
        repo=event.repository.name,
        number=pr.number,
        head_sha=pr.head.sha,
        base_sha=pr.base.sha,
        delivery_id=event.delivery_id,
        fresh=event.action == "opened",
    ))
    return True
