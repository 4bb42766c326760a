"""PYS406 cors-wildcard-with-credentials, PYS408 fastapi-router-without-tags and PYS410
startup-event-deprecated: every flags / never-flags item of their RULES.md rows."""

from __future__ import annotations

import pytest

from tests.rules.lint import lines_of, only

CORS_HEAD = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
"""


# == PYS406 cors-wildcard-with-credentials: flags =============================================


@pytest.mark.parametrize("origins", ['["*"]', '"*"', '("https://a.example", "*")', "{'*'}"])
def test_406_flags_add_middleware_with_a_wildcard_and_credentials(origins: str) -> None:
    code = CORS_HEAD + (f"app.add_middleware(CORSMiddleware, allow_origins={origins}, "
                        "allow_credentials=True)\n")
    findings = only(code, "PYS406")
    assert [f.line for f in findings] == [5]
    assert findings[0].message == ("CORS allows every origin with credentials: list the trusted "
                                   "origins in `allow_origins`")


def test_406_flags_the_allow_origins_line_of_a_multi_line_call() -> None:
    code = CORS_HEAD + ('app.add_middleware(\n    middleware_class=CORSMiddleware,\n'
                        '    allow_credentials=True,\n    allow_origins=["*"],\n)\n')
    assert lines_of(code, "PYS406") == [8]


@pytest.mark.parametrize(
    ("imports", "cors"),
    [("from starlette.middleware.cors import CORSMiddleware", "CORSMiddleware"),
     ("from fastapi.middleware.cors import CORSMiddleware as CORS", "CORS")],
)
def test_406_flags_middleware_declarations(imports: str, cors: str) -> None:
    code = (f"import starlette.middleware\nfrom fastapi.middleware import Middleware\n{imports}\n\n"
            f"a = [Middleware({cors}, allow_origins=['*'], allow_credentials=True)]\n"
            f"b = starlette.middleware.Middleware(cls={cors}, allow_origins=['*'],\n"
            "                                    allow_credentials=True)\n")
    assert lines_of(code, "PYS406") == [5, 6]


def test_406_flags_a_module_constant_holding_the_wildcard() -> None:
    code = CORS_HEAD + ('ORIGINS = ["*"]\napp.add_middleware(CORSMiddleware, allow_origins=ORIGINS,'
                        " allow_credentials=True)\n")
    assert lines_of(code, "PYS406") == [6]


# == PYS406: never flags ========================================================================


@pytest.mark.parametrize(
    "arguments",
    ['allow_origins=["https://app.example.com"], allow_credentials=True',
     'allow_origins=["*"], allow_credentials=False',
     'allow_origins=["*"]',
     'allow_origins=settings.origins, allow_credentials=True',
     'allow_origins=ORIGINS, allow_credentials=True',
     'allow_origin_regex=".*", allow_credentials=True',
     'allow_origins=["*"], allow_credentials=settings.credentials'],
)
def test_406_never_flags_explicit_origins_or_no_credentials(arguments: str) -> None:
    code = CORS_HEAD + ('ORIGINS = ["https://a.example"]\nif DEV:\n    ORIGINS = ["*"]\n'
                        f"app.add_middleware(CORSMiddleware, {arguments})\n")
    assert only(code, "PYS406") == []


def test_406_never_flags_other_middleware_classes() -> None:
    code = ("from fastapi import FastAPI\nfrom my.cors import CORSMiddleware\n\napp = FastAPI()\n"
            'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n'
            'app.add_middleware(GZip, allow_origins=["*"], allow_credentials=True)\n')
    assert only(code, "PYS406") == []


# == PYS408 fastapi-router-without-tags: flags ===================================================


def test_408_flags_a_router_included_here_without_tags() -> None:
    code = ('from fastapi import APIRouter, FastAPI\n\napp = FastAPI()\n'
            'router = APIRouter(prefix="/users")\n\n\n'
            '@router.get("/")\ndef users() -> list[str]:\n    return []\n\n\n'
            '@router.post("/")\ndef create() -> str:\n    return ""\n\n\n'
            'app.include_router(router)\n')
    findings = only(code, "PYS408")
    assert [f.line for f in findings] == [4]
    assert findings[0].message == ('Router `router` sets no `tags=` and neither do its path '
                                   'operations: they are listed under "default" in the API docs')


@pytest.mark.parametrize(
    "include",
    [
        # Into an untagged router that the module includes in the application untagged.
        'api = APIRouter(prefix="/api")\napi.include_router(router)\napp.include_router(api)\n',
        # In a function handed the application.
        "def register(application: FastAPI) -> None:\n"
        "    application.include_router(router)\n",
    ],
    ids=["through-an-untagged-parent", "into-an-annotated-app-parameter"],
)
def test_408_flags_a_router_whose_whole_way_to_the_app_is_shown_untagged(include: str) -> None:
    code = ('from fastapi import APIRouter, FastAPI\n\napp = FastAPI()\n'
            'router = APIRouter()\n\n\n'
            '@router.get("/")\ndef users() -> list[str]:\n    return []\n\n\n' + include)
    assert lines_of(code, "PYS408") == [4]


def test_408_flags_a_router_included_without_tags_and_through_aliased_imports() -> None:
    code = ('import fastapi\n\napp = fastapi.FastAPI()\nusers = fastapi.routing.APIRouter()\n\n\n'
            '@users.get("/")\ndef list_users() -> list[str]:\n    return []\n\n\n'
            'app.include_router(users, prefix="/users")\n')
    assert lines_of(code, "PYS408") == [4]


# == PYS408: never flags ==========================================================================


@pytest.mark.parametrize(
    ("router", "decorator", "after"),
    [
        ('APIRouter(tags=["users"])', '@router.get("/")', ""),
        ("APIRouter(**ROUTER_OPTIONS)", '@router.get("/")', ""),
        ("APIRouter()", '@router.get("/", tags=["users"])', ""),
        ("APIRouter()", '@router.get("/")', 'app.include_router(router, tags=["users"])\n'),
        ("APIRouter()", '@router.get("/")', 'app.include_router(router=router, tags=["users"])\n'),
        ("APIRouter()", '@router.get("/")', 'parent.include_router(router)\n'),
        ("APIRouter()", '@router.get("/")', 'app.include_router(router, **OPTIONS)\n'),
    ],
    ids=["router-tags", "router-kwargs", "operation-tags", "include-tags", "include-keyword",
         "included-into-tagged-router", "include-kwargs"],
)
def test_408_never_flags_tagged_routers(router: str, decorator: str, after: str) -> None:
    code = ('from fastapi import APIRouter, FastAPI\n\napp = FastAPI()\n'
            f'parent = APIRouter(tags=["api"])\nrouter = {router}\n\n\n'
            f"{decorator}\ndef users() -> list[str]:\n    return []\n\n\n{after}")
    assert only(code, "PYS408") == []


def test_408_never_flags_a_router_with_some_tagged_operations() -> None:
    code = ('from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n'
            '@router.get("/", tags=["users"])\ndef users() -> list[str]:\n    return []\n\n\n'
            '@router.get("/me")\ndef me() -> str:\n    return ""\n')
    assert only(code, "PYS408") == []


def test_408_never_flags_routers_without_operations_in_the_module() -> None:
    code = ('from fastapi import APIRouter\n\nfrom app.api import items, users\n\n'
            'api_router = APIRouter()\napi_router.include_router(users.router)\n'
            'api_router.include_router(items.router)\nshared = APIRouter()\n')
    assert only(code, "PYS408") == []


def test_408_never_flags_a_router_that_a_factory_creates_and_returns() -> None:
    # fastapi-users 15.0.5 (fastapi_users/router/*.py) and opal-server 0.9.9
    # (opal_server/*/api.py): `get_x_router()` builds a router, and whoever calls it
    # includes it with tags (`app.include_router(get_auth_router(...), tags=["auth"])`).
    code = ('from fastapi import APIRouter\n\n\ndef get_register_router() -> APIRouter:\n'
            '    router = APIRouter()\n\n    @router.post("/register")\n'
            '    async def register() -> str:\n        return ""\n\n    return router\n')
    assert only(code, "PYS408") == []


def test_408_never_flags_a_router_without_prefix_that_another_module_includes() -> None:
    # fief-server 0.27.0, fief/apps/api/routers/clients.py: `router = APIRouter(dependencies=
    # [...])`, included by fief/apps/api/app.py with `prefix="/clients", tags=["Clients"]`.
    code = ('from fastapi import APIRouter, Depends\n\nfrom app.auth import admin\n\n'
            'router = APIRouter(dependencies=[Depends(admin)])\n\n\n'
            '@router.get("/")\nasync def list_clients() -> list[str]:\n    return []\n')
    assert only(code, "PYS408") == []


def test_408_flags_a_router_without_prefix_included_here_without_tags() -> None:
    code = ('from fastapi import APIRouter, FastAPI\n\napp = FastAPI()\nrouter = APIRouter()\n\n\n'
            '@router.get("/")\ndef index() -> str:\n    return ""\n\n\n'
            'app.include_router(router, prefix="/index")\n')
    assert lines_of(code, "PYS408") == [4]


def test_408_flags_a_router_a_function_builds_but_does_not_return() -> None:
    code = ('from fastapi import APIRouter, FastAPI\n\n\ndef create_app() -> FastAPI:\n'
            '    app = FastAPI()\n    router = APIRouter()\n\n    @router.get("/")\n'
            '    def index() -> str:\n        return ""\n\n'
            '    app.include_router(router)\n    return app\n')
    assert lines_of(code, "PYS408") == [6]


def test_408_flags_a_module_router_beside_a_factory_returning_its_own() -> None:
    code = ('from fastapi import APIRouter, FastAPI\n\napp = FastAPI()\n'
            'router = APIRouter(prefix="/a")\n\n\n'
            '@router.get("/")\ndef index() -> str:\n    return ""\n\n\n'
            'def make() -> APIRouter:\n    router = APIRouter()\n\n'
            '    @router.get("/x")\n    def x() -> str:\n        return ""\n\n    return router\n\n\n'
            'app.include_router(router)\n')
    assert lines_of(code, "PYS408") == [4]


@pytest.mark.parametrize(
    "after",
    [
        # Not included here: `main.py` includes it, maybe with `tags=` or hidden; a
        # single-file check cannot see that module, and must not guess.
        "",
        # Included into a router whose own tags and inclusion are not shown here.
        'api = APIRouter()\napi.include_router(router)\n',
        "from app.main import api\n\napi.include_router(router)\n",
        "import app.main\n\napp.main.api.include_router(router)\n",
        # Included here as well as with tags.
        'app.include_router(router)\napp.include_router(router, prefix="/v2", tags=["users"])\n',
        # Left out of the API docs: no section to name.
        "app.include_router(router, include_in_schema=False)\n",
    ],
    ids=["not-included-here", "into-a-router-included-elsewhere", "into-an-imported-router",
         "into-an-attribute", "also-with-tags", "include-hidden"],
)
def test_408_never_flags_a_router_whose_tags_may_be_given_elsewhere(after: str) -> None:
    code = ('from fastapi import APIRouter, FastAPI\n\napp = FastAPI()\n'
            'router = APIRouter(prefix="/users")\n\n\n'
            '@router.get("/")\ndef users() -> list[str]:\n    return []\n\n\n' + after)
    assert only(code, "PYS408") == []


@pytest.mark.parametrize(
    ("app", "router", "decorator"),
    [
        ("FastAPI()", "APIRouter(include_in_schema=False)", '@router.get("/")'),
        ("FastAPI()", "APIRouter()", '@router.get("/", include_in_schema=False)'),
        ("FastAPI(openapi_url=None)", "APIRouter()", '@router.get("/")'),
    ],
    ids=["router-hidden", "every-operation-hidden", "no-openapi-document"],
)
def test_408_never_flags_routers_that_are_not_in_the_api_docs(app: str, router: str,
                                                              decorator: str) -> None:
    code = (f'from fastapi import APIRouter, FastAPI\n\napp = {app}\nrouter = {router}\n\n\n'
            f'{decorator}\ndef health() -> str:\n    return "ok"\n\n\n'
            'app.include_router(router)\n')
    assert only(code, "PYS408") == []


# == PYS410 startup-event-deprecated: flags =======================================================


@pytest.mark.parametrize("event", ['"startup"', '"shutdown"', 'event_type="startup"'])
def test_410_flags_on_event_decorators(event: str) -> None:
    code = ("from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
            f"@app.on_event({event})\nasync def hook() -> None:\n    return None\n")
    findings = only(code, "PYS410")
    assert [f.line for f in findings] == [6]
    name = "startup" if "startup" in event else "shutdown"
    assert findings[0].message == (f'`@app.on_event("{name}")` is deprecated: use a `lifespan` '
                                   "async context manager")


@pytest.mark.parametrize(
    ("head", "owner"),
    [
        ('from fastapi import APIRouter\n\nrouter = APIRouter(tags=["x"])\n', "router"),
        ("from starlette.applications import Starlette\n\nsite = Starlette()\n", "site"),
        ("import fastapi\n\nfrom .main import app\n", "app"),
    ],
    ids=["router", "starlette", "project-import"],
)
def test_410_flags_on_event_on_routers_starlette_and_imported_apps(head: str, owner: str) -> None:
    code = head + f'\n\n@{owner}.on_event("shutdown")\ndef hook() -> None:\n    return None\n'
    assert lines_of(code, "PYS410", "app/events.py") == [head.count("\n") + 3]


@pytest.mark.parametrize("call", ["FastAPI(on_startup=[connect])", "FastAPI(on_shutdown=[close])",
                                  "Starlette(on_startup=[connect])",
                                  "Starlette(on_shutdown=[close])",
                                  "fastapi.FastAPI(title='x', on_startup=[connect])"])
def test_410_flags_event_arguments_of_the_application(call: str) -> None:
    code = ("import fastapi\nfrom fastapi import FastAPI\n"
            f"from starlette.applications import Starlette\n\napp = {call}\n")
    findings = only(code, "PYS410")
    assert [f.line for f in findings] == [5]
    argument = "on_startup" if "on_startup" in call else "on_shutdown"
    owner = "Starlette" if "Starlette" in call else "FastAPI"
    assert findings[0].message.startswith(f"`{owner}({argument}=...)` is deprecated")


def test_410_flags_both_arguments_separately() -> None:
    code = "from fastapi import FastAPI\n\napp = FastAPI(\n    on_startup=[a],\n    on_shutdown=[b],\n)\n"
    assert lines_of(code, "PYS410") == [4, 5]


# == PYS410: never flags ==========================================================================


def test_410_never_flags_lifespan() -> None:
    code = ("from contextlib import asynccontextmanager\n\nfrom fastapi import FastAPI\n"
            "from starlette.applications import Starlette\n\n\n@asynccontextmanager\n"
            "async def lifespan(app):\n    yield\n\n\napp = FastAPI(lifespan=lifespan)\n"
            "site = Starlette(lifespan=lifespan)\n")
    assert only(code, "PYS410") == []


@pytest.mark.parametrize(
    "code",
    [
        'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.on_event("custom")\n'
        "def hook() -> None:\n    return None\n",
        'from fastapi import FastAPI\n\nbus = make_bus()\n\n\n@bus.on_event("startup")\n'
        "def hook() -> None:\n    return None\n",
        'from myapp import Bot\n\nbot = Bot()\n\n\n@bot.on_event("startup")\n'
        "def hook() -> None:\n    return None\n",
        "from myframework import FastAPI\n\napp = FastAPI(on_startup=[connect])\n",
    ],
    ids=["other-event", "unknown-object", "module-without-fastapi", "other-fastapi-class"],
)
def test_410_never_flags_other_events_and_objects(code: str) -> None:
    assert only(code, "PYS410") == []
