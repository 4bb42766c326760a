"""PYS403 fastapi-session-in-handler: every flags / never-flags item of its RULES.md row."""

from __future__ import annotations

import pytest

from pystd.rules.engine import Finding
from tests.rules import lint as shared

HEAD = """\
from fastapi import APIRouter, Depends
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
async_engine = create_async_engine("sqlite+aiosqlite://")
SessionLocal = sessionmaker(bind=engine)
async_session_maker = async_sessionmaker(async_engine)
router = APIRouter(tags=["users"])


"""
LINE = HEAD.count("\n") + 3  # the first body line after a decorator and a `def`


def only(code: str, path: str = "app.py") -> list[Finding]:
    return shared.only(code, "PYS403", path)


def lines_of(code: str, path: str = "app.py") -> list[int]:
    return shared.lines_of(code, "PYS403", path)


def handler(body: str, head: str = HEAD, asynchronous: bool = False) -> str:
    prefix = "async def" if asynchronous else "def"
    return head + f'@router.get("/users")\n{prefix} users() -> int:\n{body}    return 0\n'


# == flags ====================================================================================


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("    db = SessionLocal()\n", "SessionLocal()"),
        ("    db = Session(engine)\n", "Session(...)"),
        ("    db = sessionmaker(bind=engine)()\n", "sessionmaker(...)()"),
        ("    db = AsyncSession(async_engine)\n", "AsyncSession(...)"),
        ("    db = async_session_maker()\n", "async_session_maker()"),
    ],
)
def test_flags_each_way_of_creating_a_session(body: str, shown: str) -> None:
    findings = only(handler(body))
    assert [f.line for f in findings] == [LINE]
    assert findings[0].message == (f"`{shown}` opens a database session in path operation "
                                   "`users`: inject it with `Depends(get_db)`")


@pytest.mark.parametrize(
    "body",
    ["    with SessionLocal() as db:\n        db.commit()\n",
     "    async with async_session_maker() as db:\n        await db.commit()\n",
     "    async with AsyncSession(async_engine) as db, db.begin():\n        pass\n"],
)
def test_flags_sessions_opened_in_with_statements(body: str) -> None:
    assert lines_of(handler(body, asynchronous=True)) == [LINE]


@pytest.mark.parametrize("name", ["SessionLocal", "AsyncSessionLocal", "async_session",
                                  "async_session_maker"])
def test_flags_conventional_factories_imported_from_the_project(name: str) -> None:
    head = (f'from fastapi import APIRouter\n\nfrom app.db import {name}\n\n'
            'router = APIRouter(tags=["users"])\n\n\n')
    assert lines_of(handler(f"    db = {name}()\n", head)) == [10]


def test_flags_names_bound_to_any_session_factory_and_aliases_of_the_classes() -> None:
    head = ('import sqlalchemy.orm as orm\nfrom fastapi import APIRouter\n'
            'from sqlalchemy.ext.asyncio import AsyncSession as AS\n'
            'from sqlalchemy.orm import scoped_session, sessionmaker\nfrom sqlmodel import Session\n\n'
            'Maker = scoped_session(sessionmaker())\nrouter = APIRouter(tags=["users"])\n\n\n')
    body = ("    a = Maker()\n    b = orm.Session(engine)\n    c = AS(engine)\n"
            "    d = Session(engine)\n")
    assert lines_of(handler(body, head)) == [13, 14, 15, 16]


# == never flags ==============================================================================


def test_never_flags_dependencies() -> None:
    code = HEAD + ("def get_db() -> Session:\n    return SessionLocal()\n\n\n"
                   '@router.get("/users", dependencies=[Depends(audit)])\n'
                   "def audit() -> int:\n    db = SessionLocal()\n    return 0\n\n\n"
                   '@router.get("/other")\ndef other(db: Session = Depends(get_db)) -> int:\n'
                   "    return 0\n")
    assert only(code) == []


def test_never_flags_generator_get_db_functions() -> None:
    code = HEAD + ("def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n"
                   "    finally:\n        db.close()\n\n\n"
                   "async def get_async_db():\n    async with async_session_maker() as db:\n"
                   "        yield db\n")
    assert only(code) == []


def test_never_flags_a_path_operation_that_is_a_generator() -> None:
    code = HEAD + ('@router.get("/stream")\ndef stream():\n    with SessionLocal() as db:\n'
                   "        yield from db.scalars(query)\n")
    assert only(code) == []


def test_never_flags_nested_functions_such_as_background_tasks() -> None:
    body = ("    def work() -> None:\n        with SessionLocal() as db:\n            db.commit()\n"
            "    tasks.add_task(work)\n    tasks.add_task(lambda: SessionLocal().close())\n")
    assert only(handler(body)) == []


def test_never_flags_functions_that_are_not_path_operations() -> None:
    code = HEAD + "def job() -> None:\n    with SessionLocal() as db:\n        db.commit()\n"
    assert only(code) == []


@pytest.mark.parametrize(
    ("head", "body"),
    [
        ("import requests\nimport aiohttp\n",
         "    s = requests.Session()\n    c = aiohttp.ClientSession()\n"),
        ("from requests import Session\n", "    s = Session()\n"),
        ("from boto3 import session\n", "    s = session.Session()\n"),
    ],
    ids=["http-sessions", "requests-session-name", "boto3"],
)
def test_never_flags_sessions_of_other_libraries(head: str, body: str) -> None:
    code = handler(body, head + 'from fastapi import APIRouter\n\nrouter = APIRouter(tags=["x"])\n\n\n')
    assert only(code) == []


def test_never_flags_a_factory_passed_in_as_a_parameter() -> None:
    code = HEAD + ('@router.get("/users")\n'
                   "async def users(async_session=Depends(get_maker)) -> int:\n"
                   "    async with async_session() as db:\n        return 0\n")
    assert only(code) == []


def test_never_flags_a_conventional_name_the_module_defines_as_a_function() -> None:
    code = ('from fastapi import APIRouter\n\nrouter = APIRouter(tags=["x"])\n\n\n'
            "def async_session() -> int:\n    return 1\n\n\n"
            '@router.get("/")\ndef f() -> int:\n    return async_session()\n')
    assert only(code) == []


def test_never_flags_modules_without_fastapi() -> None:
    code = ("from flask import Flask\nfrom app.db import SessionLocal\n\napp = Flask(__name__)\n\n\n"
            '@app.get("/")\ndef index() -> str:\n    db = SessionLocal()\n    return ""\n')
    assert only(code) == []
