"""Shared fixtures: the fake GitHub server, the App's key, and signed webhook deliveries."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.github_fake import DeliveryFactory, FakeGitHub, app_private_key_pem
from tests.github_fake import delivery as make_delivery

WEBHOOK_SECRET = "pystd-test-webhook-secret"  # a test-only value, not a credential


@pytest.fixture(scope="session", name="app_private_key_pem")
def app_private_key_pem_fixture() -> str:
    """The GitHub App's RSA private key (PEM), generated once per test session."""
    return app_private_key_pem()


@pytest.fixture
def webhook_secret() -> str:
    return WEBHOOK_SECRET


@pytest.fixture
async def fake_github(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    app_private_key_pem: str,
) -> AsyncIterator[FakeGitHub]:
    """A FakeGitHub listening on 127.0.0.1 (`.url`, for PYSTD_GITHUB_API_URL). At teardown,
    any request GitHub would have refused as malformed (400/422) or sent to an unknown
    route fails the test: a bot bug must not hide behind an error it happens to survive."""
    gh = FakeGitHub(private_key_pem=app_private_key_pem)
    server = await aiohttp_server(gh.app)
    gh.url = str(server.make_url("")).rstrip("/")
    yield gh
    assert gh.violations == [], f"requests GitHub would refuse: {gh.violations}"


@pytest.fixture
def delivery(webhook_secret: str) -> DeliveryFactory:
    """`delivery(event, payload_file, overrides=..., delivery_id=...) -> (headers, body)`,
    signed with `webhook_secret`."""
    return functools.partial(make_delivery, secret=webhook_secret)
