"""Work is not repeated: a push that changes 1 of 40 files analyses 1 file, the others'
results come from the store (through the real server and the fake GitHub); a stored value
not signed with the App's key is never loaded."""

from __future__ import annotations

import pickle

from pystd.bot.result_cache import CachingEngine, file_key, rules_fingerprint
from pystd.bot.store.memory import MemoryStore
from pystd.bot.webhooks import SERVICES
from pystd.rules.config import PystdConfig
from pystd.rules.runner import FileInput, FileResult
from tests.bot.drivers import BASE, HEAD, HEAD2, OWNER, REPO, open_pr, send, settle
from tests.github_fake import FakeFile

BLOCKING = "import time\n\n\nasync def handler_{n}():\n    time.sleep({n})\n"


def forty_files(changed: int | None = None) -> list[FakeFile]:
    return [FakeFile(f"app/views_{n}.py",
                     content=BLOCKING.format(n=n) + ("# pushed again\n" if n == changed else ""),
                     status="added")
            for n in range(40)]


async def test_a_push_changing_one_file_of_forty_analyses_one(bot, delivery, fake_github):
    fake_github.add_pull_request(OWNER, REPO, 1, head_sha=HEAD, base_sha=BASE,
                                 files=forty_files())
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    engine = bot.app[SERVICES].env.engine
    assert (engine.hits, engine.misses) == (0, 40)
    first = {r.head_sha: r for r in fake_github.check_runs(OWNER, REPO)}[HEAD]
    fake_github.move_head(OWNER, REPO, 1, HEAD2, files=forty_files(changed=7))
    await send(bot, delivery, fake_github, "pull_request", "synchronize.payload.json",
               fake_github.pull_request_overrides(OWNER, REPO, 1))
    await settle(bot)
    assert (engine.hits, engine.misses) == (39, 41)
    second = {r.head_sha: r for r in fake_github.check_runs(OWNER, REPO)}[HEAD2]
    # The same findings, whether analysed now or read back.
    assert (second.conclusion, len(second.annotations)) == (first.conclusion, 40)
    assert sorted(a["path"] for a in second.annotations) == sorted(
        a["path"] for a in first.annotations)


async def test_a_value_not_signed_with_our_key_is_a_miss():
    store = MemoryStore()
    engine = CachingEngine(None, store=store, key=b"k" * 32)
    rules = PystdConfig().rule_set()
    item = FileInput("app.py", b"import time\n\n\nasync def f():\n    time.sleep(1)\n")
    forged = FileResult("app.py", skipped="forged")
    await store.cache_put_many({file_key(rules_fingerprint(rules), item):
                                b"\0" * 32 + pickle.dumps(forged)}, now=0)
    (result,) = await engine.check_files([item], rules)
    assert result.skipped is None and result.findings
    assert (engine.hits, engine.misses) == (0, 1)
    (again,) = await engine.check_files([item], rules)  # now stored, signed
    assert again == result and engine.hits == 1
