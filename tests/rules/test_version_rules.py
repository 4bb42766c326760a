"""Version advice follows the project's pins: a rule whose fix needs a newer framework than
the project runs says nothing (or says less); unknown versions count as current."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pystd.rules.catalogue import select_rules
from pystd.rules.runner import FileInput, check_inputs
from pystd.rules.versions import versions_from_texts
from tests.rules.lint import fixed, lint

PYDANTIC_V1 = """
from pydantic import BaseModel, validator


class User(BaseModel):
    name: str

    class Config:
        orm_mode = True

    @validator("name")
    def strip(cls, v):
        return v.strip()


def load(data: dict) -> dict:
    return User.parse_obj(data).dict()
"""

SETTINGS_V1 = """
from pydantic import BaseSettings


class Settings(BaseSettings):
    debug: bool = False
"""

DEPENDS = """
from typing import Annotated

from fastapi import APIRouter, Depends

router = APIRouter()


def get_db() -> str:
    return "db"


def get_user(db: Annotated[str, Depends(get_db)]) -> str:
    return db


@router.get("/items")
def list_items(db: str = Depends(get_db)) -> list[str]:
    return [db]
"""

ON_EVENT = """
from fastapi import FastAPI

app = FastAPI()


@app.on_event("startup")
async def connect() -> None:
    return None
"""

STARLETTE_EVENTS = """
from starlette.applications import Starlette


async def connect() -> None:
    return None


app = Starlette(on_startup=[connect])
"""

ORM = """
from django.http import HttpResponse
from shop.models import Book


async def publish(request, pk):
    book = Book.objects.get(pk=pk)
    for other in Book.objects.filter(author=book.author):
        other.save()
    book.save()
    return HttpResponse(str(len(list(Book.objects.all()))))
"""


def lines(code: str, rule: str, requirements: str | None) -> list[int]:
    return [f.line for f in lint(code, select=rule, requirements=requirements)]


@pytest.mark.parametrize(("code", "rule"), [
    (PYDANTIC_V1, "PYS404"), (SETTINGS_V1, "PYS405"), (DEPENDS, "PYS409"),
    (ON_EVENT, "PYS410"), (STARLETTE_EVENTS, "PYS410"),
])
@pytest.mark.parametrize("requirements", [None, "", "pydantic>=2\nfastapi>=0.110\n"
                                          "starlette>=0.30\n", "pydantic\nfastapi\nstarlette"])
def test_unknown_or_current_versions_keep_the_finding(code, rule, requirements):
    assert lines(code, rule, requirements)


@pytest.mark.parametrize(("code", "rule", "requirements"), [
    (PYDANTIC_V1, "PYS404", "pydantic<2"),
    (PYDANTIC_V1, "PYS404", "pydantic==1.10.13"),
    (SETTINGS_V1, "PYS405", "pydantic~=1.10"),
    (DEPENDS, "PYS409", "fastapi==0.94.1"),
    (DEPENDS, "PYS409", "fastapi>=0.80,<0.95"),
    (ON_EVENT, "PYS410", "fastapi<0.93"),
    (ON_EVENT, "PYS410", "fastapi\nstarlette==0.25.0"),
    (STARLETTE_EVENTS, "PYS410", "starlette<0.26"),
])
def test_a_pin_below_the_release_with_the_advice_silences_it(code, rule, requirements):
    assert lines(code, rule, requirements) == []


def test_the_first_release_with_the_api_keeps_the_finding():
    assert lines(DEPENDS, "PYS409", "fastapi==0.95.0")
    assert lines(ON_EVENT, "PYS410", "fastapi==0.93.0\nstarlette==0.26.0")
    assert lines(SETTINGS_V1, "PYS405", "pydantic==2.0")


def test_django_current_offers_the_async_api():
    findings = lint(ORM, select="PYS205")
    assert [f.line for f in findings] == [7, 8, 9, 10, 11]
    assert all(f.fix is not None for f in findings)
    assert "await Book.objects.aget(pk=pk)" in fixed(ORM, findings[0])


def test_django_below_4_1_keeps_the_finding_without_an_async_fix():
    findings = lint(ORM, select="PYS205", requirements="Django>=3.2,<4.1")
    assert [f.line for f in findings] == [7, 8, 9, 10, 11]
    assert all(f.fix is None for f in findings)
    assert all("sync_to_async" in f.message and "aget" not in f.message for f in findings)
    assert "Django 4.1" in findings[0].message


def test_django_4_1_has_the_queryset_api_but_not_the_instance_one():
    findings = lint(ORM, select="PYS205", requirements="django==4.1.7")
    by_line = {f.line: f for f in findings}
    assert sorted(by_line) == [7, 8, 9, 10, 11]
    assert by_line[7].fix is not None and by_line[8].fix is not None  # aget, async for
    assert by_line[11].fix is not None  # [obj async for obj in ...]
    for line in (9, 10):  # instance.save(): asave() came in 4.2
        assert by_line[line].fix is None and "Django 4.2" in by_line[line].message


# -- PYS404 on models imported from the project, with Pydantic 2 known ----------------------

ROUTER = """
from fastapi import APIRouter

from app.schemas import UserIn, UserOut
from .models import Order
from shop.models import Book

router = APIRouter()


@router.post("/users")
def create(payload: dict, row: object) -> dict:
    user = UserIn.model_validate(payload)
    out = UserOut.from_orm(row)
    order = Order.parse_obj(payload)
    book = Book(title="x")
    return {"user": user.dict(), "out": out, "order": order, "book": book.dict()}
"""


def test_pydantic_2_known_flags_v1_calls_on_models_imported_from_the_project():
    findings = lint(ROUTER, "app/routers/users.py", "PYS404", "pydantic>=2.4\nfastapi\n")
    assert [(f.line, f.message.split("`")[1]) for f in findings] == [
        (14, ".from_orm()"), (15, ".parse_obj()"), (17, ".dict()")]
    assert "UserOut.model_validate(row, from_attributes=True)" in fixed(
        ROUTER, findings[0])


@pytest.mark.parametrize("requirements", [None, "pydantic", "pydantic<2", "pydantic>=1.10"])
def test_without_pydantic_2_known_imported_classes_are_not_models(requirements):
    assert lint(ROUTER, "app/routers/users.py", "PYS404", requirements) == []


def test_a_class_from_another_package_or_rebound_locally_is_not_the_project_s():
    code = """
    from other.schemas import User
    from .schemas import Item


    def load(data: dict):
        Item = dict
        return User.parse_obj(data), Item.parse_obj(data)
    """
    assert lint(code, "app/api.py", "PYS404", "pydantic==2.7.1") == []
    src = "from shop.schemas import User\n\n\ndef load(data):\n    return User.parse_obj(data)\n"
    assert [f.line for f in lint(src, "src/shop/api.py", "PYS404", "pydantic>=2")] == [5]


def test_versions_reach_the_worker_processes():
    items = [FileInput(f"app/s{i}.py", SETTINGS_V1.encode()) for i in range(4)]
    rules = select_rules(["PYS405"])
    assert all(r.findings for r in check_inputs(items, rules, jobs=2))
    old = replace(rules, versions=versions_from_texts({"poetry.lock": (
        '[[package]]\nname = "pydantic"\nversion = "1.10.13"\n')}))
    assert [r.findings for r in check_inputs(items, old, jobs=2)] == [()] * 4
