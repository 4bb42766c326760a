"""The webhook events pystd acts on, as typed models parsed at the edge.

Only the fields the handlers read are declared; everything else GitHub sends is ignored,
so older deliveries (shared/github/webhooks-extra) and newer ones both parse. A payload
whose declared fields have the wrong shape (`issue` a string, `comment.user` null, a
number for `comment.body`) raises `MalformedEvent`, which the webhook answers with a 400:
it is GitHub's delivery that is wrong, not pystd.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class MalformedEvent(Exception):
    """A signed delivery whose payload is not what GitHub documents; the message says why."""


class _Model(BaseModel):
    # Extra fields are GitHub's business; our fields must have the documented type
    # (strict: "7" is not an id, 7 is not a comment body).
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class Account(_Model):
    login: str
    type: str = "User"


class Repository(_Model):
    name: str
    owner: Account

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


class Installation(_Model):
    id: int


class Commit(_Model):
    sha: str


class PullRequestRef(_Model):
    """A pull request as check runs and suites list it: number, head and base."""

    number: int
    head: Commit
    base: Commit


class PullRequest(PullRequestRef):
    state: str = "open"


class Issue(_Model):
    number: int
    state: str = "open"
    user: Account | None = None  # the pull request's author when the issue is one
    pull_request: dict[str, Any] | None = None  # present only when the issue is a PR

    @property
    def is_pull_request(self) -> bool:
        return self.pull_request is not None


class Comment(_Model):
    id: int
    body: str | None = None
    user: Account


class App(_Model):
    id: int


class CheckRun(_Model):
    head_sha: str
    app: App
    pull_requests: list[PullRequestRef] = []


class CheckSuite(_Model):
    head_sha: str
    pull_requests: list[PullRequestRef] = []


class MergeGroup(_Model):
    head_sha: str
    base_sha: str


class WebhookEvent(_Model):
    """What every event pystd handles carries: the installation and the repository."""

    NAME: ClassVar[str]
    delivery_id: str  # from the X-GitHub-Delivery header, never from the payload
    action: str
    installation: Installation
    repository: Repository

    @property
    def pr(self) -> int | None:
        """The pull request the event is about, for logs (None: none or several)."""
        return None


class PullRequestEvent(WebhookEvent):
    NAME = "pull_request"
    pull_request: PullRequest

    @property
    def pr(self) -> int | None:
        return self.pull_request.number


class IssueCommentEvent(WebhookEvent):
    NAME = "issue_comment"
    issue: Issue
    comment: Comment

    @property
    def pr(self) -> int | None:
        return self.issue.number if self.issue.is_pull_request else None


class CheckRunEvent(WebhookEvent):
    NAME = "check_run"
    check_run: CheckRun

    @property
    def pr(self) -> int | None:
        pulls = self.check_run.pull_requests
        return pulls[0].number if len(pulls) == 1 else None


class CheckSuiteEvent(WebhookEvent):
    NAME = "check_suite"
    check_suite: CheckSuite

    @property
    def pr(self) -> int | None:
        pulls = self.check_suite.pull_requests
        return pulls[0].number if len(pulls) == 1 else None


class MergeGroupEvent(WebhookEvent):
    NAME = "merge_group"
    merge_group: MergeGroup


E = TypeVar("E", bound=WebhookEvent)


def parse_event(model: type[E], data: dict[str, Any], delivery_id: str) -> E:
    """`data` as `model`; MalformedEvent naming the first field that is missing or wrong."""
    try:
        return model.model_validate({**data, "delivery_id": delivery_id})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or model.NAME
        raise MalformedEvent(f"{where}: {first['msg']}") from None
