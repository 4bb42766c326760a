"""What a review is of: one pull request head, or one merge queue group's head.

Handlers make a `ReviewTarget` from a typed event; the queue, the job and the publishing
module read it. A merge group says so (`merge_group`): it has no pull request, so no
review is posted and no earlier comments are followed up, only the check run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReviewTarget:
    """A pull request head (or a merge group head) to review."""

    installation_id: int
    owner: str
    repo: str
    number: int  # the pull request (0 for a merge group, which has none)
    head_sha: str
    base_sha: str
    delivery_id: str = ""
    fresh: bool = False  # just opened: it cannot hold earlier pystd comments yet
    merge_group: bool = False  # a merge queue's group: checked at its head, no review

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.owner.lower(), self.repo.lower(), self.number)

    @property
    def queue_key(self) -> object:
        """Reviews under one key take turns and a newer one replaces a waiting one: a pull
        request's, or a merge group's head commit."""
        return self.head_sha if self.merge_group else self.key

    def log_context(self) -> str:
        return (f"delivery={self.delivery_id} repo={self.owner}/{self.repo} "
                f"pr={self.number} head={self.head_sha[:12]}")

    def log_extra(self) -> dict[str, Any]:
        """The structured log fields of this review."""
        return {"delivery_id": self.delivery_id, "repository": f"{self.owner}/{self.repo}",
                "pr": self.number, "head_sha": self.head_sha}
