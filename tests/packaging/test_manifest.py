"""app.yml asks for exactly what the code uses: the events the webhook router handles,
and the permissions of every GitHub API call the bot makes (read from its source) and of
every event it subscribes to. A call or an event added without its permission, or a
permission nothing uses any more, fails here."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pystd.bot.handlers import router

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "app.yml").read_text())
LEVEL = {"read": 1, "write": 2}

# GitHub's REST docs, "Permissions required for GitHub Apps": (method, URL template
# prefix) -> the repository permission it needs; None: authenticated as the App (JWT).
CALLS: dict[tuple[str, str], tuple[str, str] | None] = {
    ("GET", "/app"): None,
    # /setup's exchange of the manifest flow's code: no authentication, the code is the
    # credential (docs "Registering a GitHub App from a manifest").
    ("POST", "/app-manifests"): None,
    ("POST", "/app/installations/{id}/access_tokens"): None,
    ("POST", "/repos/{owner}/{repo}/check-runs"): ("checks", "write"),
    ("PATCH", "/repos/{owner}/{repo}/check-runs/{id}"): ("checks", "write"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"): ("checks", "read"),
    ("GET", "/repos/{owner}/{repo}/collaborators/{user}/permission"): ("metadata", "read"),
    ("GET", "/repos/{owner}/{repo}/compare/{basehead}"): ("contents", "read"),
    ("GET", "/repos/{owner}/{repo}/contents"): ("contents", "read"),
    ("GET", "/repos/{owner}/{repo}/git/blobs/{sha}"): ("contents", "read"),
    ("POST", "/repos/{owner}/{repo}/issues/comments/{id}/reactions"): ("issues", "write"),
    ("GET", "/repos/{owner}/{repo}/pulls"): ("pull_requests", "read"),
    ("POST", "/repos/{owner}/{repo}/pulls/{number}/comments/{comment_id}/replies"):
        ("pull_requests", "write"),
    ("POST", "/repos/{owner}/{repo}/pulls/{number}/reviews"): ("pull_requests", "write"),
    ("POST", "/graphql"): ("pull_requests", "write"),  # resolveReviewThread
}
# The events pystd subscribes to and the permission GitHub requires for each.
EVENTS = {
    "pull_request": ("pull_requests", "read"),
    "issue_comment": ("issues", "read"),
    "check_run": ("checks", "read"),
    "check_suite": ("checks", "read"),
    "merge_group": ("merge_queues", "read"),
}
_URL = re.compile(r'"(/(?:app|graphql|repos/)[^"]*)"')


def urls_in_code() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        found.update(_URL.findall(path.read_text()))
    return found


def permission_of(url: str) -> tuple[str, str] | None:
    """The permission of the call a URL template in the code makes (the longest known
    prefix decides: `/pulls/{number}/reviews?per_page=100` is listing, `/pulls` a GET)."""
    path = url.split("?")[0].split("{?")[0].split("{/")[0]
    matches = [(key, need) for key, need in CALLS.items()
               if path == key[1] or path.startswith(key[1] + "/")]
    assert matches, f"{url}: a GitHub call with no permission in the table; add it"
    _key, need = max(matches, key=lambda m: len(m[0][1]))
    return need


def needed() -> dict[str, str]:
    out: dict[str, str] = {}
    wants = [permission_of(url) for url in urls_in_code()]
    wants += [EVENTS[event] for event in MANIFEST["default_events"]]
    for want in wants:
        if want is not None and LEVEL[want[1]] > LEVEL.get(out.get(want[0], ""), 0):
            out[want[0]] = want[1]
    return out


def test_the_manifest_subscribes_to_exactly_the_events_the_router_handles():
    assert set(MANIFEST["default_events"]) == router.events()
    assert set(EVENTS) == router.events()


def test_every_call_in_the_code_has_a_known_permission():
    for url in urls_in_code():
        permission_of(url)


def test_the_manifest_asks_for_exactly_the_permissions_the_code_needs():
    asked = dict(MANIFEST["default_permissions"])
    assert asked == needed()
