"""Checks events: "Re-run" on our check run or suite, and merge queue groups."""

from __future__ import annotations

from pystd.bot.events import CheckRunEvent, CheckSuiteEvent, MergeGroupEvent, PullRequestRef
from pystd.bot.handlers.routing import Router
from pystd.bot.services import Services
from pystd.bot.targets import ReviewTarget

router = Router()


@router.register(CheckRunEvent, "rerequested")
async def rerun_check_run(event: CheckRunEvent, services: Services) -> bool:
    run = event.check_run
    app_id = services.settings.app_id
    if app_id is not None and run.app.id != app_id:
        return False  # another app's check run
    return await _rerun(event, services, run.head_sha, run.pull_requests)


@router.register(CheckSuiteEvent, "rerequested")
async def rerun_check_suite(event: CheckSuiteEvent, services: Services) -> bool:
    suite = event.check_suite
    return await _rerun(event, services, suite.head_sha, suite.pull_requests)


async def _rerun(event: CheckRunEvent | CheckSuiteEvent, services: Services, head_sha: str,
           pulls: list[PullRequestRef]) -> bool:
    """GitHub lists only the open pull requests at `head_sha` (none for a fork's branch,
    which the job then looks up among the open ones): a closed one is never re-run."""
    await services.schedule_rerun(
        installation_id=event.installation.id,
        owner=event.repository.owner.login,
        repo=event.repository.name,
        head_sha=head_sha,
        pulls=[p.model_dump() for p in pulls],
        delivery_id=event.delivery_id,
    )
    return True


@router.register(MergeGroupEvent, "checks_requested")
async def check_merge_group(event: MergeGroupEvent, services: Services) -> bool:
    """A required check that ignores the merge queue deadlocks it: report on the group's
    head sha, judging the changes between its base and head."""
    group = event.merge_group
    await services.schedule_review(ReviewTarget(
        installation_id=event.installation.id,
        owner=event.repository.owner.login,
        repo=event.repository.name,
        number=0,
        head_sha=group.head_sha,
        base_sha=group.base_sha,
        delivery_id=event.delivery_id,
        merge_group=True,
    ))
    return True
