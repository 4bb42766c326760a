"""Registering pystd from /setup with GitHub's App-manifest flow, through the real server
and the fake GitHub's manifest pages: a server started without credentials registers its
App, stores the credentials (0600), and serves webhooks without a restart."""

from __future__ import annotations

import html
import io
import json
import logging
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import yaml
from aiohttp.test_utils import TestClient, unused_port

from pystd.bot import messages
from pystd.bot.app import create_app
from pystd.bot.credentials import StoredApp, credentials_file, load_app, save_app
from pystd.bot.logs import REDACTED, JsonLogFormatter
from pystd.bot.settings import Settings, SettingsError
from pystd.bot.setup import SETUP
from tests.bot.setup_drivers import (
    CREDENTIAL_VARIABLES,
    bare_settings,
    form_of,
    github_redirect,
    register,
    reviewed_as_the_new_app,
)
from tests.github_fake import delivery as make_delivery

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fresh(aiohttp_client, fake_github, tmp_path, no_credentials) -> TestClient:
    """A server started with no App credentials at all, at a known public URL."""
    port = unused_port()
    app = create_app(bare_settings(fake_github, tmp_path / "data", port),
                     engine_in_process=True)
    return await aiohttp_client(app, server_kwargs={"port": port})


async def test_a_fresh_server_serves_setup_and_rules_and_refuses_webhooks(
        fresh, delivery, caplog):
    health = await fresh.get("/healthz")
    assert health.status == 200
    assert (await health.json())["status"] == "not configured"
    headers, body = delivery("pull_request", "opened.payload.json")
    answer = await fresh.post("/webhook", data=body, headers=headers)
    assert answer.status == 503
    assert (await answer.json())["error"] == messages.WEBHOOK_NOT_CONFIGURED
    assert (await fresh.get("/rules/PYS101")).status == 200
    # Without the key from the log, /setup shows no form: it says where the link is.
    page = await fresh.get("/setup")
    assert page.status == 403
    assert 'name="manifest"' not in await page.text()


async def test_the_setup_link_is_logged_at_start(aiohttp_client, fake_github, tmp_path,
                                                 no_credentials, caplog):
    caplog.set_level(logging.WARNING, logger="pystd.bot.app")
    app = create_app(bare_settings(fake_github, tmp_path, 8080), engine_in_process=True)
    await aiohttp_client(app)
    (record,) = [r for r in caplog.records if r.getMessage() == messages.SETUP_LOG_OPEN]
    assert record.setup_url == f"http://127.0.0.1:8080/setup?key={app[SETUP].key}"


async def test_the_form_posts_app_yml_with_this_servers_addresses(fresh, fake_github):
    page = await fresh.get("/setup", params={"key": fresh.app[SETUP].key})
    assert page.status == 200
    text = await page.text()
    assert messages.SETUP_BUTTON in text
    action, manifest = form_of(text)
    assert action.startswith(f"{fake_github.url}/settings/apps/new?state=")
    public = fresh.app[SETUP].settings.public_url
    app_yml = yaml.safe_load((ROOT / "app.yml").read_text())
    assert manifest["hook_attributes"] == {"url": f"{public}/webhook", "active": True}
    assert manifest["redirect_url"] == f"{public}/setup/callback"
    assert manifest["setup_url"] == f"{public}/setup"
    assert manifest["default_permissions"] == app_yml["default_permissions"]
    assert manifest["default_events"] == app_yml["default_events"]
    assert fake_github.url in page.headers["Content-Security-Policy"]


async def test_registering_stores_the_credentials_and_serves_webhooks_at_once(
        fresh, fake_github, tmp_path):
    answer, _ = await register(fresh)
    assert answer.status == 200
    page = await answer.text()
    assert f'href="{fake_github.url}/apps/pystd/installations/new"' in page
    stored = load_app(tmp_path / "data")
    assert stored is not None and stored.app_id == fake_github.app_id != 424242
    assert stored.owner == "octocat"
    path = credentials_file(tmp_path / "data")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert f"App ID {stored.app_id}" in page
    # GitHub now signs deliveries with the secret it made; the server reviews them, as
    # the new App.
    await reviewed_as_the_new_app(fresh, fake_github, stored.webhook_secret)
    health = await fresh.get("/healthz")
    assert (health.status, (await health.json())["status"]) == (200, "ok")


async def test_once_set_up_setup_changes_nothing(fresh, fake_github, tmp_path):
    _, callback = await register(fresh)
    before = credentials_file(tmp_path / "data").read_bytes()
    page = await fresh.get("/setup", params={"key": fresh.app[SETUP].key})
    assert "pystd is set up" in await page.text()
    assert 'name="manifest"' not in await page.text()
    again = await fresh.get(callback)  # the same redirect, replayed
    assert messages.SETUP_ALREADY in await again.text()
    assert credentials_file(tmp_path / "data").read_bytes() == before
    installed = await fresh.get("/setup", params={"installation_id": "1",
                                                  "setup_action": "install"})
    assert "pystd is installed" in await installed.text()


async def test_a_state_this_browser_was_not_given_is_refused(fresh, fake_github, tmp_path,
                                                             aiohttp_client):
    location = await github_redirect(fresh)
    query = parse_qs(location.query)
    # A forged state, then the right state from a browser without the cookie.
    forged = await fresh.get("/setup/callback", params={"code": query["code"][0],
                                                         "state": "forged"})
    assert forged.status == 400
    other = TestClient(fresh.server)
    await other.start_server()
    try:
        stolen = await other.get(f"{location.path}?{location.query}")
        assert stolen.status == 400
        assert messages.SETUP_BAD_STATE.split(",")[0] in html.unescape(await stolen.text())
    finally:
        await other.session.close()
    assert load_app(tmp_path / "data") is None
    # A state works once: used up by the refused attempt above.
    replay = await fresh.get(f"{location.path}?{location.query}")
    assert replay.status == 400
    assert fake_github.calls("POST", r"^/app-manifests/") == []


async def test_a_code_github_refuses_leaves_the_server_unregistered(fresh, fake_github, tmp_path):
    location = await github_redirect(fresh)
    fake_github.advance_time(3601)  # the code has expired
    page = await fresh.get(f"{location.path}?{location.query}")
    assert page.status == 502
    assert "answered 404" in await page.text()
    assert load_app(tmp_path / "data") is None
    assert (await fresh.get("/healthz")).status == 200
    headers, body = make_delivery("pull_request", "opened.payload.json", secret="x")
    assert (await fresh.post("/webhook", data=body, headers=headers)).status == 503


async def test_an_organisation_gets_its_own_registration_page(fresh, fake_github, tmp_path):
    key = fresh.app[SETUP].key
    page = await (await fresh.get("/setup", params={"key": key, "org": "acme"})).text()
    action, _ = form_of(page)
    assert action.startswith(f"{fake_github.url}/organizations/acme/settings/apps/new?state=")
    bad = await fresh.get("/setup", params={"key": key, "org": "no such/org"})
    assert bad.status == 400
    answer, _ = await register(fresh, org="acme")
    assert answer.status == 200
    assert load_app(tmp_path / "data").owner == "acme"
    (posted_org, _, _), = fake_github.manifest_flow.posted[-1:]
    assert posted_org == "acme"


async def test_a_restarted_server_uses_the_stored_credentials(
        aiohttp_client, fake_github, tmp_path, no_credentials, app_private_key_pem):
    save_app(tmp_path, StoredApp(fake_github.app_id, "pystd", "pystd", "x", "octocat",
                                 "stored-secret", app_private_key_pem))
    app = create_app(bare_settings(fake_github, tmp_path, 8080), engine_in_process=True)
    bot = await aiohttp_client(app)
    assert (await (await bot.get("/healthz")).json())["status"] == "ok"
    headers, body = make_delivery("ping", "payload.json", secret="stored-secret")
    assert (await bot.post("/webhook", data=body, headers=headers)).status == 200


def test_the_environments_credentials_win_whole_and_never_mix_with_stored_ones(
        tmp_path, no_credentials, app_private_key_pem):
    save_app(tmp_path, StoredApp(7, "pystd", "pystd", "x", "octocat", "stored-secret",
                                 app_private_key_pem))
    stored = Settings(data_dir=tmp_path, _env_file=None).with_stored_credentials()
    assert (stored.app_id, stored.webhook_secret.get_secret_value()) == (7, "stored-secret")
    assert stored.private_key_pem() == app_private_key_pem
    stored.check()
    # All three from the environment: another App, the stored one is not used at all.
    env = Settings(data_dir=tmp_path, app_id=9, private_key=app_private_key_pem,
                   webhook_secret="from-env", _env_file=None).with_stored_credentials()
    assert (env.app_id, env.webhook_secret.get_secret_value()) == (9, "from-env")
    # Some from the environment (example.env's app id and secret): refused, by name.
    with pytest.raises(SettingsError) as err:
        Settings(data_dir=tmp_path, app_id=123456, webhook_secret="change-me",
                 _env_file=None).with_stored_credentials()
    assert "PYSTD_APP_ID, PYSTD_WEBHOOK_SECRET" in str(err.value)


async def test_setup_refuses_to_pair_a_new_app_with_credentials_from_the_environment(
        aiohttp_client, fake_github, tmp_path, no_credentials):
    port = unused_port()
    app = create_app(bare_settings(fake_github, tmp_path / "data", port, app_id=123456),
                     engine_in_process=True)
    bot = await aiohttp_client(app, server_kwargs={"port": port})
    page = await bot.get("/setup", params={"key": bot.app[SETUP].key})
    assert page.status == 409 and "PYSTD_APP_ID" in await page.text()
    assert 'name="manifest"' not in await page.text()


async def test_setup_answers_a_key_of_any_characters(fresh):
    page = await fresh.get("/setup", params={"key": "é☃"})
    assert page.status == 403


async def test_behind_a_path_prefix_the_state_cookie_reaches_the_callback(
        aiohttp_client, fake_github, tmp_path, no_credentials):
    port = unused_port()
    settings = bare_settings(fake_github, tmp_path / "data", port)
    settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}/pystd"})
    bot = await aiohttp_client(create_app(settings, engine_in_process=True),
                               server_kwargs={"port": port})
    page = await bot.get("/setup", params={"key": bot.app[SETUP].key})
    assert "Path=/pystd/setup" in page.headers["Set-Cookie"]


def test_without_credentials_or_a_public_url_the_server_does_not_start(tmp_path,
                                                                      no_credentials):
    with pytest.raises(SettingsError) as err:
        Settings(data_dir=tmp_path, _env_file=None).with_stored_credentials().check()
    assert "PYSTD_PUBLIC_URL" in str(err.value)
    Settings(data_dir=tmp_path, public_url="https://pystd.example.org", _env_file=None).check()
    credentials_file(tmp_path).write_text("{not json")
    with pytest.raises(SettingsError, match="cannot read the stored App credentials"):
        Settings(data_dir=tmp_path, _env_file=None).with_stored_credentials()


def test_github_enterprise_registers_on_its_own_host():
    settings = Settings(github_api_url="https://ghe.example.com/api/v3", _env_file=None)
    assert settings.github_web_url() == "https://ghe.example.com"
    assert Settings(_env_file=None).github_web_url() == "https://github.com"


def test_serve_names_unreadable_stored_credentials_in_one_line(tmp_path, monkeypatch,
                                                               no_credentials, capsys):
    from pystd.bot.cli import EXIT_ERROR, main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYSTD_DATA_DIR", str(tmp_path))
    credentials_file(tmp_path).write_text('{"app_id": 1}')
    assert main(["serve"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "github-app.json" in err


async def test_on_github_enterprise_the_form_posts_to_the_enterprise_host(
        aiohttp_client, tmp_path, no_credentials):
    settings = Settings(public_url="https://pystd.example.org", data_dir=tmp_path,
                        github_api_url="https://ghe.example.com/api/v3", _env_file=None)
    bot = await aiohttp_client(create_app(settings, engine_in_process=True))
    page = await bot.get("/setup", params={"key": bot.app[SETUP].key, "org": "platform"})
    action, manifest = form_of(await page.text())
    assert action.startswith(
        "https://ghe.example.com/organizations/platform/settings/apps/new?state=")
    assert manifest["hook_attributes"]["url"] == "https://pystd.example.org/webhook"
    assert "form-action 'self' https://ghe.example.com" in page.headers["Content-Security-Policy"]


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing JSON lines through the App's formatter, made before any of the
    credentials of the test existed (as `pystd serve` configures its logs at start)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("pystd.test.secrets")
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate, logger.level = saved


async def test_credentials_setup_registers_never_reach_the_log(fresh, fake_github, tmp_path,
                                                               json_log):
    logger, stream = json_log
    answer, _ = await register(fresh)
    assert answer.status == 200
    stored = load_app(tmp_path / "data")
    created = fake_github.manifest_flow.apps[stored.slug]
    key_line = stored.pem.splitlines()[2]
    logger.warning("signature check: %s", stored.webhook_secret)
    logger.warning("key", extra={"line": key_line})
    logger.warning("oauth %s", created.client_secret)
    try:
        raise ValueError(f"could not load {stored.pem}")
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    for secret in (stored.webhook_secret, key_line, created.client_secret):
        assert secret not in text
    assert text.count(REDACTED) >= 4 and len(text.splitlines()) == 4


def test_stored_credentials_read_at_start_never_reach_the_log(
        fake_github, tmp_path, no_credentials, app_private_key_pem, json_log):
    logger, stream = json_log
    save_app(tmp_path, StoredApp(fake_github.app_id, "pystd", "pystd", "x", "octocat",
                                 "stored-webhook-secret", app_private_key_pem))
    create_app(bare_settings(fake_github, tmp_path, 8080), engine_in_process=True)
    key_line = app_private_key_pem.splitlines()[5]
    logger.info("delivery signed with stored-webhook-secret, key %s", key_line)
    line = json.loads(stream.getvalue())["message"]
    assert line == f"delivery signed with {REDACTED}, key {REDACTED}"
