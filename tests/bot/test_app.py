"""End to end: a signed delivery in, a review and a completed check run out, against the
fake GitHub (a real server on 127.0.0.1 that answers as GitHub documents)."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient

from pystd.bot import messages
from pystd.bot.app import create_app
from pystd.bot.settings import Settings, SettingsError
from pystd.bot.webhooks import SERVICES
from tests.bot.drivers import (
    BASE,
    HEAD,
    HEAD2,
    NEW_VIEWS,
    OLD_VIEWS,
    OWNER,
    REPO,
    add_pr,
    only_run,
    open_pr,
    recheck,
    send,
    settle,
)
from tests.github_fake import FakeFile

# -- the happy path ------------------------------------------------------------------------

async def test_opened_pr_gets_a_review_on_changed_lines_and_a_failing_check(
        bot, delivery, fake_github):
    add_pr(fake_github)
    response = await open_pr(bot, delivery, fake_github)
    assert response.status == 202
    await settle(bot)
    run = only_run(fake_github)
    assert (run.status, run.conclusion, run.title) == ("completed", "failure", "1 error")
    assert [a["start_line"] for a in run.annotations] == [9]
    assert "PYS101 blocking-call-in-async" in run.summary
    (review,) = fake_github.reviews(OWNER, REPO, 1)
    assert (review.event, review.state, review.commit_id) == ("COMMENT", "COMMENTED", HEAD)
    comments = fake_github.review_comments(OWNER, REPO, 1)
    # Line 5 has the same problem but did not change: no comment there.
    assert [(c.path, c.line) for c in comments] == [("app/views.py", 9)]
    # The fix needs `import asyncio` on line 2, outside the diff's hunk: a suggestion on
    # line 9 alone would leave `asyncio` undefined, so the whole fix is shown collapsed.
    assert "```suggestion" not in comments[0].body
    assert "<details>" in comments[0].body
    assert "+import asyncio\n" in comments[0].body
    assert "+    await asyncio.sleep(2)\n" in comments[0].body
    assert "<!-- pystd:fingerprint " in comments[0].body
    # A just-opened pull request holds no earlier pystd comments: not listed.
    assert fake_github.calls("GET", r"/pulls/1/comments$") == []


async def test_clean_pr_passes_without_a_review(bot, delivery, fake_github):
    clean = "import asyncio\n\n\nasync def f():\n    await asyncio.sleep(1)\n"
    add_pr(fake_github, [FakeFile("app/ok.py", status="added", content=clean)])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert (run.conclusion, run.title) == ("success", messages.CHECK_TITLE_CLEAN)
    assert fake_github.reviews(OWNER, REPO, 1) == []


async def test_engine_runs_in_worker_processes(aiohttp_client, settings, delivery, fake_github):
    bot = await aiohttp_client(create_app(settings.model_copy(update={"workers": 2})))
    add_pr(fake_github)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert only_run(fake_github).conclusion == "failure"


SQL_VIEWS = ('from django.db import connection\n\n\ndef rows(request):\n'
             '    table = request.GET["table"]\n'
             '    with connection.cursor() as cursor:\n'
             '        cursor.execute("""SELECT * FROM users\n'
             '            WHERE id = 1""")\n'
             '        return cursor.fetchall()\n')


async def test_a_string_made_an_f_string_on_its_opening_line_is_reviewed(
        bot, delivery, fake_github):
    # Only line 7 changes, and only inside a string that runs on to line 8.
    new = SQL_VIEWS.replace('execute("""SELECT * FROM users', 'execute(f"""SELECT * FROM {table}')
    add_pr(fake_github, [FakeFile("app/views.py", content=new, base_content=SQL_VIEWS)])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert "PYS105" in only_run(fake_github).summary
    comments = fake_github.review_comments(OWNER, REPO, 1)
    assert [(c.path, c.start_line, c.line) for c in comments] == [("app/views.py", 7, 8)]


# -- intake ----------------------------------------------------------------------------------

async def test_redelivery_is_not_run_twice(bot, delivery, fake_github):
    add_pr(fake_github)
    first = await open_pr(bot, delivery, fake_github, delivery_id="d-1")
    again = await open_pr(bot, delivery, fake_github, delivery_id="d-1")
    assert (first.status, again.status) == (202, 200)
    await settle(bot)
    assert len(fake_github.check_runs(OWNER, REPO)) == 1


async def test_bad_or_missing_signature_is_401(bot, delivery, fake_github):
    add_pr(fake_github)
    headers, body = delivery("pull_request", "opened.payload.json",
                             overrides=fake_github.pull_request_overrides(OWNER, REPO, 1))
    forged = dict(headers, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert (await bot.post("/webhook", data=body, headers=forged)).status == 401
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert (await bot.post("/webhook", data=body, headers=unsigned)).status == 401
    await settle(bot)
    assert fake_github.check_runs(OWNER, REPO) == []


async def test_malformed_json_is_400(bot, webhook_secret):
    import hashlib
    import hmac

    body = b'{"action": "opened", '
    sig = "sha256=" + hmac.new(webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    response = await bot.post("/webhook", data=body, headers={
        "X-Hub-Signature-256": sig, "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "m-1", "Content-Type": "application/json"})
    assert response.status == 400
    assert "malformed" in (await response.json())["error"]


async def test_signed_payload_missing_fields_is_400(bot, webhook_secret):
    import hashlib
    import hmac

    body = json.dumps({"action": "opened"}).encode()
    sig = "sha256=" + hmac.new(webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    response = await bot.post("/webhook", data=body, headers={
        "X-Hub-Signature-256": sig, "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "m-2", "Content-Type": "application/json"})
    assert response.status == 400


async def test_ping_and_health_and_metrics(bot, delivery, fake_github):
    response = await send(bot, delivery, fake_github, "ping", "payload.json")
    assert response.status == 200
    assert (await bot.get("/healthz")).status == 200
    text = await (await bot.get("/metrics")).text()
    assert 'pystd_webhook_deliveries_total{outcome="ping"} 1.0' in text


async def test_closed_pr_is_ignored(bot, delivery, fake_github):
    add_pr(fake_github)
    fake_github.close_pull_request(OWNER, REPO, 1)
    response = await send(bot, delivery, fake_github, "pull_request", "closed.payload.json",
                          fake_github.pull_request_overrides(OWNER, REPO, 1))
    assert response.status == 200
    await settle(bot)
    assert fake_github.check_runs(OWNER, REPO) == []


# -- what a pull request may contain -------------------------------------------------------------

async def test_pr_of_250_files_is_paginated(bot, delivery, fake_github):
    files = [FakeFile(f"pkg/m{i:03}.py", status="added",
                      content=f"import time\n\n\nasync def f{i}():\n    time.sleep({i})\n")
             for i in range(250)]
    add_pr(fake_github, files)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    pages = fake_github.calls("GET", r"/files$")
    assert len(pages) == 3
    run = only_run(fake_github)
    assert len(run.annotations) == 250  # 5 PATCHes of 50
    assert run.updates == 5
    # max-comments (30) inline; the other 220 are counted in the review body.
    assert len(fake_github.review_comments(OWNER, REPO, 1)) == 30
    (review,) = fake_github.reviews(OWNER, REPO, 1)
    assert "220 more finding(s)" in review.body


async def test_file_without_patch_is_checked_whole_and_only_annotated(bot, delivery, fake_github):
    add_pr(fake_github, [FakeFile("big.py", content=NEW_VIEWS, base_content=OLD_VIEWS,
                                  patch=None)])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert sorted(a["start_line"] for a in run.annotations) == [5, 9]
    assert "GitHub sent no diff" in run.summary
    assert fake_github.review_comments(OWNER, REPO, 1) == []


async def test_binary_deleted_renamed_and_unparsable_files(bot, delivery, fake_github):
    add_pr(fake_github, [
        FakeFile("logo.py", status="added", content=b"\x89PNG\x00\x00", binary=True, patch=None),
        FakeFile("gone.py", status="removed", base_content=OLD_VIEWS),
        FakeFile("new_name.py", status="renamed", previous_filename="old_name.py",
                 content=NEW_VIEWS, base_content=OLD_VIEWS),
        FakeFile("broken.py", status="added", content="def f(:\n    pass\n"),
        FakeFile("README.md", status="added", content="# hi\n"),
    ])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert run.conclusion == "failure"
    by_path = {(a["path"], a["start_line"]) for a in run.annotations}
    assert ("new_name.py", 9) in by_path  # the renamed file's changed line
    assert ("broken.py", 1) in by_path  # PYS000, info
    assert not any(p in ("gone.py", "README.md") for p, _ in by_path)
    assert "`logo.py`: binary file" in run.summary


# -- GitHub misbehaving ----------------------------------------------------------------------------

async def test_github_500_then_200_is_retried(bot, delivery, fake_github, no_sleep):
    add_pr(fake_github)
    fake_github.fail_next("GET", r"/files$", 500)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert only_run(fake_github).conclusion == "failure"
    assert len(no_sleep) == 1


async def test_secondary_rate_limit_is_waited_out(bot, delivery, fake_github, no_sleep):
    add_pr(fake_github)
    fake_github.fail_next("POST", r"/reviews$", 403, headers={"Retry-After": "7"})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert 7.0 in no_sleep
    assert len(fake_github.reviews(OWNER, REPO, 1)) == 1
    fake_github.take_violations()  # the refused first attempt


async def test_expired_token_is_refreshed(bot, delivery, fake_github):
    add_pr(fake_github)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    fake_github.expire_tokens()
    fake_github.move_head(OWNER, REPO, 1, HEAD2)
    await send(bot, delivery, fake_github, "pull_request", "synchronize.payload.json",
               fake_github.pull_request_overrides(OWNER, REPO, 1))
    await settle(bot)
    runs = fake_github.check_runs(OWNER, REPO)
    assert [r.status for r in runs] == ["completed", "completed"]
    assert len(fake_github.calls("POST", r"/access_tokens$")) == 2


# -- pushes ------------------------------------------------------------------------------------------

async def test_push_does_not_repeat_comments(bot, delivery, fake_github):
    add_pr(fake_github)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    moved = NEW_VIEWS.replace("import time\n", "import time\nimport os\n")
    fake_github.move_head(OWNER, REPO, 1, HEAD2, files=[
        FakeFile("app/views.py", content=moved, base_content=OLD_VIEWS)])
    await send(bot, delivery, fake_github, "pull_request", "synchronize.payload.json",
               fake_github.pull_request_overrides(OWNER, REPO, 1))
    await settle(bot)
    # The finding moved to line 10 but is the same: still one comment, one review.
    assert len(fake_github.review_comments(OWNER, REPO, 1)) == 1
    assert len(fake_github.reviews(OWNER, REPO, 1)) == 1
    assert [r.conclusion for r in fake_github.check_runs(OWNER, REPO)] == ["failure", "failure"]


async def test_stale_head_result_is_dropped(bot: TestClient, delivery, fake_github, monkeypatch):
    from pystd.bot import job

    started, proceed = asyncio.Event(), asyncio.Event()
    real_fetch = job.fetch_files

    async def fetch_files(gh, owner, repo, number):
        if not started.is_set():  # hold the first run until the push has arrived
            started.set()
            await proceed.wait()
        return await real_fetch(gh, owner, repo, number)

    monkeypatch.setattr(job, "fetch_files", fetch_files)
    add_pr(fake_github)
    await open_pr(bot, delivery, fake_github)
    await started.wait()
    fake_github.move_head(OWNER, REPO, 1, HEAD2)
    await send(bot, delivery, fake_github, "pull_request", "synchronize.payload.json",
               fake_github.pull_request_overrides(OWNER, REPO, 1))
    proceed.set()
    await settle(bot)
    runs = {r.head_sha: r for r in fake_github.check_runs(OWNER, REPO)}
    assert (runs[HEAD].conclusion, runs[HEAD].title) == ("neutral", messages.CHECK_TITLE_STALE)
    assert runs[HEAD2].conclusion == "failure"
    assert [r.commit_id for r in fake_github.reviews(OWNER, REPO, 1)] == [HEAD2]


# -- configuration ---------------------------------------------------------------------------------------

async def test_config_is_read_from_the_base_commit(bot, delivery, fake_github):
    add_pr(fake_github, [
        FakeFile("app/views.py", content=NEW_VIEWS, base_content=OLD_VIEWS),
        FakeFile(".github/pystd.toml", content='select = []\n',
                 base_content='fail-on = "never"\n'),
    ], base_files={".github/pystd.toml": 'fail-on = "never"\n'})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    # The PR tried to select nothing; the base says never fail: findings, but success.
    assert (run.conclusion, len(run.annotations)) == ("success", 1)
    (contents,) = [c for c in fake_github.calls("GET", r"/contents/") if "pystd" in c.path]
    assert contents.query.get("ref") == BASE


async def test_bad_config_is_shown_not_crashed(bot, delivery, fake_github):
    add_pr(fake_github, base_files={"pyproject.toml": "[tool.pystd]\nselct = []\n"})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert run.conclusion == "failure"
    assert "unknown key 'selct'" in run.summary


# -- /pystd recheck and re-runs -------------------------------------------------------------------

async def test_recheck_from_read_only_user_is_refused_without_a_write(bot, delivery, fake_github):
    add_pr(fake_github)
    fake_github.set_permission(OWNER, REPO, "visitor", "read")
    comment_id, response = await recheck(bot, delivery, fake_github, "visitor")
    assert response.status == 202
    # Refused silently: a reaction would spend the installation's write budget.
    assert fake_github.reactions(OWNER, REPO, comment_id) == []
    assert fake_github.check_runs(OWNER, REPO) == []


@pytest.mark.parametrize(("user", "permission"), [("maintainer", "write"), ("octocat", None)])
async def test_recheck_from_writer_or_author_runs(bot, delivery, fake_github, user, permission):
    add_pr(fake_github)
    if permission:
        fake_github.set_permission(OWNER, REPO, user, permission)
    comment_id, _ = await recheck(bot, delivery, fake_github, user, "/PYSTD Recheck\nplease")
    assert fake_github.reactions(OWNER, REPO, comment_id) == ["eyes"]
    assert only_run(fake_github).conclusion == "failure"


async def test_other_comments_are_ignored(bot, delivery, fake_github):
    add_pr(fake_github)
    _, response = await recheck(bot, delivery, fake_github, "octocat", "looks good, recheck later")
    assert response.status == 200
    assert fake_github.check_runs(OWNER, REPO) == []


async def test_check_suite_rerequested_from_a_fork_finds_the_pr(bot, delivery, fake_github):
    add_pr(fake_github, fork_owner="forker")
    response = await send(bot, delivery, fake_github, "check_suite", "rerequested.payload.json",
                          fake_github.check_suite_overrides(OWNER, REPO, HEAD))
    assert response.status == 202
    await settle(bot)
    assert only_run(fake_github).conclusion == "failure"
    assert fake_github.calls("GET", r"/pulls$")  # searched the open pull requests


# -- settings ------------------------------------------------------------------------------------

def test_serve_refuses_to_start_without_secrets(monkeypatch):
    for name in ("PYSTD_APP_ID", "PYSTD_PRIVATE_KEY", "PYSTD_PRIVATE_KEY_PATH",
                 "PYSTD_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError) as err:
        Settings(_env_file=None).check()
    assert "PYSTD_APP_ID" in str(err.value) and "PYSTD_WEBHOOK_SECRET" in str(err.value)


def test_private_key_from_a_path(tmp_path, app_private_key_pem):
    key = tmp_path / "app.pem"
    key.write_text(app_private_key_pem)
    settings = Settings(app_id=1, private_key_path=key, webhook_secret="s", _env_file=None)
    assert settings.private_key_pem() == app_private_key_pem
    assert "BEGIN" not in repr(settings)  # secrets never printed


async def test_change_level_rules_run_on_the_whole_pull_request(bot, delivery, fake_github):
    view = ("from django.shortcuts import render\n\n\ndef index(request):\n"
            "    return render(request, 'i.html')\n")
    add_pr(fake_github, [
        FakeFile("shop/views.py", content=view + "\n# changed\n", base_content=view),
        FakeFile("app/views.py", content=view.replace("index", "home"),
                 base_content=view),
        FakeFile(".env", status="added", content="SECRET_KEY=abc\n"),
    ], base_files={".github/pystd.toml": 'select = ["DEFAULT", "PYS901"]\n'})  # PYS901: opt-in
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    codes = sorted((a["title"].split()[0], a["path"]) for a in only_run(fake_github).annotations)
    assert ("PYS902", ".env") in codes
    assert ("PYS901", "app/views.py") in codes
    (review,) = fake_github.reviews(OWNER, REPO, 1)
    assert "PYS902 env-file-committed" in review.body


async def test_a_crashed_engine_worker_costs_its_file_only_and_is_replaced(
        aiohttp_client, settings, delivery, fake_github):
    from pystd.bot.engine_pool import Engine
    from tests.bot import crashers

    bot = await aiohttp_client(create_app(settings.model_copy(update={"workers": 1})))
    env = bot.app[SERVICES].env
    env.engine = Engine(1, file_check=crashers.check_or_crash)
    try:
        add_pr(fake_github, [
            FakeFile("app/views.py", content=NEW_VIEWS, base_content=OLD_VIEWS),
            FakeFile("app/parser_killer.py", status="added",
                     content=crashers.SEGFAULT.decode() + "\nx = 1\n"),
        ])
        await open_pr(bot, delivery, fake_github)
        await settle(bot)
        run = only_run(fake_github)
        # The crashed file is listed as not checked; the other file's gate finding fails
        # the check, with its annotation and review comment.
        assert (run.status, run.conclusion) == ("completed", "failure")
        crashed = messages.FILE_CRASHED.format(how="SIGSEGV")
        assert f"`app/parser_killer.py`: {crashed}" in run.summary
        assert [(a["path"], a["start_line"]) for a in run.annotations] == [("app/views.py", 9)]
        assert len(fake_github.review_comments(OWNER, REPO, 1)) == 1
        # The worker was replaced: the next push is checked in full.
        fake_github.move_head(OWNER, REPO, 1, HEAD2, files=[
            FakeFile("app/views.py", content=NEW_VIEWS, base_content=OLD_VIEWS)])
        await send(bot, delivery, fake_github, "pull_request", "synchronize.payload.json",
                   fake_github.pull_request_overrides(OWNER, REPO, 1))
        await settle(bot)
        latest = fake_github.check_runs(OWNER, REPO)[-1]
        assert (latest.conclusion, messages.SUMMARY_SKIPPED_HEADER in latest.summary) == (
            "failure", False)
    finally:
        await asyncio.to_thread(env.engine.close)


async def test_config_is_fetched_once_per_base_commit(bot, delivery, fake_github):
    add_pr(fake_github)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    fake_github.move_head(OWNER, REPO, 1, HEAD2)
    await send(bot, delivery, fake_github, "pull_request", "synchronize.payload.json",
               fake_github.pull_request_overrides(OWNER, REPO, 1))
    await settle(bot)
    assert len(fake_github.check_runs(OWNER, REPO)) == 2
    # One listing of the base commit's root, once: no configuration or dependency file
    # there, so nothing else to fetch.
    assert [c.path for c in fake_github.calls("GET", r"/contents")] == [
        f"/repos/{OWNER}/{REPO}/contents"]


MODELS = ("from django.db import models\n\n\nclass Order(models.Model):\n"
          "    reference = models.CharField(max_length=32)\n")
MODELS_EDITED = MODELS.replace("max_length=32", "max_length=64")


async def test_model_change_without_migration_is_flagged_when_the_app_has_migrations(
        bot, delivery, fake_github):
    add_pr(fake_github, [FakeFile("shop/models.py", content=MODELS_EDITED, base_content=MODELS)],
           base_files={"shop/migrations/0001_initial.py": "operations = []\n"})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert [(a["title"].split()[0], a["path"], a["start_line"]) for a in run.annotations] == [
        ("PYS206", "shop/models.py", 5)]
    assert run.conclusion == "success"  # a warning: the migration may come in another change
    # One question to GitHub: does shop/migrations exist at the head commit?
    (probe,) = [c for c in fake_github.calls("GET", r"/contents/") if "migrations" in c.path]
    assert probe.path.endswith("/contents/shop/migrations") and probe.query["ref"] == HEAD
    comments = fake_github.review_comments(OWNER, REPO, 1)
    assert [(c.path, c.line) for c in comments] == [("shop/models.py", 5)]


async def test_model_change_with_its_migration_or_without_migrations_is_quiet(
        bot, delivery, fake_github):
    add_pr(fake_github, [
        FakeFile("shop/models.py", content=MODELS_EDITED, base_content=MODELS),
        FakeFile("shop/migrations/0002_ref.py", status="added", content="operations = []\n"),
        FakeFile("legacy/models.py", content=MODELS_EDITED, base_content=MODELS),
    ], base_files={"shop/migrations/0001_initial.py": "operations = []\n"})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert (run.conclusion, run.annotations) == ("success", [])
    # shop's migration is in the change: only legacy/ needed asking (404: no migrations).
    probes = [c.path for c in fake_github.calls("GET", r"/contents/") if "migrations" in c.path]
    assert [p.rsplit("/contents/", 1)[1] for p in probes] == ["legacy/migrations"]


async def test_a_models_module_split_into_a_package_is_not_a_model_change(
        bot, delivery, fake_github):
    # wger 2.1: models.py removed, the same models in models/, reformatted. The removed
    # file's text comes from its patch; a field that did change is still flagged.
    split = MODELS.replace("models.CharField(max_length=32)",
                           "models.CharField(\n        max_length=32,\n    )")
    migrations = {"shop/migrations/0001_initial.py": "operations = []\n",
                  "blog/migrations/0001_initial.py": "operations = []\n"}
    add_pr(fake_github, [
        FakeFile("shop/models.py", status="removed", base_content=MODELS),
        FakeFile("shop/models/__init__.py", status="added", content="from .order import *\n"),
        FakeFile("shop/models/order.py", status="added", content=split),
        FakeFile("blog/models.py", status="removed", base_content=MODELS),
        FakeFile("blog/models/order.py", status="added",
                 content=split.replace("max_length=32", "max_length=64")),
    ], base_files={**migrations, "shop/models.py": MODELS, "blog/models.py": MODELS})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert [(a["title"].split()[0], a["path"]) for a in run.annotations] == [
        ("PYS206", "blog/models/order.py")]


async def test_fat_handler_threshold_comes_from_the_base_config(bot, delivery, fake_github):
    body = "".join(f"    x{i} = {i}\n" for i in range(5))
    view = ("from django.shortcuts import render\n\n\ndef index(request):\n" + body
            + "    return render(request, 'i.html')\n")
    add_pr(fake_github, [FakeFile("shop/views.py", status="added", content=view),
                         FakeFile("shop/tests/test_views.py", status="added", content="x = 1\n")],
           base_files={".github/pystd.toml": 'max-handler-lines = 5\nselect = ["PYS110"]\n'})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert [(a["title"].split()[0], a["start_line"]) for a in run.annotations] == [("PYS110", 4)]


@pytest.mark.parametrize("status, headers", [(502, None), (403, {"Retry-After": "600"})])
async def test_unanswered_migrations_question_keeps_pys206_quiet_not_the_run(
        bot, delivery, fake_github, no_sleep, status, headers):
    add_pr(fake_github, [FakeFile("shop/models.py", content=MODELS_EDITED, base_content=MODELS)],
           base_files={"shop/migrations/0001_initial.py": "operations = []\n"})
    fake_github.fail_next("GET", r"/contents/shop/migrations$", status, times=10,
                          headers=headers)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert (run.status, run.conclusion, run.annotations) == ("completed", "success", [])


SHOP_VIEWS = ("from django.shortcuts import render\n\nfrom shop.models import Order\n\n\n"
              "def orders(request):\n    refs = []\n    for order in Order.objects.all():\n"
              "        refs.append(order.customer.email)\n"
              "    return render(request, 'orders.html', {'refs': refs})\n")
SHOP_MODELS = ("from django.db import models\n\n\nclass Order(models.Model):\n"
               "    reference = models.CharField(max_length=32)\n"
               "    customer = models.ForeignKey('auth.User', on_delete=models.CASCADE)\n")


async def test_n_plus_one_over_a_model_the_same_pull_request_declares(
        bot, delivery, fake_github):
    add_pr(fake_github, [FakeFile("shop/models.py", status="added", content=SHOP_MODELS),
                         FakeFile("shop/views.py", status="added", content=SHOP_VIEWS)])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert [(a["path"], a["start_line"]) for a in run.annotations
            if a["title"].startswith("PYS209")] == [("shop/views.py", 9)]


async def test_a_recheck_while_the_push_review_runs_posts_one_review(bot, delivery, fake_github):
    # Two jobs of one pull request never run at once: a recheck sent while the review of
    # the push is running must not list the comments before that review posts its own.
    add_pr(fake_github)
    await send(bot, delivery, fake_github, "pull_request", "synchronize.payload.json",
               fake_github.pull_request_overrides(OWNER, REPO, 1))
    comment_id = fake_github.add_issue_comment(OWNER, REPO, 1, "/pystd recheck", user="octocat")
    await send(bot, delivery, fake_github, "issue_comment", "created.payload.json",
               fake_github.issue_comment_overrides(OWNER, REPO, comment_id))
    await settle(bot)
    assert len(fake_github.reviews(OWNER, REPO, 1)) == 1
    assert len(fake_github.review_comments(OWNER, REPO, 1)) == 1
    assert [r.conclusion for r in fake_github.check_runs(OWNER, REPO)] == ["failure", "failure"]
    assert len(bot.app[SERVICES].reviewing) == 0  # no lock kept per pull request ever seen


async def test_per_file_ignores_from_the_base_commit_leave_out_their_rules(
        bot, delivery, fake_github):
    add_pr(fake_github, base_files={"pyproject.toml": (
        '[tool.pystd]\nper-file-ignores = { "app/*" = ["PYS101"] }\n')})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert (run.conclusion, run.annotations) == ("success", [])
