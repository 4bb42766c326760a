"""The fake GitHub's App-manifest flow behaves as GitHub documents it: the new-App page
refuses what GitHub's form refuses, and a conversion code works once, for an hour."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import aiohttp

from tests.github_fake import FakeGitHub

MANIFEST = {"name": "pystd", "url": "https://example.org",
            "hook_attributes": {"url": "https://example.org/webhook"},
            "redirect_url": "https://example.org/setup/callback",
            "default_permissions": {"checks": "write", "merge_queues": "read"},
            "default_events": ["check_run", "merge_group"]}
# "integration" (openapi) required fields, and what the conversion adds.
REQUIRED = {"id", "node_id", "owner", "name", "description", "external_url", "html_url",
            "created_at", "updated_at", "permissions", "events", "client_id",
            "client_secret", "webhook_secret", "pem"}


async def create(gh: FakeGitHub, manifest: dict, path: str = "/settings/apps/new"):
    async with aiohttp.ClientSession() as browser:
        answer = await browser.post(f"{gh.url}{path}?state=s1",
                                    data={"manifest": json.dumps(manifest)},
                                    allow_redirects=False)
        return answer.status, answer.headers.get("Location", ""), await answer.text()


async def convert(gh: FakeGitHub, code: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, \
            session.post(f"{gh.url}/app-manifests/{code}/conversions") as answer:
        return answer.status, await answer.json()


async def test_a_code_converts_once_into_the_apps_credentials(fake_github):
    status, location, _ = await create(fake_github, MANIFEST)
    assert status == 302 and location.startswith(MANIFEST["redirect_url"] + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["s1"]
    status, app = await convert(fake_github, query["code"][0])
    assert status == 201
    assert set(app) >= REQUIRED
    assert app["pem"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert app["owner"]["login"] == "octocat" and app["slug"] == "pystd"
    assert fake_github.app_id == app["id"]  # the fake is now this App
    status, error = await convert(fake_github, query["code"][0])
    assert (status, error["message"]) == (404, "Not Found")
    assert (await convert(fake_github, "no-such-code"))[0] == 404


async def test_a_code_expires_after_an_hour(fake_github):
    _, location, _ = await create(fake_github, MANIFEST, "/organizations/acme/settings/apps/new")
    fake_github.advance_time(3601)
    code = parse_qs(urlsplit(location).query)["code"][0]
    assert (await convert(fake_github, code))[0] == 404


async def test_the_new_app_form_refuses_an_event_without_its_permission(fake_github):
    manifest = {**MANIFEST, "default_permissions": {"checks": "write"}}
    status, _, page = await create(fake_github, manifest)
    assert status == 422
    assert "merge_group needs the merge_queues permission" in page
    status, _, page = await create(fake_github, {"name": "x"})
    assert status == 422 and "url is required" in page
