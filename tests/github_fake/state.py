"""What the fake GitHub knows: installations, repositories (commits as path -> bytes trees),
pull requests with their files, and everything the bot created (check runs, reviews,
comments, reactions). Plain mutable dataclasses; the server renders them as GitHub JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from .diffs import Hunk, count_changes, git_blob_sha, make_patch, parse_patch

FileStatus = Literal["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]
Role = Literal["admin", "maintain", "write", "triage", "read", "none"]


def as_bytes(content: bytes | str) -> bytes:
    return content.encode() if isinstance(content, str) else content


@dataclass(frozen=True)
class FakeFile:
    """One file of a pull request, as a test describes it.

    `content` is the head version (None for a removed file; for a renamed file, None means
    "unchanged content"). The base version comes from `base_content` or from the pull
    request's `base_files` at `previous_filename or filename`. `patch`: "auto" computes
    GitHub's patch from base and head; None means GitHub left it out (binary or very large
    diffs, see shared/github/limits.json "pulls/list-files".patch); a string is used as is.
    """

    filename: str
    status: FileStatus = "modified"
    content: bytes | str | None = None
    previous_filename: str | None = None
    patch: str | None = "auto"
    binary: bool = False
    base_content: bytes | str | None = None


@dataclass(frozen=True)
class DiffEntry:
    """A file as pulls/list-files reports it (shared/github/openapi/pulls/list-files.json)."""

    filename: str
    status: str
    sha: str
    additions: int
    deletions: int
    patch: str | None
    previous_filename: str | None
    hunks: tuple[Hunk, ...]


def diff_entry(file: FakeFile, old: bytes | None, new: bytes | None) -> DiffEntry:
    """Counts and patch of one file; binary files have neither (GitHub reports 0/0)."""
    if file.binary:
        patch = None if file.patch == "auto" else file.patch
        additions = deletions = 0
    else:
        computed = make_patch(old or b"", new or b"")
        patch = computed if file.patch == "auto" else file.patch
        additions, deletions = count_changes(computed or "")
    # A removed file keeps the sha of its last (base) blob so it can still be fetched.
    sha = git_blob_sha(new if new is not None else old or b"")
    return DiffEntry(file.filename, file.status, sha, additions, deletions, patch,
                     file.previous_filename, tuple(parse_patch(patch)) if patch else ())


@dataclass
class Installation:
    id: int
    account: str
    repository_selection: Literal["all", "selected"] = "selected"
    permissions: dict[str, str] = field(default_factory=lambda: {
        # app.yml default_permissions (DESIGN.md "Layout")
        "checks": "write", "pull_requests": "write", "contents": "read",
        "issues": "write", "metadata": "read"})


@dataclass
class Token:
    token: str
    installation_id: int
    repositories: frozenset[str] | None  # None: every repository of the installation
    expires_at: float
    revoked: bool = False


@dataclass
class CheckRunState:
    """A check run with everything the bot sent, annotations accumulated over PATCHes
    (GitHub appends them: shared/github/limits.json "output.annotations.note")."""

    id: int
    name: str
    head_sha: str
    status: str = "queued"
    conclusion: str | None = None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    annotations: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    external_id: str | None = None
    details_url: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    updates: int = 0  # PATCH calls received


@dataclass
class ReviewCommentState:
    id: int
    review_id: int
    path: str
    body: str
    commit_id: str
    line: int | None
    side: str
    start_line: int | None
    start_side: str | None
    position: int
    diff_hunk: str
    created_at: str
    in_reply_to_id: int | None = None  # a reply in the thread this comment opened


@dataclass
class ReviewState:
    id: int
    commit_id: str
    body: str
    event: str | None
    state: str  # COMMENTED | APPROVED | CHANGES_REQUESTED | PENDING
    submitted_at: str | None
    comments: list[ReviewCommentState] = field(default_factory=list)


@dataclass
class IssueCommentState:
    id: int
    issue_number: int
    body: str
    user: str
    user_type: str = "User"
    created_at: str = ""


class Reaction(NamedTuple):
    id: int
    content: str
    user: str
    created_at: str


@dataclass
class PullState:
    number: int
    title: str
    body: str | None
    author: str
    head_ref: str
    base_ref: str
    head_sha: str
    base_sha: str
    fork_owner: str | None
    state: str
    draft: bool
    created_at: str
    entries: list[DiffEntry]
    head_history: list[str]  # every head sha the pull request has had, oldest first
    reviews: list[ReviewState] = field(default_factory=list)
    resolved_threads: set[int] = field(default_factory=set)  # by their first comment's id

    def entry(self, path: str) -> DiffEntry | None:
        return next((entry for entry in self.entries if entry.filename == path), None)


@dataclass
class RepoState:
    owner: str
    name: str
    id: int
    installation_id: int
    private: bool = True
    default_branch: str = "main"
    created_at: str = ""
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # sha -> tree
    blobs: dict[str, bytes] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # branch -> sha
    pulls: dict[int, PullState] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    check_runs: dict[int, CheckRunState] = field(default_factory=dict)
    issue_comments: dict[int, IssueCommentState] = field(default_factory=dict)
    reactions: dict[int, list[Reaction]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def add_commit(self, sha: str, tree: dict[str, bytes]) -> None:
        self.commits[sha] = tree
        for content in tree.values():
            self.blobs[git_blob_sha(content)] = content


def trees_for(files: list[FakeFile], base_files: dict[str, bytes],
              ) -> tuple[dict[str, bytes], dict[str, bytes], list[DiffEntry]]:
    """(base tree, head tree, diff entries) of a pull request from its files."""
    base = dict(base_files)
    for file in files:
        old_path = file.previous_filename or file.filename
        if file.base_content is not None:
            base[old_path] = as_bytes(file.base_content)
    head = dict(base)
    entries = []
    for file in files:
        old_path = file.previous_filename or file.filename
        old = None if file.status == "added" else base.get(old_path)
        if old is None and file.status in ("removed", "renamed", "modified", "changed") \
                and file.patch == "auto" and not file.binary:
            raise ValueError(f"{file.filename}: status {file.status!r} needs its base content "
                             "(base_content= or base_files=) to compute the patch")
        new: bytes | None
        if file.status == "removed":
            new = None
            head.pop(old_path, None)
        else:
            new = as_bytes(file.content) if file.content is not None else old
            if new is None:
                raise ValueError(f"{file.filename}: status {file.status!r} needs content")
            if file.previous_filename and file.status == "renamed":
                head.pop(file.previous_filename, None)
            head[file.filename] = new
        entries.append(diff_entry(file, old, new))
    return base, head, entries
