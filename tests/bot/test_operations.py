"""What an operator sees: /healthz tells whether GitHub accepts the App's key, and
/metrics carries the review latency histogram and the process's own metrics."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from pystd.bot import messages
from pystd.bot.app import create_app
from tests.bot.drivers import add_pr, open_pr, settle


async def test_healthz_asks_github_once_and_caches_the_answer(bot, fake_github):
    for _ in range(3):
        response = await bot.get("/healthz")
        assert response.status == 200
        assert (await response.json())["github"] == "ok"
    assert len(fake_github.calls("GET", r"^/app$")) == 1


async def test_healthz_is_unhealthy_when_the_key_is_not_the_apps(aiohttp_client, settings,
                                                                 fake_github):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    client = await aiohttp_client(create_app(
        settings.model_copy(update={"private_key": SecretStr(other_key)}),
        engine_in_process=True))
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unhealthy"
    assert "does not belong to the App" in body["github"]
    fake_github.take_violations()


async def test_healthz_stays_up_when_github_cannot_be_reached(aiohttp_client, settings):
    unreachable = settings.model_copy(update={"github_api_url": "http://127.0.0.1:9"})
    client = await aiohttp_client(create_app(unreachable, engine_in_process=True))
    response = await client.get("/healthz")
    assert response.status == 200
    assert "could not be reached" in (await response.json())["github"]


async def test_metrics_has_the_review_latency_and_process_metrics(bot, delivery, fake_github):
    add_pr(fake_github)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    text = await (await bot.get("/metrics")).text()
    assert "pystd_review_seconds_count 1.0" in text
    assert 'pystd_review_seconds_bucket{le="+Inf"} 1.0' in text
    assert "process_resident_memory_bytes" in text
    assert "python_gc_collections_total" in text


async def test_healthz_stays_up_when_github_rate_limits_the_question(bot, fake_github):
    # A rate limit says nothing about the key: an orchestrator must not restart the
    # server for it.
    fake_github.fail_next("GET", r"^/app$", 403, headers={"Retry-After": "60"})
    response = await bot.get("/healthz")
    assert response.status == 200
    assert (await response.json())["github"] == messages.HEALTH_GITHUB_DECLINED.format(status=403)
