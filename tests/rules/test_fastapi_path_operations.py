"""rules/fastapi/path_operations.py: which functions are FastAPI path operations, and the
package's registration of every PYS4xx rule."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

import pystd.rules.fastapi
from pystd.rules.catalogue import all_rules
from pystd.rules.context import FileContext
from pystd.rules.fastapi.path_operations import (
    APP,
    IMPORTED,
    ROUTER,
    STARLETTE,
    AppObjects,
    app_objects,
)
from pystd.rules.walker import find_nodes


def objects(code: str, path: str = "app.py") -> tuple[AppObjects, dict[str, cst.FunctionDef]]:
    source = textwrap.dedent(code)
    module = cst.parse_module(source)
    ctx = FileContext(path, source, module)
    funcs = {f.name.value: f for f in find_nodes(module, (cst.FunctionDef,), into_functions=True)
             if isinstance(f, cst.FunctionDef)}
    return app_objects(ctx), funcs


def operations(code: str, path: str = "app.py") -> list[str]:
    """Names of the functions that are path operations."""
    apps, funcs = objects(code, path)
    return [name for name, func in funcs.items() if apps.path_operation(func) is not None]


# == the package ============================================================================


def test_importing_the_package_registers_every_pys4_rule() -> None:
    codes = {code for code, rule in all_rules().items() if rule.__module__.startswith(
        "pystd.rules.fastapi.")}
    assert codes == {f"PYS4{n:02d}" for n in range(1, 11)}


def test_the_pydantic_names_are_still_importable_from_the_package() -> None:
    from pystd.rules.fastapi.pydantic import PydanticNames, model_of

    assert pystd.rules.fastapi.PydanticNames is PydanticNames
    assert pystd.rules.fastapi.model_of is model_of
    assert set(pystd.rules.fastapi.__all__) <= set(dir(pystd.rules.fastapi))


# == what holds an application or router ===================================================


def test_names_bound_to_fastapi_classes_through_import_aliases() -> None:
    apps, _ = objects("""\
        import fastapi
        from fastapi import APIRouter as Router
        from starlette.applications import Starlette

        app = fastapi.FastAPI()
        router = Router(prefix="/x")
        site = Starlette()
        api = app
        v1 = api
        """)
    assert apps.kinds == {"app": APP, "router": ROUTER, "site": STARLETTE, "api": APP, "v1": APP}
    assert [c.func.value for c in apps.router_calls["router"]] == ["Router"]  # type: ignore[attr-defined]


def test_annotated_names_and_parameters_hold_what_they_are_annotated_with() -> None:
    apps, _ = objects("""\
        from fastapi import APIRouter, FastAPI

        app: FastAPI = create_app()

        def register(router: "APIRouter") -> None:
            pass
        """)
    assert apps.kinds == {"app": APP, "router": ROUTER}


def test_project_imports_may_be_routers_in_a_module_importing_fastapi() -> None:
    apps, _ = objects("""\
        from fastapi import Depends
        from app.api.base import router
        from . import admin
        from httpx import get
        """, path="app/api/users.py")
    assert apps.kind("router") == IMPORTED
    assert apps.kind("admin") == IMPORTED
    assert apps.kind("get") is None


# == path operations ========================================================================


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options", "head",
                                    "trace", "api_route"])
def test_every_path_operation_decorator(method: str) -> None:
    code = f"""\
        from fastapi import FastAPI

        app = FastAPI()

        @app.{method}("/")
        async def handler():
            pass
        """
    assert operations(code) == ["handler"]


def test_path_operations_on_routers_aliases_and_inside_an_application_factory() -> None:
    code = """\
        import fastapi
        from fastapi import APIRouter as R

        r = R()
        api = r

        @api.post("/")
        def on_alias():
            pass

        def create_app():
            app = fastapi.FastAPI()

            @app.get("/")
            def in_factory():
                pass

            return app

        def register(app: fastapi.FastAPI) -> None:
            @app.get("/")
            def on_parameter():
                pass
        """
    assert sorted(operations(code)) == ["in_factory", "on_alias", "on_parameter"]


def test_path_operations_on_a_router_imported_from_the_project() -> None:
    code = """\
        from fastapi import Depends
        from .deps import router

        @router.get("/")
        def relative():
            pass
        """
    assert operations(code, "app/api/users.py") == ["relative"]
    absolute = code.replace("from .deps", "from app.api.deps")
    assert operations(absolute, "app/api/users.py") == ["relative"]


@pytest.mark.parametrize(
    ("label", "code", "path"),
    [
        ("flask", "from flask import Flask\napp = Flask(__name__)\n", "app.py"),
        ("project import in a module importing flask too",
         "import fastapi\nimport flask\nfrom .views import app\n", "app/api/x.py"),
        ("flask in a module importing both", "from fastapi import Depends\nfrom flask import Flask\n"
         "app = Flask(__name__)\n", "app.py"),
        ("ninja", "from ninja import NinjaAPI\napp = NinjaAPI()\n", "app.py"),
        ("starlette", "from starlette.applications import Starlette\napp = Starlette()\n", "app.py"),
        ("third-party import", "from fastapi import Depends\nfrom respx import app\n", "app/x.py"),
        ("project import without fastapi", "from .base import app\n", "app/x.py"),
        ("unknown object", "import fastapi\napp = make()\n", "app.py"),
    ],
)
def test_other_frameworks_and_unknown_objects_never_make_path_operations(
        label: str, code: str, path: str) -> None:
    decorated = code + "\n\n@app.get('/')\ndef handler():\n    pass\n"
    assert operations(decorated, path) == [], label


@pytest.mark.parametrize("decorator", ["@app.get", "@app.websocket('/ws')", "@app.middleware('http')",
                                       "@app.exception_handler(ValueError)",
                                       "@app.router.get('/')", "@get('/')"])
def test_other_decorators_are_not_path_operations(decorator: str) -> None:
    code = f"from fastapi import FastAPI\napp = FastAPI()\n\n\n{decorator}\ndef handler():\n    pass\n"
    assert operations(code) == []


@pytest.mark.parametrize(
    ("decorator", "methods"),
    [
        ("@app.post('/')", {"POST"}),
        ("@app.api_route('/')", {"GET"}),
        ("@app.api_route('/', methods=['put', 'GET'])", {"PUT", "GET"}),
        ("@app.api_route('/', methods=METHODS)", None),
    ],
)
def test_methods_of_a_route(decorator: str, methods: set[str] | None) -> None:
    apps, funcs = objects(f"from fastapi import FastAPI\napp = FastAPI()\n\n\n{decorator}\n"
                          "def handler():\n    pass\n")
    op = apps.path_operation(funcs["handler"])
    assert op is not None
    assert op.routes[0].methods == (frozenset(methods) if methods is not None else None)


def test_path_parameters_of_every_route() -> None:
    apps, funcs = objects("""\
        from fastapi import FastAPI
        app = FastAPI()

        @app.get("/items/{item_id}/{path:path}")
        @app.get(path="/users/{user_id}")
        def handler():
            pass
        """)
    op = apps.path_operation(funcs["handler"])
    assert op is not None and op.path_params == {"item_id", "path", "user_id"}


def test_the_analysis_is_shared_by_the_rules_of_one_file() -> None:
    source = "from fastapi import FastAPI\napp = FastAPI()\n"
    ctx = FileContext("app.py", source, cst.parse_module(source))
    assert app_objects(ctx) is app_objects(ctx)
