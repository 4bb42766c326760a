"""GitHub JSON for the fake's state. Field names and layout come from GitHub's own data:
a repository is the one in shared/github/webhooks/pull_request/opened.payload.json
re-pointed at ours, a pull request has that example's fields (the REST API returns the
same object), everything else follows the response schemas and examples in
shared/github/openapi/**. The fake's own tests validate answers against both.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import time
import zlib
from typing import Any
from urllib.parse import quote, urlencode

from .diffs import git_blob_sha, github_base64
from .openapi import SHARED_GITHUB
from .state import (
    CheckRunState,
    DiffEntry,
    Installation,
    IssueCommentState,
    PullState,
    Reaction,
    RepoState,
    ReviewCommentState,
    ReviewState,
)

WEB = "https://github.com"
JSON = dict[str, Any]


def iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def numeric_id(text: str) -> int:
    """A stable positive id for a name (logins, slugs)."""
    return zlib.crc32(text.encode()) % 90_000_000 + 1_000


def node_id(kind: str, number: int) -> str:
    """GitHub's legacy global ids, e.g. "MDQ6VXNlcjE=" is base64("04:User1")."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


@functools.cache
def _template() -> JSON:
    path = SHARED_GITHUB / "webhooks" / "pull_request" / "opened.payload.json"
    return json.loads(path.read_text())


def user_json(login: str, api: str, *, type: str = "User") -> JSON:
    """A simple-user (openapi "simple-user"; webhooks common/user.schema.json)."""
    number = numeric_id(login)
    return {
        "login": login, "id": number, "node_id": node_id("User" if type == "User" else "Bot",
                                                           number),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
        "gravatar_id": "", "url": f"{api}/users/{quote(login)}",
        "html_url": f"{WEB}/{quote(login)}" if type == "User" else f"{WEB}/apps/{quote(login)}",
        "followers_url": f"{api}/users/{quote(login)}/followers",
        "following_url": f"{api}/users/{quote(login)}/following{{/other_user}}",
        "gists_url": f"{api}/users/{quote(login)}/gists{{/gist_id}}",
        "starred_url": f"{api}/users/{quote(login)}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/users/{quote(login)}/subscriptions",
        "organizations_url": f"{api}/users/{quote(login)}/orgs",
        "repos_url": f"{api}/users/{quote(login)}/repos",
        "events_url": f"{api}/users/{quote(login)}/events{{/privacy}}",
        "received_events_url": f"{api}/users/{quote(login)}/received_events",
        "type": type, "site_admin": False,
    }


def _rewrite(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in replacements:
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {key: _rewrite(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, replacements) for item in value]
    return value


def repository_json(repo: RepoState, api: str) -> JSON:
    """The example repository, re-pointed at `repo` (every *_url included)."""
    template = copy.deepcopy(_template()["repository"])
    out = _rewrite(template, [("https://api.github.com", api),
                              ("Codertocat/Hello-World", repo.full_name)])
    out.update({
        "id": repo.id, "node_id": node_id("Repository", repo.id), "name": repo.name,
        "full_name": repo.full_name, "private": repo.private, "owner": user_json(repo.owner, api),
        "visibility": "private" if repo.private else "public", "fork": False,
        "default_branch": repo.default_branch, "created_at": repo.created_at,
        "updated_at": repo.created_at, "pushed_at": repo.created_at,
        "open_issues_count": len(repo.pulls), "open_issues": len(repo.pulls),
    })
    return out


def author_association(repo: RepoState, login: str, pr: PullState | None = None) -> str:
    """How `login` relates to the repository (the `author_association` enum)."""
    if login == repo.owner:
        return "OWNER"
    if repo.roles.get(login, "none") in ("admin", "maintain", "write", "triage"):
        return "COLLABORATOR"
    return "CONTRIBUTOR" if pr is not None and login == pr.author else "NONE"


def _branch(repo: RepoState, owner: str, ref: str, sha: str, api: str) -> JSON:
    branch_repo = repository_json(repo, api)
    if owner != repo.owner:  # a fork: same name under the contributor's account
        fork = RepoState(owner, repo.name, numeric_id(f"{owner}/{repo.name}"), 0,
                         private=repo.private, default_branch=repo.default_branch,
                         created_at=repo.created_at)
        branch_repo = repository_json(fork, api) | {"fork": True}
    return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "user": user_json(owner, api),
            "repo": branch_repo}


# pull-request-simple (what pulls/list returns) lacks these pull-request fields.
_NOT_IN_SIMPLE = ("merged", "mergeable", "rebaseable", "mergeable_state", "merged_by",
                  "comments", "review_comments", "maintainer_can_modify", "commits",
                  "additions", "deletions", "changed_files")


def pull_request_json(repo: RepoState, pr: PullState, api: str, *, simple: bool = False) -> JSON:
    base = f"{api}/repos/{repo.full_name}"
    html = f"{WEB}/{repo.full_name}/pull/{pr.number}"
    pr_id = numeric_id(f"{repo.full_name}#{pr.number}")
    links = {
        "self": f"{base}/pulls/{pr.number}", "html": html,
        "issue": f"{base}/issues/{pr.number}", "comments": f"{base}/issues/{pr.number}/comments",
        "review_comments": f"{base}/pulls/{pr.number}/comments",
        "review_comment": f"{base}/pulls/comments{{/number}}",
        "commits": f"{base}/pulls/{pr.number}/commits", "statuses": f"{base}/statuses/{pr.head_sha}",
    }
    out: JSON = {
        "url": links["self"], "id": pr_id, "node_id": node_id("PullRequest", pr_id),
        "html_url": html, "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
        "issue_url": links["issue"], "number": pr.number, "state": pr.state, "locked": False,
        "title": pr.title, "user": user_json(pr.author, api), "body": pr.body,
        "created_at": pr.created_at, "updated_at": pr.created_at,
        "closed_at": None if pr.state == "open" else pr.created_at, "merged_at": None,
        "merge_commit_sha": None, "assignee": None, "assignees": [], "requested_reviewers": [],
        "requested_teams": [], "labels": [], "milestone": None, "draft": pr.draft,
        "commits_url": links["commits"], "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"], "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "head": _branch(repo, pr.fork_owner or repo.owner, pr.head_ref, pr.head_sha, api),
        "base": _branch(repo, repo.owner, pr.base_ref, pr.base_sha, api),
        "_links": {name: {"href": href} for name, href in links.items()},
        "author_association": author_association(repo, pr.author, pr),
        "auto_merge": None, "active_lock_reason": None,
        "merged": False, "mergeable": None, "rebaseable": None, "mergeable_state": "unknown",
        "merged_by": None, "comments": 0,
        "review_comments": sum(len(review.comments) for review in pr.reviews),
        "maintainer_can_modify": False, "commits": len(pr.head_history),
        "additions": sum(entry.additions for entry in pr.entries),
        "deletions": sum(entry.deletions for entry in pr.entries),
        "changed_files": len(pr.entries),
    }
    if simple:
        for key in _NOT_IN_SIMPLE:
            out.pop(key)
    return out


def diff_entry_json(repo: RepoState, pr: PullState, entry: DiffEntry, api: str) -> JSON:
    """openapi/pulls/list-files.json "diff-entry"; `patch` only when GitHub has one."""
    path = quote(entry.filename)
    out: JSON = {
        "sha": entry.sha, "filename": entry.filename, "status": entry.status,
        "additions": entry.additions, "deletions": entry.deletions,
        "changes": entry.additions + entry.deletions,
        "blob_url": f"{WEB}/{repo.full_name}/blob/{pr.head_sha}/{path}",
        "raw_url": f"{WEB}/{repo.full_name}/raw/{pr.head_sha}/{path}",
        "contents_url": f"{api}/repos/{repo.full_name}/contents/{path}?ref={pr.head_sha}",
    }
    if entry.patch is not None:
        out["patch"] = entry.patch
    if entry.previous_filename is not None:
        out["previous_filename"] = entry.previous_filename
    return out


def blob_json(repo: RepoState, sha: str, content: bytes, api: str) -> JSON:
    """openapi/git/get-blob.json: always base64 (limits.json "git/get-blob")."""
    url = f"{api}/repos/{repo.full_name}/git/blobs/{sha}"
    return {"sha": sha, "node_id": node_id("Blob", numeric_id(sha)), "size": len(content),
            "url": url, "content": github_base64(content), "encoding": "base64"}


# limits.json "repos/get-content": above 1 MB the object has content "" and encoding "none".
CONTENT_INLINE_LIMIT = 1024 * 1024


def content_file_json(repo: RepoState, path: str, content: bytes, ref: str, api: str) -> JSON:
    """openapi/repos/get-content.json "content-file"."""
    sha = git_blob_sha(content)
    self_url = f"{api}/repos/{repo.full_name}/contents/{quote(path)}?ref={quote(ref)}"
    git_url = f"{api}/repos/{repo.full_name}/git/blobs/{sha}"
    html_url = f"{WEB}/{repo.full_name}/blob/{ref}/{quote(path)}"
    small = len(content) <= CONTENT_INLINE_LIMIT
    return {
        "type": "file", "encoding": "base64" if small else "none", "size": len(content),
        "name": path.rsplit("/", 1)[-1], "path": path,
        "content": github_base64(content) if small else "", "sha": sha, "url": self_url,
        "git_url": git_url, "html_url": html_url,
        "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{quote(path)}",
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


def content_dir_entry_json(repo: RepoState, path: str, kind: str, sha: str, size: int,
                           ref: str, api: str) -> JSON:
    self_url = f"{api}/repos/{repo.full_name}/contents/{quote(path)}?ref={quote(ref)}"
    git_url = f"{api}/repos/{repo.full_name}/git/{'blobs' if kind == 'file' else 'trees'}/{sha}"
    html_url = f"{WEB}/{repo.full_name}/{'blob' if kind == 'file' else 'tree'}/{ref}/{quote(path)}"
    return {"type": kind, "size": size, "name": path.rsplit("/", 1)[-1], "path": path,
            "sha": sha, "url": self_url, "git_url": git_url, "html_url": html_url,
            "download_url": None if kind == "dir" else
            f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{quote(path)}",
            "_links": {"self": self_url, "git": git_url, "html": html_url}}


def app_json(app_id: int, slug: str, owner: str, api: str) -> JSON:
    return {"id": app_id, "slug": slug, "node_id": node_id("Integration", app_id),
            "owner": user_json(owner, api), "name": slug, "description": "",
            "external_url": f"https://{slug}.example", "html_url": f"{WEB}/apps/{slug}",
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "permissions": {"checks": "write", "pull_requests": "write", "contents": "read",
                            "issues": "write", "metadata": "read"},
            "events": ["pull_request", "issue_comment", "check_run", "check_suite",
                       "merge_group"]}


def check_run_json(repo: RepoState, run: CheckRunState, api: str, app: JSON,
                   pull_requests: list[PullState]) -> JSON:
    """openapi/checks/create.json 201 "check-run"; `output` reports counts, not annotations."""
    url = f"{api}/repos/{repo.full_name}/check-runs/{run.id}"
    return {
        "id": run.id, "head_sha": run.head_sha, "node_id": node_id("CheckRun", run.id),
        "external_id": run.external_id, "url": url,
        "html_url": f"{WEB}/{repo.full_name}/runs/{run.id}", "details_url": run.details_url,
        "status": run.status, "conclusion": run.conclusion, "started_at": run.started_at,
        "completed_at": run.completed_at, "name": run.name,
        "output": {"title": run.title, "summary": run.summary, "text": run.text,
                   "annotations_count": len(run.annotations),
                   "annotations_url": f"{url}/annotations"},
        "check_suite": {"id": numeric_id(f"{repo.full_name}@{run.head_sha}")},
        "app": app,
        "pull_requests": [{
            "url": f"{api}/repos/{repo.full_name}/pulls/{pr.number}",
            "id": numeric_id(f"{repo.full_name}#{pr.number}"), "number": pr.number,
            "head": {"ref": pr.head_ref, "sha": pr.head_sha,
                     "repo": {"id": repo.id, "url": f"{api}/repos/{repo.full_name}",
                              "name": repo.name}},
            "base": {"ref": pr.base_ref, "sha": pr.base_sha,
                     "repo": {"id": repo.id, "url": f"{api}/repos/{repo.full_name}",
                              "name": repo.name}},
        } for pr in pull_requests],
    }


def review_json(repo: RepoState, pr: PullState, review: ReviewState, bot: JSON, api: str) -> JSON:
    """openapi/pulls/create-review.json 200 "pull-request-review"."""
    html = f"{WEB}/{repo.full_name}/pull/{pr.number}#pullrequestreview-{review.id}"
    pr_url = f"{api}/repos/{repo.full_name}/pulls/{pr.number}"
    out: JSON = {
        "id": review.id, "node_id": node_id("PullRequestReview", review.id), "user": bot,
        "body": review.body, "state": review.state, "html_url": html, "pull_request_url": pr_url,
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "commit_id": review.commit_id, "author_association": "NONE",
    }
    if review.submitted_at:
        out["submitted_at"] = review.submitted_at
    return out


def review_comment_json(repo: RepoState, pr: PullState, comment: ReviewCommentState, bot: JSON,
                        api: str) -> JSON:
    """openapi/pulls/list-review-comments.json "pull-request-review-comment"."""
    url = f"{api}/repos/{repo.full_name}/pulls/comments/{comment.id}"
    html = f"{WEB}/{repo.full_name}/pull/{pr.number}#discussion_r{comment.id}"
    pr_url = f"{api}/repos/{repo.full_name}/pulls/{pr.number}"
    return {
        "url": url, "id": comment.id, "node_id": node_id("PullRequestReviewComment", comment.id),
        "pull_request_review_id": comment.review_id, "diff_hunk": comment.diff_hunk,
        "path": comment.path, "position": comment.position,
        "original_position": comment.position, "commit_id": comment.commit_id,
        "original_commit_id": comment.commit_id, "user": bot, "body": comment.body,
        "created_at": comment.created_at, "updated_at": comment.created_at, "html_url": html,
        "pull_request_url": pr_url, "author_association": "NONE",
        "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pr_url}},
        "start_line": comment.start_line, "original_start_line": comment.start_line,
        "start_side": comment.start_side, "line": comment.line, "original_line": comment.line,
        "side": comment.side, "subject_type": "line",
        **({"in_reply_to_id": comment.in_reply_to_id} if comment.in_reply_to_id else {}),
    }


def issue_comment_json(repo: RepoState, comment: IssueCommentState, api: str) -> JSON:
    """openapi/issues/create-comment.json 201 "issue-comment"."""
    base = f"{api}/repos/{repo.full_name}"
    return {
        "id": comment.id, "node_id": node_id("IssueComment", comment.id),
        "url": f"{base}/issues/comments/{comment.id}",
        "html_url": f"{WEB}/{repo.full_name}/pull/{comment.issue_number}"
                    f"#issuecomment-{comment.id}",
        "body": comment.body, "user": user_json(comment.user, api, type=comment.user_type),
        "created_at": comment.created_at, "updated_at": comment.created_at,
        "issue_url": f"{base}/issues/{comment.issue_number}",
        "author_association": "NONE" if comment.user_type == "Bot" else "MEMBER",
    }


def reaction_json(reaction: Reaction, api: str, *, user_type: str) -> JSON:
    """openapi/reactions/create-for-issue-comment.json "reaction"."""
    return {"id": reaction.id, "node_id": node_id("Reaction", reaction.id),
            "user": user_json(reaction.user, api, type=user_type), "content": reaction.content,
            "created_at": reaction.created_at}


def installation_json(installation: Installation, app_id: int, slug: str, api: str) -> JSON:
    return {
        "id": installation.id, "account": user_json(installation.account, api),
        "repository_selection": installation.repository_selection,
        "access_tokens_url": f"{api}/app/installations/{installation.id}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"{WEB}/settings/installations/{installation.id}", "app_id": app_id,
        "app_slug": slug, "target_id": numeric_id(installation.account), "target_type": "User",
        "permissions": installation.permissions,
        "events": ["pull_request", "issue_comment", "check_run", "check_suite"],
        "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
        "single_file_name": None, "has_multiple_single_files": False,
        "single_file_paths": [], "suspended_by": None, "suspended_at": None,
    }


def link_header(url: str, query: dict[str, str], page: int, last: int) -> str | None:
    """A `Link` header in the order GitHub sends it (shared/github/fixtures/octokit-fixtures/
    paginate-issues: prev, next, last, first)."""
    def at(number: int) -> str:
        return f"<{url}?{urlencode(query | {'page': str(number)})}>"
    links = []
    if page > 1:
        links.append(f'{at(min(page - 1, last))}; rel="prev"')
    if page < last:
        links += [f'{at(page + 1)}; rel="next"', f'{at(last)}; rel="last"']
    if page > 1:
        links.append(f'{at(1)}; rel="first"')
    return ", ".join(links) or None
