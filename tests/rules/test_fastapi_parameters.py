"""PYS402 fastapi-untyped-body and PYS409 fastapi-depends-not-annotated: every flags /
never-flags item and every fix of their RULES.md rows."""

from __future__ import annotations

import pytest

from tests.rules.lint import fix_of, fixed, one, only

HEAD = """\
from typing import Annotated, Any, Dict, Optional, Union

from fastapi import APIRouter, Body, Cookie, Depends, File, Form, Header, Path, Query, Security
from pydantic import BaseModel

router = APIRouter(tags=["items"])


class Item(BaseModel):
    name: str


def get_db() -> str:
    return "db"


def get_user(db: Annotated[str, Depends(get_db)]) -> str:
    return db


"""
LINE = HEAD.count("\n") + 2  # the line of the `def` after a one-line decorator


def operation(params: str, decorator: str = '@router.post("/items")') -> str:
    return HEAD + f"{decorator}\ndef handler({params}) -> None:\n    return None\n"


# == PYS402 fastapi-untyped-body: flags ======================================================


@pytest.mark.parametrize(
    "param",
    ["payload: dict", "payload: Dict[str, Any]", "payload: dict[str, Any]", "payload: Any",
     "payload: Dict", "payload=Body(...)", "payload=Body(embed=True)"],
)
def test_402_flags_untyped_body_parameters(param: str) -> None:
    finding = one(operation(param), "PYS402")
    assert finding.line == LINE
    shown = param if ":" in param else "payload=Body()"
    assert finding.message == f"Request body `{shown}` is untyped: declare a Pydantic model for it"


@pytest.mark.parametrize(
    "param",
    ["payload: Optional[dict] = None", "payload: dict | None = None",
     "payload: Union[None, Dict[str, int]] = None", "payload: Annotated[dict, Body()]",
     "payload: Annotated[Any, Body(embed=True)]", "payload: dict = Body(...)",
     "payload: Any = {}"],
)
def test_402_flags_untyped_bodies_that_are_optional_annotated_or_defaulted(param: str) -> None:
    assert [f.line for f in only(operation(param), "PYS402")] == [LINE]


@pytest.mark.parametrize(
    "decorator",
    ['@router.put("/items")', '@router.patch("/items")',
     '@router.api_route("/items", methods=["GET", "POST"])'],
)
def test_402_flags_put_patch_and_api_routes_taking_post(decorator: str) -> None:
    assert [f.line for f in only(operation("payload: dict", decorator), "PYS402")] == [LINE]


def test_402_flags_every_untyped_parameter_on_its_own_line() -> None:
    code = HEAD + ('@router.post("/items")\ndef handler(\n    a: dict,\n    item: Item,\n'
                   "    b: Any,\n) -> None:\n    return None\n")
    assert [f.line for f in only(code, "PYS402")] == [LINE + 1, LINE + 3]


# == PYS402: never flags =====================================================================


@pytest.mark.parametrize(
    "param",
    ["payload: Item", "payload: Item = Body(..., embed=True)", "payload: Annotated[Item, Body()]",
     "payload: Optional[Item] = None", "payload: list[Item]"],
)
def test_402_never_flags_pydantic_model_annotations(param: str) -> None:
    assert only(operation(param), "PYS402") == []


@pytest.mark.parametrize(
    "param",
    ["payload: ItemIn", "payload: schemas.ItemIn", "payload: Mapping[str, int]",
     "payload: list[dict]", "payload: str = Body(...)", "payload: Json", "payload"],
)
def test_402_never_flags_unknown_classes_and_typed_or_unannotated_parameters(param: str) -> None:
    code = "from collections.abc import Mapping\n" + operation(param)
    assert only(code, "PYS402") == []


@pytest.mark.parametrize(
    "param",
    ["user: dict = Depends(get_db)", "user: Annotated[dict, Depends(get_db)]",
     "user: Annotated[Any, Security(get_db)]", "q: Dict = Query(None)",
     "h: Any = Header(None)", "c: Any = Cookie(None)", "f: Any = Form(...)",
     "upload: Any = File(...)"],
)
def test_402_never_flags_dependencies_or_non_body_parameters(param: str) -> None:
    assert only(operation(param), "PYS402") == []


def test_402_never_flags_path_parameters() -> None:
    code = operation("item_id: Any, version: Any", '@router.put("/items/{item_id}/{version:path}")')
    assert only(code, "PYS402") == []


@pytest.mark.parametrize(
    "decorator",
    ['@router.get("/items")', '@router.delete("/items")', '@router.head("/items")',
     '@router.api_route("/items")', '@router.api_route("/items", methods=METHODS)'],
)
def test_402_never_flags_other_methods(decorator: str) -> None:
    assert only(operation("payload: dict", decorator), "PYS402") == []


def test_402_never_flags_functions_that_are_not_path_operations() -> None:
    code = HEAD + "def create(payload: dict) -> None:\n    return None\n"
    assert only(code, "PYS402") == []


# == PYS409 fastapi-depends-not-annotated: flags ==============================================


@pytest.mark.parametrize(
    ("param", "function"),
    [("db: str = Depends(get_db)", "Depends"), ("q: str = Query(None)", "Query"),
     ("item_id: int = Path(..., gt=0)", "Path"), ("agent: str = Header(None)", "Header")],
)
def test_409_flags_each_parameter_function_of_the_row(param: str, function: str) -> None:
    code = operation(param, '@router.get("/items/{item_id}")')
    finding = one(code, "PYS409")
    assert finding.line == LINE
    name = param.split(":")[0]
    assert finding.message == (f"Parameter `{name}` uses `= {function}(...)`: declare it with "
                               "`Annotated[...]`")


def test_409_flags_through_module_and_alias_imports() -> None:
    code = ('import fastapi\nfrom fastapi.params import Depends as D\nfrom fastapi import APIRouter\n'
            'from typing_extensions import Annotated as A\n\nUser = A[str, D(get)]\n'
            'router = APIRouter(tags=["x"])\n\n\n@router.get("/")\n'
            "def handler(a: str = fastapi.Query(None), b: str = D(get)) -> None:\n    return None\n")
    assert [f.line for f in only(code, "PYS409")] == [11, 11]


def test_409_flags_parameters_without_annotation_and_keyword_only_ones() -> None:
    code = operation("*, db=Depends(get_db), q: str = Query(None)")
    assert [f.line for f in only(code, "PYS409")] == [LINE, LINE]


# == PYS409: never flags ======================================================================


@pytest.mark.parametrize(
    "param",
    ["db: Annotated[str, Depends(get_db)]", "q: Annotated[str | None, Query()] = None",
     "db: typing.Annotated[str, Depends(get_db)]"],
)
def test_409_never_flags_annotated_parameters(param: str) -> None:
    assert only("import typing\n" + operation(param), "PYS409") == []


def test_409_never_flags_dependencies_and_other_functions() -> None:
    code = HEAD + ("def current_user(db: str = Depends(get_db)) -> str:\n    return db\n")
    assert only(code, "PYS409") == []


@pytest.mark.parametrize(
    "param",
    ["b: Item = Body(...)", "c: str = Cookie(None)", "f: str = Form(...)",
     "u: bytes = File(...)", "s: str = Security(get_db)", "q: str = query(None)"],
)
def test_409_never_flags_parameter_functions_outside_the_row(param: str) -> None:
    code = "def query(x):\n    return x\n\n\n" + operation(param)
    assert only(code, "PYS409") == []


@pytest.mark.parametrize(
    "module",
    [
        # The house style is `= Depends(...)` everywhere: asking for `Annotated` is noise.
        'from fastapi import APIRouter, Depends, Query\n\nrouter = APIRouter(tags=["x"])\n\n\n'
        '@router.get("/")\ndef handler(db: str = Depends(get_db), q: str = Query(None)) -> None:\n'
        "    return None\n",
        # `Annotated` imported, but no parameter or alias uses it; in a model only.
        'from typing import Annotated\n\nfrom fastapi import APIRouter, Depends\n'
        'from pydantic import BaseModel, Field\n\nrouter = APIRouter(tags=["x"])\n\n\n'
        "class Item(BaseModel):\n    price: Annotated[int, Field(gt=0)]\n\n\n"
        '@router.get("/")\ndef handler(db: str = Depends(get_db)) -> None:\n    return None\n',
    ],
    ids=["house-style-depends", "annotated-only-in-a-model"],
)
def test_409_never_flags_a_module_that_does_not_use_annotated_parameters(module: str) -> None:
    assert only(module, "PYS409") == []


@pytest.mark.parametrize(
    "usage",
    [
        "def current_user(db: Annotated[str, Depends(get_db)]) -> str:\n    return db\n",
        "DB = Annotated[str, Depends(get_db)]\n",
        "DB: TypeAlias = Annotated[str, Depends(get_db)]\n",
        '@router.get("/other")\ndef other(q: Annotated[str, Query()] = "") -> None:\n'
        "    return None\n",
    ],
    ids=["dependency-parameter", "alias", "type-alias", "other-operation"],
)
def test_409_flags_where_the_module_already_uses_annotated(usage: str) -> None:
    code = ('from typing import Annotated, TypeAlias\n\nfrom fastapi import APIRouter, Depends, '
            'Query\n\nrouter = APIRouter(tags=["x"])\n\n\n' + usage + "\n\n"
            '@router.get("/")\ndef handler(db: str = Depends(get_db)) -> None:\n    return None\n')
    findings = only(code, "PYS409")
    assert [f.line for f in findings] == [code.count("\n") - 1]
    assert only(fixed(code, findings[0]), "PYS409") == []


# == PYS409: fix ==============================================================================


def test_409_fix_wraps_depends_in_annotated_and_adds_the_import() -> None:
    # The module spells `typing.Annotated` elsewhere: the fix imports the bare name.
    code = ('import typing\n\nfrom fastapi import APIRouter, Depends\nfrom sqlalchemy.orm import Session\n\n'
            'router = APIRouter(tags=["x"])\n\n\n@router.get("/")\n'
            "def handler(db: Session = Depends(get_db)) -> None:\n    return None\n\n\n"
            "def me(db: typing.Annotated[Session, Depends(get_db)]) -> None:\n    return None\n")
    assert fix_of(code, "PYS409") == (
        'import typing\n\nfrom fastapi import APIRouter, Depends\nfrom sqlalchemy.orm import Session\n'
        'from typing import Annotated\n\n'
        'router = APIRouter(tags=["x"])\n\n\n@router.get("/")\n'
        "def handler(db: Annotated[Session, Depends(get_db)]) -> None:\n    return None\n\n\n"
        "def me(db: typing.Annotated[Session, Depends(get_db)]) -> None:\n    return None\n")


@pytest.mark.parametrize(
    ("param", "after"),
    [
        ("q: str = Query(None, max_length=5)", "q: Annotated[str, Query(max_length=5)] = None"),
        ("q: str = Query(default='a', alias='qq')", "q: Annotated[str, Query(alias='qq')] = 'a'"),
        ("q: str = Query(alias='qq', default='a')", "q: Annotated[str, Query(alias='qq')] = 'a'"),
        ("q: str = Query(None)", "q: Annotated[str, Query()] = None"),
        ("q: str = Query(...)", "q: Annotated[str, Query()]"),
        ("q: str = Query()", "q: Annotated[str, Query()]"),
        ("i: int = Path(..., gt=0)", "i: Annotated[int, Path(gt=0)]"),
        ("h: str = Header(None, convert_underscores=False)",
         "h: Annotated[str, Header(convert_underscores=False)] = None"),
        ("u: User = Depends()", "u: Annotated[User, Depends()]"),
        ("u: User = Depends(current, use_cache=False)",
         "u: Annotated[User, Depends(current, use_cache=False)]"),
    ],
)
def test_409_fix_moves_the_default_out_of_the_call(param: str, after: str) -> None:
    code = operation(param, '@router.get("/items")')
    new = fix_of(code, "PYS409")
    assert f"def handler({after}) -> None:" in new
    assert new.count("from typing import Annotated") == 1  # HEAD imports it already


def test_409_fix_keeps_a_typing_extensions_annotated() -> None:
    code = ('from fastapi import FastAPI, Depends\nfrom typing_extensions import Annotated\n\n'
            'DB = Annotated[str, Depends(get_db)]\napp = FastAPI()\n\n\n@app.get("/")\n'
            "def handler(db: str = Depends(get_db)) -> None:\n    return None\n")
    new = fix_of(code, "PYS409")
    assert "from typing import" not in new
    assert "def handler(db: Annotated[str, Depends(get_db)]) -> None:" in new


def test_409_fix_only_where_the_parameter_list_stays_valid() -> None:
    code = operation("q: str = Query(None), db: str = Depends(get_db)")
    findings = only(code, "PYS409")
    assert [f.fix is not None for f in findings] == [True, False]
    first = fixed(operation("q: str = Query(None), db: str = Depends(get_db)"), findings[0])
    assert "def handler(q: Annotated[str, Query()] = None, db: str = Depends(get_db))" in first
    # `db` still may not lose its default after `q = None`: no fix until the order changes.
    assert only(first, "PYS409")[0].fix is None
    swapped = operation("db: str = Depends(get_db), q: str = Query(None)")
    for _ in range(2):
        swapped = fixed(swapped, only(swapped, "PYS409")[0])
    assert only(swapped, "PYS409") == []
    assert ("def handler(db: Annotated[str, Depends(get_db)], "
            "q: Annotated[str, Query()] = None)") in swapped


def test_409_fix_across_lines_keeps_comments_and_commas() -> None:
    code = HEAD + ('@router.get("/")\ndef handler(\n    db: str = Depends(get_db),  # the db\n'
                   '    q: str = Query(\n        None,\n        max_length=5,\n    ),\n'
                   ") -> None:\n    return None\n")
    first = fixed(code, only(code, "PYS409")[0])
    assert "    db: Annotated[str, Depends(get_db)],  # the db\n" in first
    second = fix_of(first, "PYS409")
    assert "    q: Annotated[str, Query(\n        max_length=5,\n    )] = None,\n" in second


@pytest.mark.parametrize(
    ("prefix", "param"),
    [
        ("", "db=Depends(get_db)"),
        ("", "q: str = Query(*args)"),
        ("from x import Annotated\n", "db: str = Depends(get_db)"),
    ],
    ids=["no-annotation", "star-args", "annotated-is-something-else"],
)
def test_409_no_fix_when_it_cannot_be_written(prefix: str, param: str) -> None:
    code = ('import typing\n\nfrom fastapi import APIRouter, Depends, Query\n' + prefix
            + '\nrouter = APIRouter(tags=["x"])\n\n\n@router.get("/")\n'
            f"def handler({param}) -> None:\n    return None\n\n\n"
            "def dep(v: typing.Annotated[str, Query()]) -> str:\n    return v\n")
    assert one(code, "PYS409").fix is None
