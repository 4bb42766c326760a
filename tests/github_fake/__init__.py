"""The two GitHub fakes of the test suite (STYLE.md convention 10), defined once here.

- `FakeGitHub`: a real aiohttp server behaving like api.github.com as GitHub documents it
  (shared/github/**); started by the `fake_github` fixture for end-to-end tests. Its
  POST /graphql (graphql.py: review threads and resolveReviewThread only) follows GitHub's
  GraphQL docs, as shared/github holds no GraphQL schema.
- `RecordingGitHubAPI`: a gidgethub `GitHubAPI` with canned answers for handler tests.
- `delivery(...)`: signed webhook deliveries from GitHub's real payload examples.
"""

from __future__ import annotations

from .auth import app_private_key_pem
from .diffs import git_blob_sha, github_base64, make_patch, parse_patch
from .openapi import SHARED_GITHUB, response_validator
from .recording import RecordedCall, RecordingGitHubAPI
from .rules import (
    COMMIT_NOT_IN_PR,
    LINE_NOT_RESOLVED,
    PATH_NOT_RESOLVED,
    START_MUST_PRECEDE,
    START_SAME_HUNK,
)
from .server import (
    APP_ID,
    APP_SLUG,
    FAULT_KINDS,
    SECONDARY_RATE_LIMIT,
    FakeGitHub,
    Fault,
    RecordedRequest,
    Violation,
)
from .state import (
    CheckRunState,
    FakeFile,
    IssueCommentState,
    PullState,
    ReviewCommentState,
    ReviewState,
)
from .webhooks import DeliveryFactory, deep_merge, delivery, payload_validator, webhook_signature

__all__ = [
    "APP_ID",
    "APP_SLUG",
    "COMMIT_NOT_IN_PR",
    "FAULT_KINDS",
    "LINE_NOT_RESOLVED",
    "PATH_NOT_RESOLVED",
    "SECONDARY_RATE_LIMIT",
    "SHARED_GITHUB",
    "START_MUST_PRECEDE",
    "START_SAME_HUNK",
    "CheckRunState",
    "DeliveryFactory",
    "FakeFile",
    "FakeGitHub",
    "Fault",
    "IssueCommentState",
    "PullState",
    "RecordedCall",
    "RecordedRequest",
    "RecordingGitHubAPI",
    "ReviewCommentState",
    "ReviewState",
    "Violation",
    "app_private_key_pem",
    "deep_merge",
    "delivery",
    "git_blob_sha",
    "github_base64",
    "make_patch",
    "parse_patch",
    "payload_validator",
    "response_validator",
    "webhook_signature",
]
