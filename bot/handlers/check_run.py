"""Checks events: "Re-run" on our check run or suite, and merge queue groups."""

from __future__ import annotations

from gidgethub.routing import Router
from gidgethub.sansio import Event

from bot.job import ReviewTarget
from bot.services import Services

router = Router()


@router.register("check_run", action="rerequested")
async def rerun_check_run(event: Event, services: Services) -> None:
    run = event.data["check_run"]
    app_id = services.settings.app_id
    if app_id is not None and run.get("app", {}).get("id") != app_id:
        return  # another app's check run
    _rerun(event, services, run["head_sha"], run.get("pull_requests") or [])


@router.register("check_suite", action="rerequested")
async def rerun_check_suite(event: Event, services: Services) -> None:
    suite = event.data["check_suite"]
    _rerun(event, services, suite["head_sha"], suite.get("pull_requests") or [])


def _rerun(event: Event, services: Services, head_sha: str, pulls: list[dict]) -> None:
    repo = event.data["repository"]
    services.schedule_rerun(
        installation_id=int(event.data["installation"]["id"]),
        owner=repo["owner"]["login"],
        repo=repo["name"],
        head_sha=head_sha,
        pulls=pulls,
        delivery_id=event.delivery_id,
    )


@router.register("merge_group", action="checks_requested")
async def check_merge_group(event: Event, services: Services) -> None:
    """A required check that ignores the merge queue deadlocks it: report on the group's
    head sha, judging the changes between its base and head."""
    group = event.data["merge_group"]
    repo = event.data["repository"]
    services.schedule_review(ReviewTarget(
        installation_id=int(event.data["installation"]["id"]),
        owner=repo["owner"]["login"],
        repo=repo["name"],
        number=0,
        head_sha=group["head_sha"],
        base_sha=group["base_sha"],
        delivery_id=event.delivery_id,
    ))
