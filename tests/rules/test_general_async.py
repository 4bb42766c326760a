"""PYS101 blocking-call-in-async and PYS108 task-reference-dropped: every flags /
never-flags item and every fix of their RULES.md rows."""

from __future__ import annotations

import pytest

from tests.rules.lint import fix_of, lines_of, lint, no_fix, one, only

TEST_PATH = "tests/test_api.py"



# == PYS101 blocking-call-in-async: flags ===============================================


@pytest.mark.parametrize(
    ("imports", "call", "qualified"),
    [
        ("import time", "time.sleep(1)", "time.sleep"),
        ("import requests", "requests.get(url)", "requests.get"),
        ("import requests", "requests.post(url, json={})", "requests.post"),
        ("import requests", "requests.request('PUT', url)", "requests.request"),
        ("import requests", "requests.Session()", "requests.Session"),
        ("import urllib.request", "urllib.request.urlopen(url)", "urllib.request.urlopen"),
        ("import httpx", "httpx.get(url)", "httpx.get"),
        ("import httpx", "httpx.post(url)", "httpx.post"),
        ("import httpx", "httpx.put(url)", "httpx.put"),
        ("import httpx", "httpx.patch(url)", "httpx.patch"),
        ("import httpx", "httpx.delete(url)", "httpx.delete"),
        ("import httpx", "httpx.head(url)", "httpx.head"),
        ("import httpx", "httpx.options(url)", "httpx.options"),
        ("import httpx", "httpx.request('GET', url)", "httpx.request"),
        ("import httpx", "httpx.stream('GET', url)", "httpx.stream"),
        ("import httpx", "httpx.Client()", "httpx.Client"),
        ("import subprocess", "subprocess.run(['ls'])", "subprocess.run"),
        ("import subprocess", "subprocess.call(['ls'])", "subprocess.call"),
        ("import subprocess", "subprocess.check_call(['ls'])", "subprocess.check_call"),
        ("import subprocess", "subprocess.check_output(['ls'])", "subprocess.check_output"),
        ("import subprocess", "subprocess.Popen(['ls'])", "subprocess.Popen"),
        ("import os", "os.system('ls')", "os.system"),
        ("import socket", "socket.create_connection(('h', 1))", "socket.create_connection"),
    ],
)
def test_pys101_flags_each_blocking_call(imports: str, call: str, qualified: str) -> None:
    code = f"{imports}\n\n\nasync def handler(url):\n    return {call}\n"
    finding = one(code, "PYS101")
    assert finding.line == 5
    assert f"`{qualified}`" in finding.message


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        ("from time import sleep as nap", "nap(1)"),
        ("from time import sleep", "sleep(1)"),
        ("import requests as r", "r.get(url)"),
        ("from requests import get", "get(url)"),
        ("import subprocess as sp", "sp.run(['ls'])"),
        ("from urllib.request import urlopen", "urlopen(url)"),
        ("from httpx import Client", "Client()"),
        ("from os import system", "system('ls')"),
    ],
)
def test_pys101_resolves_import_aliases(imports: str, call: str) -> None:
    code = f"{imports}\n\n\nasync def handler(url):\n    return {call}\n"
    assert lines_of(code, "PYS101") == [5]


def test_pys101_flags_import_inside_the_function() -> None:
    code = """\
        async def handler():
            import time
            time.sleep(1)
        """
    assert lines_of(code, "PYS101") == [3]


def test_pys101_flags_async_methods_comprehensions_and_nested_arguments() -> None:
    code = """\
        import time
        import requests


        class Client:
            async def fetch(self, url):
                return requests.get(url)


        async def many():
            return [time.sleep(1) for _ in range(3)]


        async def wrapped(url):
            return await process(requests.get(url))
        """
    assert lines_of(code, "PYS101") == [7, 11, 15]


def test_pys101_flags_every_blocking_call_of_a_function() -> None:
    code = """\
        import time
        import requests

        async def handler(url):
            time.sleep(1)
            requests.get(url)
        """
    assert lines_of(code, "PYS101") == [5, 6]


# == PYS101: never flags ================================================================


@pytest.mark.parametrize(
    "code",
    [
        # the same calls in plain `def`
        "import time\n\ndef handler():\n    time.sleep(1)\n",
        "import requests\n\ndef handler(u):\n    return requests.get(u)\n",
        # a nested plain def or lambda inside async code runs elsewhere
        "import time\n\nasync def outer():\n    def inner():\n        time.sleep(1)\n    return inner\n",
        "import requests\n\nasync def outer(u):\n    return lambda: requests.get(u)\n",
        # inside asyncio.to_thread(...) / run_in_executor(...) arguments
        "import asyncio, requests\n\nasync def f(u):\n    return await asyncio.to_thread(requests.get, u)\n",
        "import asyncio, time\n\nasync def f():\n    await asyncio.to_thread(time.sleep, 1)\n",
        "import asyncio, requests\n\nasync def f(u):\n"
        "    loop = asyncio.get_running_loop()\n"
        "    return await loop.run_in_executor(None, lambda: requests.get(u))\n",
        "import subprocess\n\nasync def f(loop):\n"
        "    return await loop.run_in_executor(None, subprocess.run, ['ls'])\n",
        "import anyio, requests\n\nasync def f(u):\n    return await anyio.to_thread.run_sync(requests.get, u)\n",
        "from asgiref.sync import sync_to_async\nimport requests\n\nasync def f(u):\n"
        "    return await sync_to_async(requests.get)(u)\n",
        "from starlette.concurrency import run_in_threadpool\nimport requests\n\nasync def f(u):\n"
        "    return await run_in_threadpool(requests.get, u)\n",
        # awaited calls
        "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n",
        "import httpx\n\nasync def f(u):\n    async with httpx.AsyncClient() as c:\n        return await c.get(u)\n",
        # names that are not the blocking functions
        "async def f(session, u):\n    return await session.get(u)\n",
        "async def f(requests, u):\n    return requests.get(u)\n",
        "import time\n\nasync def f():\n    return time.time()\n",
        "import subprocess\n\nasync def f():\n    return subprocess.PIPE\n",
    ],
)
def test_pys101_never_flags(code: str) -> None:
    assert only(code, "PYS101") == []


def test_pys101_does_not_flag_requests_helpers_that_never_touch_the_network() -> None:
    code = """\
        import requests


        async def handler(url, response):
            auth = requests.auth.HTTPBasicAuth("user", "pw")
            quoted = requests.utils.quote(url)
            if response.status >= 500:
                raise requests.HTTPError("upstream failed")
            raise requests.exceptions.ConnectionError("down")
        """
    assert only(code, "PYS101") == []


def test_pys101_skips_test_files() -> None:
    code = "import time\n\nasync def test_it():\n    time.sleep(1)\n"
    assert only(code, "PYS101", TEST_PATH) == []


def test_pys101_prefilter_skips_files_without_async() -> None:
    code = "import time\n\ndef handler():\n    time.sleep(1)\n"
    assert only(code, "PYS101") == []


# == PYS101: fixes ======================================================================


def test_pys101_fix_time_sleep_becomes_awaited_asyncio_sleep() -> None:
    code = """\
        import time


        async def handler():
            time.sleep(0.5)
        """
    assert fix_of(code, "PYS101") == (
        "import time\nimport asyncio\n\n\nasync def handler():\n    await asyncio.sleep(0.5)\n"
    )


def test_pys101_fix_keeps_an_existing_asyncio_import_and_resolves_aliases() -> None:
    code = """\
        import asyncio
        from time import sleep as nap


        async def handler(delay):
            nap(delay)
        """
    new = fix_of(code, "PYS101")
    assert new.count("import asyncio") == 1
    assert "    await asyncio.sleep(delay)\n" in new


def test_pys101_fix_in_a_comprehension_of_async_code() -> None:
    code = """\
        import time


        async def handler():
            return [time.sleep(1) for _ in range(3)]
        """
    assert "[await asyncio.sleep(1) for _ in range(3)]" in fix_of(code, "PYS101")


def test_pys101_fix_fastapi_path_operation_without_await_becomes_def() -> None:
    code = """\
        import requests
        from fastapi import FastAPI

        app = FastAPI()


        @app.get("/users")
        async def users():
            return requests.get("http://users.internal").json()
        """
    new = fix_of(code, "PYS101")
    assert '@app.get("/users")\ndef users():\n' in new
    assert "requests.get" in new


def test_pys101_fix_fastapi_router_time_sleep_prefers_def_when_nothing_is_awaited() -> None:
    code = """\
        import time
        from fastapi import APIRouter

        router = APIRouter()


        @router.post("/jobs")
        async def create_job():
            time.sleep(1)
            return {}
        """
    new = fix_of(code, "PYS101")
    assert "def create_job():\n    time.sleep(1)\n" in new
    assert "async def" not in new


def test_pys101_fix_fastapi_path_operation_that_awaits_keeps_async() -> None:
    code = """\
        import asyncio
        import time
        from fastapi import FastAPI

        app = FastAPI()


        @app.get("/")
        async def index():
            time.sleep(1)
            await asyncio.sleep(0)
        """
    new = fix_of(code, "PYS101")
    assert "async def index():\n    await asyncio.sleep(1)\n" in new


def test_pys101_no_fix_for_other_blocking_calls_outside_fastapi() -> None:
    code = """\
        import requests


        async def handler(url):
            return requests.get(url)
        """
    no_fix(code, "PYS101")


def test_pys101_no_def_fix_for_an_async_function_that_is_not_a_path_operation() -> None:
    code = """\
        import requests
        from fastapi import FastAPI

        app = FastAPI()


        async def helper(url):
            return requests.get(url)
        """
    no_fix(code, "PYS101")


# == PYS108 task-reference-dropped: flags ===============================================


@pytest.mark.parametrize(
    ("imports", "statement"),
    [
        ("import asyncio", "asyncio.create_task(job())"),
        ("import asyncio", "asyncio.ensure_future(job())"),
        ("import asyncio as aio", "aio.create_task(job())"),
        ("from asyncio import create_task", "create_task(job())"),
        ("from asyncio import ensure_future as later", "later(job())"),
    ],
)
def test_pys108_flags_asyncio_task_functions_as_statements(imports: str, statement: str) -> None:
    code = f"{imports}\n\nasync def f():\n    {statement}\n"
    assert lines_of(code, "PYS108") == [4]


@pytest.mark.parametrize(
    "receiver",
    ["loop", "event_loop", "self.loop", "self._loop", "app.loop",
     "asyncio.get_event_loop()", "asyncio.get_running_loop()"],
)
def test_pys108_flags_loop_create_task(receiver: str) -> None:
    code = f"import asyncio\n\ndef start(self, loop, event_loop, app):\n    {receiver}.create_task(job())\n"
    assert lines_of(code, "PYS108") == [4]


def test_pys108_flags_in_plain_functions_and_module_level() -> None:
    code = "import asyncio\n\nloop = asyncio.new_event_loop()\nloop.create_task(job())\n"
    assert lines_of(code, "PYS108") == [4]


# == PYS108: never flags ================================================================


@pytest.mark.parametrize(
    "body",
    [
        "task = asyncio.create_task(job())",
        "self.task = asyncio.ensure_future(job())",
        "tasks[key] = loop.create_task(job())",
        "await asyncio.create_task(job())",
        "result = await asyncio.ensure_future(job())",
        "return asyncio.create_task(job())",
        "tasks.add(asyncio.create_task(job()))",
        "background.append(loop.create_task(job()))",
        "asyncio.gather(asyncio.create_task(a()), asyncio.create_task(b()))",
        "done, _ = await asyncio.wait([asyncio.create_task(job())])",
        "handle(lambda: asyncio.create_task(job()))",
        "(task := asyncio.create_task(job()))",
    ],
)
def test_pys108_never_flags_kept_tasks(body: str) -> None:
    code = f"import asyncio\n\nasync def f(loop, tasks, background, key, handle):\n    {body}\n"
    assert only(code, "PYS108") == []


def test_pys108_never_flags_taskgroup_create_task() -> None:
    code = (
        "import asyncio\n\nasync def f():\n    async with asyncio.TaskGroup() as tg:\n"
        "        tg.create_task(a())\n        tg.create_task(b())\n"
    )
    assert only(code, "PYS108") == []


@pytest.mark.parametrize("receiver", ["tg", "group", "nursery", "self.tasks", "scheduler"])
def test_pys108_never_flags_create_task_on_other_objects(receiver: str) -> None:
    code = f"async def f(self, tg, group, nursery, scheduler):\n    {receiver}.create_task(job())\n"
    assert only(code, "PYS108") == []


def test_pys108_never_flags_unrelated_create_task_functions() -> None:
    code = "from app.jobs import create_task\n\ndef f():\n    create_task('title')\n"
    assert only(code, "PYS108") == []


def test_pys108_offers_no_fix_and_skips_test_files() -> None:
    code = "import asyncio\n\nasync def f():\n    asyncio.create_task(job())\n"
    no_fix(code, "PYS108")
    assert only(code, "PYS108", path="tests/test_jobs.py") == []


# == PYS101: a local name that shadows an imported module is not that module ============


@pytest.mark.parametrize(
    "code",
    [
        # a list named like the module, in the coroutine
        "import requests\n\nasync def drain(queue):\n    requests = []\n"
        "    requests.append(await queue.get())\n    requests.clear()\n",
        # a parameter
        "import requests\n\nasync def send(requests):\n    requests.post(1)\n",
        "import time\n\nasync def f(*, time):\n    time.sleep(1)\n",
        # a loop variable, a `with` target, an `except` name, a walrus
        "import time\n\nasync def f(times):\n    for time in times:\n        time.sleep()\n",
        "import requests\n\nasync def f(pool):\n    async with pool as requests:\n"
        "        requests.get(1)\n",
        "import subprocess\n\nasync def f():\n    try:\n        g()\n"
        "    except Exception as subprocess:\n        subprocess.run()\n",
        "import requests\n\nasync def f(q):\n    if (requests := q.batch()):\n"
        "        requests.get()\n",
        # bound in the enclosing function (a closure)
        "import requests\n\ndef outer():\n    requests = []\n    async def inner():\n"
        "        requests.clear()\n    return inner\n",
        # rebound at module level after the import
        "import requests\n\nrequests = []\n\nasync def f():\n    requests.clear()\n",
    ],
)
def test_pys101_never_flags_a_local_name_that_shadows_the_module(code: str) -> None:
    assert only(code, "PYS101") == []


@pytest.mark.parametrize(
    ("code", "line"),
    [
        # the import itself, inside the coroutine, is the module
        ("async def f(u):\n    import requests\n    return requests.get(u)\n", 3),
        # another function's local does not shadow it here
        ("import requests\n\ndef g():\n    requests = []\n    return requests\n\n"
         "async def f(u):\n    return requests.get(u)\n", 8),
        # a comprehension variable stays in the comprehension
        ("import time\n\nasync def f(xs):\n    [time for time in xs]\n    time.sleep(1)\n", 5),
        # `except ImportError: requests = None` is a fallback for the import
        ("try:\n    import requests\nexcept ImportError:\n    requests = None\n\n"
         "async def f(u):\n    return requests.get(u)\n", 7),
        # a module-level name imported again after a first assignment
        ("requests = None\nimport requests\n\nasync def f(u):\n    return requests.get(u)\n", 5),
        # a local named like another module does not hide this one
        ("import time\n\nasync def f():\n    requests = []\n    time.sleep(1)\n", 5),
    ],
)
def test_pys101_still_flags_the_module_next_to_shadowing_names(code: str, line: int) -> None:
    assert lines_of(code, "PYS101") == [line]


# == PYS108: a task the comment beside it says is dropped on purpose ======================


def default_pys108(code: str) -> list[int]:
    """PYS108's lines when the repository sets nothing (`select = ["DEFAULT"]`)."""
    return [f.line for f in lint(code, select="DEFAULT") if f.code == "PYS108"]


@pytest.mark.parametrize(
    "code",
    [
        "    # fire and forget\n    asyncio.create_task(job())\n",
        "    # Fire-and-forget: the user does not wait for the update\n"
        "    asyncio.create_task(job())\n",
        "    # Update last active in the background.\n    # Don't await.\n"
        "    asyncio.create_task(job())\n",
        "    asyncio.create_task(job())  # don't await, best effort\n",
        "    asyncio.ensure_future(job())  # intentionally not awaited\n",
        "    asyncio.create_task(\n        job(),  # deliberately not kept\n    )\n",
        "    if ready: asyncio.create_task(job())  # do not wait for it\n",
        "    # no need to await this one\n    loop.create_task(job())\n",
    ],
)
def test_pys108_deliberate_drop_is_quiet_by_default_but_reported_by_code(code: str) -> None:
    source = f"import asyncio\n\nasync def f(loop, ready):\n{code}"
    assert default_pys108(source) == []
    finding = one(source, "PYS108")  # chosen by code: still reported
    assert source.splitlines()[finding.line - 1].lstrip().startswith(("asyncio", "loop", "if"))


@pytest.mark.parametrize(
    "code",
    [
        "    asyncio.create_task(job())\n",
        "    # start the job\n    asyncio.create_task(job())\n",
        "    # fire and forget\n\n    asyncio.create_task(job())\n",  # a blank line between
        "    asyncio.create_task(job())  # we await the result later\n",
        "    # fire and forget\n    x = 1\n    asyncio.create_task(job())\n",  # another statement's
    ],
)
def test_pys108_without_such_a_comment_is_reported_by_default(code: str) -> None:
    source = f"import asyncio\n\nasync def f(loop, ready):\n{code}"
    assert default_pys108(source) == [len(source.splitlines())]
