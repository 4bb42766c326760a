"""PYS404 and PYS405 (rules/fastapi/pydantic/): every flags / never-flags item and every fix
of their RULES.md rows."""

from __future__ import annotations

import textwrap

import pytest

from tests.rules.lint import codes, fix_of, fixed, lines_of, lint, one, only

MODEL = """\
from pydantic import BaseModel


class User(BaseModel):
    name: str
"""


# == PYS404 pydantic-v1-api: flags ======================================================


def test_flags_validator_decorator() -> None:
    code = """\
        from pydantic import BaseModel, validator

        class User(BaseModel):
            name: str

            @validator("name")
            def strip(cls, v):
                return v.strip()
        """
    assert codes(code, select="PYS404") == [("PYS404", 6)]


def test_flags_validator_through_module_and_class_validators() -> None:
    code = """\
        import pydantic
        from pydantic.class_validators import validator as check

        class User(pydantic.BaseModel):
            name: str

            @pydantic.validator("name")
            def a(cls, v):
                return v

            @check("name")
            def b(cls, v):
                return v
        """
    assert lines_of(code, "PYS404") == [7, 11]


def test_flags_root_validator_bare_and_called() -> None:
    code = """\
        from pydantic import BaseModel, root_validator

        class Span(BaseModel):
            start: int

            @root_validator
            def a(cls, values):
                return values

            @root_validator(pre=True)
            def b(cls, values):
                return values
        """
    findings = only(code, "PYS404")
    assert [f.line for f in findings] == [6, 10]
    assert all("@model_validator" in f.message and f.fix is None for f in findings)


def test_flags_class_config_in_model() -> None:
    code = MODEL + "\n    class Config:\n        extra = 'forbid'\n"
    finding = one(code, "PYS404")
    assert finding.line == 7
    assert "model_config = ConfigDict(...)" in finding.message


def test_flags_class_config_in_subclass_of_a_module_model() -> None:
    code = MODEL + "\n\nclass Admin(User):\n    class Config:\n        title = 'admin'\n"
    assert lines_of(code, "PYS404") == [9]


def test_flags_class_config_in_settings_and_points_to_settings_config_dict() -> None:
    code = """\
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            debug: bool = False

            class Config:
                env_prefix = "APP_"
        """
    finding = one(code, "PYS404")
    assert finding.line == 6
    assert "SettingsConfigDict" in finding.message
    assert finding.fix is None


def test_flags_orm_mode_true_in_config() -> None:
    code = MODEL + "\n    class Config:\n        orm_mode = True\n"
    findings = only(code, "PYS404")
    assert [(f.line, f.message) for f in findings][1] == (
        8, "`orm_mode = True` is Pydantic v1 API: use `from_attributes = True`")


def test_flags_orm_mode_in_a_one_line_config() -> None:
    code = MODEL + "\n    class Config: orm_mode = True\n"
    assert lines_of(code, "PYS404") == [7, 7]


def test_flags_field_regex() -> None:
    code = """\
        from pydantic import BaseModel, Field as F

        class User(BaseModel):
            name: str = F(regex="^[a-z]+$", max_length=20)
        """
    assert codes(code, select="PYS404") == [("PYS404", 4)]


@pytest.mark.parametrize(
    ("call", "shown"),
    [
        ("User.parse_obj(d)", ".parse_obj()"),
        ("User.parse_raw(d)", ".parse_raw()"),
        ("User.from_orm(d)", ".from_orm()"),
    ],
)
def test_flags_class_methods_on_a_module_model(call: str, shown: str) -> None:
    code = MODEL + f"\n\ndef load(d):\n    return {call}\n"
    finding = one(code, "PYS404")
    assert finding.line == 9
    assert finding.message.startswith(f"`{shown}` is Pydantic v1 API")


def test_from_orm_message_mentions_from_attributes() -> None:
    finding = one(MODEL + "\nu = User.from_orm(row)\n", "PYS404")
    assert "from_attributes=True" in finding.message


@pytest.mark.parametrize(
    "binding",
    [
        "u = User(name='a')",
        "u = User.model_validate(d)",
        "u = User.model_validate_json(d)",
        "u = User.parse_obj(d)",
        "u: User = load(d)",
        "u = other = User(name='a')",
        "v = User(name='a'); u = v",
    ],
)
@pytest.mark.parametrize("call", ["u.dict()", "u.json()", "u.copy(update={'name': 'b'})"])
def test_flags_instance_methods_on_a_bound_instance(binding: str, call: str) -> None:
    code = MODEL + f"\n\ndef f(d):\n    {binding}\n    return {call}\n"
    assert 10 in lines_of(code, "PYS404")


@pytest.mark.parametrize(
    "annotation", ["User", "'User'", "User | None", "Optional[User]", "typing.Optional[User]"]
)
def test_flags_methods_on_annotated_parameter(annotation: str) -> None:
    code = "import typing\nfrom typing import Optional\n" + MODEL + (
        f"\n\nasync def create(user: {annotation}, *, other: User):\n"
        "    return user.dict(), other.json()\n"
    )
    assert lines_of(code, "PYS404") == [11, 11]


def test_flags_module_level_instance_and_calls_on_a_fresh_instance() -> None:
    code = MODEL + "\nDEFAULT = User(name='x')\n\n\ndef f(d):\n" \
                   "    return DEFAULT.dict(), User(**d).json()\n"
    assert lines_of(code, "PYS404") == [11, 11]


def test_flags_use_in_a_function_defined_above_the_model() -> None:
    code = "from pydantic import BaseModel\n\n\ndef load(d):\n    return User.parse_obj(d)\n\n\n" \
           "class User(BaseModel):\n    name: str\n"
    assert lines_of(code, "PYS404") == [5]


def test_flags_self_and_cls_in_model_methods() -> None:
    code = MODEL + textwrap.indent(textwrap.dedent("""
        def payload(self):
            return self.dict()

        @classmethod
        def load(cls, raw):
            return cls.parse_raw(raw)
        """), "    ")
    assert lines_of(code, "PYS404") == [8, 12]


def test_flags_closures_reading_an_enclosing_instance() -> None:
    code = MODEL + "\n\ndef f():\n    u = User(name='a')\n    return lambda: u.json()\n"
    assert lines_of(code, "PYS404") == [10]


def test_flags_models_with_generic_and_subscripted_bases() -> None:
    code = """\
        from typing import Generic, TypeVar
        from pydantic import BaseModel
        T = TypeVar("T")

        class Page(BaseModel, Generic[T]):
            items: list[T]

        class UserPage(Page[int]):
            pass

        p = UserPage.parse_obj({})
        """
    assert lines_of(code, "PYS404") == [11]


def test_flags_in_a_module_that_only_imports_pydantic_settings() -> None:
    code = """\
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            debug: bool = False

        print_me = Settings().dict()
        """
    assert lines_of(code, "PYS404") == [6]


# == PYS404: never flags ================================================================


@pytest.mark.parametrize(
    "body",
    [
        "response = httpx.get(url)\n    return response.json()",
        "r = requests.get(url)\n    return r.json()",
        "return (await request.json())",
        "return session.get(url).json()",
        "return client.post(url).json()",
    ],
)
def test_never_flags_json_on_http_objects(body: str) -> None:
    code = MODEL + f"\n\nasync def handler(request, url, session, client):\n    {body}\n"
    assert lines_of(code, "PYS404") == []


def test_never_flags_json_on_names_of_http_objects_even_when_bound_from_a_model() -> None:
    code = MODEL + "\n\ndef f(response: User, request: User, r: User):\n" \
                   "    return response.json(), request.json(), r.json()\n"
    assert lines_of(code, "PYS404") == []


def test_never_flags_json_on_a_request_annotated_with_a_framework_class() -> None:
    code = """\
        from fastapi import FastAPI, Request
        from pydantic import BaseModel

        app = FastAPI()

        class Item(BaseModel):
            name: str

        @app.post("/items", response_model=Item)
        async def create(request: Request) -> Item:
            return Item.model_validate(await request.json())
        """
    assert lines_of(code, "PYS404") == []


@pytest.mark.parametrize(
    "body",
    [
        "return payload.dict()",
        "return obj.json()",
        "return Imported.parse_obj(d)",
        "return User.model_validate(d).model_dump()",
        "u = User(name='a')\n    return u.copy()",
        "u = User(name='a')\n    return u.copy(deep=True)",
        "return d.copy(update={'a': 1})",
    ],
)
def test_never_flags_unknown_objects_or_v2_calls(body: str) -> None:
    code = "from lib import Imported\n" + MODEL + f"\n\ndef f(payload, obj, d):\n    {body}\n"
    assert lines_of(code, "PYS404") == []


@pytest.mark.parametrize(
    "body",
    [
        "u = User(name='a')\n    u = fetch()\n    return u.json()",
        "u = fetch() if d else User(name='a')\n    return u.json()",
        "u = User(name='a')\n    return [u.json() for u in responses]",
        "u = User(name='a')\n    return list(map(lambda u: u.json(), responses))",
        "u = User(name='a')\n    for u in responses:\n        u.json()",
        "u = User(name='a')\n    with open(d) as u:\n        return u.json()",
        "u = User(name='a')\n    u += 1\n    return u.json()",
        "if d:\n        u = fetch()\n    else:\n        u = User(name='a')\n    return u.json()",
    ],
)
def test_never_flags_names_rebound_to_something_else(body: str) -> None:
    code = MODEL + f"\n\ndef f(d, responses):\n    {body}\n"
    assert lines_of(code, "PYS404") == []


def test_never_flags_parameters_shadowing_a_module_instance() -> None:
    code = MODEL + "\nuser = User(name='x')\n\n\ndef f(user):\n    return user.json()\n"
    assert lines_of(code, "PYS404") == []


def test_never_flags_a_model_method_of_its_own() -> None:
    code = MODEL + textwrap.indent(textwrap.dedent("""
        def dict(self, **kwargs):
            return {"name": self.name}

        def copy(self, update=None):
            return self
        """), "    ") + "\n\ndef f(u: User):\n    return u.dict(), u.copy(update={}), self_ok(u)\n"
    assert lines_of(code, "PYS404") == []


def test_never_flags_pydantic_v1_compat_layer() -> None:
    code = """\
        from pydantic.v1 import BaseModel, Field, validator

        class User(BaseModel):
            name: str = Field(regex="^a")

            class Config:
                orm_mode = True

            @validator("name")
            def strip(cls, v):
                return v

        payload = User(name="a").dict()
        """
    assert lines_of(code, "PYS404") == []


def test_never_flags_modules_without_pydantic() -> None:
    code = """\
        from mylib import BaseModel, Field, validator

        class User(BaseModel):
            name: str = Field(regex="^a")

            class Config:
                orm_mode = True

            @validator("name")
            def strip(cls, v):
                return v

        payload = User().dict()
        """
    assert lines_of(code, "PYS404") == []


def test_never_flags_config_or_orm_mode_outside_a_model() -> None:
    code = """\
        import pydantic

        class Plain:
            class Config:
                orm_mode = True

        class Config:
            orm_mode = True

        class User(pydantic.BaseModel):
            def method(self):
                class Config:
                    orm_mode = True
        """
    assert lines_of(code, "PYS404") == []


def test_never_flags_v2_api_or_other_libraries_field() -> None:
    code = """\
        from dataclasses import field
        from pydantic import BaseModel, ConfigDict, Field, field_validator
        from mylib import Field as OtherField

        class User(BaseModel):
            model_config = ConfigDict(from_attributes=True)
            name: str = Field(pattern="^a")
            other: str = OtherField(regex="^a")

            @field_validator("name")
            @classmethod
            def strip(cls, v):
                return v
        """
    assert lines_of(code, "PYS404") == []


# == PYS404: fixes ======================================================================


def test_fix_validator_to_field_validator_with_classmethod_and_import() -> None:
    code = """\
        from pydantic import BaseModel, validator

        class User(BaseModel):
            name: str

            @validator("name", "nick", allow_reuse=True)
            def strip(cls, v):
                return v.strip()
        """
    assert fix_of(code, "PYS404") == textwrap.dedent("""\
        from pydantic import BaseModel, validator
        from pydantic import field_validator

        class User(BaseModel):
            name: str

            @field_validator("name", "nick")
            @classmethod
            def strip(cls, v):
                return v.strip()
        """)


def test_fix_validator_pre_becomes_mode_before_and_keeps_existing_classmethod() -> None:
    code = """\
        import pydantic

        class User(pydantic.BaseModel):
            name: str

            @pydantic.validator("name", pre=True, check_fields=False)
            @classmethod
            def strip(cls, v):
                return v.strip()
        """
    new = fix_of(code, "PYS404")
    assert '@pydantic.field_validator("name", mode="before", check_fields=False)\n' \
           "    @classmethod\n    def strip" in new
    assert new.count("@classmethod") == 1
    assert "from pydantic import field_validator" not in new


def test_fix_validator_drops_pre_false() -> None:
    code = MODEL.replace("BaseModel\n", "BaseModel, validator\n", 1) + (
        '\n    @validator("name", pre=False)\n    def strip(cls, v):\n        return v\n'
    )
    assert '    @field_validator("name")\n    @classmethod\n' in fix_of(code, "PYS404")


def test_no_fix_for_validator_when_field_validator_is_another_name() -> None:
    code = "from mylib import field_validator\n" + MODEL.replace(
        "BaseModel\n", "BaseModel, validator\n", 1
    ) + '\n    @validator("name")\n    def strip(cls, v):\n        return v\n'
    assert one(code, "PYS404").fix is None


@pytest.mark.parametrize(
    ("decorator", "signature"),
    [
        ('@validator("name", always=True)', "(cls, v)"),
        ('@validator("name", each_item=True)', "(cls, v)"),
        ('@validator("name", pre=flag)', "(cls, v)"),
        ('@validator("name")', "(cls, v, values)"),
        ('@validator("name")', "(cls, v, **kwargs)"),
        ("@validator", "(cls, v)"),
    ],
)
def test_no_fix_for_validators_v2_would_call_differently(decorator: str, signature: str) -> None:
    code = MODEL.replace("BaseModel\n", "BaseModel, validator\n", 1) + (
        f"\n    {decorator}\n    def strip{signature}:\n        return v\n"
    )
    finding = one(code, "PYS404")
    assert finding.fix is None


def test_fix_field_regex_to_pattern() -> None:
    code = """\
        from pydantic import BaseModel, Field

        class User(BaseModel):
            name: str = Field(regex=r"^[a-z]+$", max_length=20)
        """
    assert 'Field(pattern=r"^[a-z]+$", max_length=20)' in fix_of(code, "PYS404")


def test_no_fix_for_a_regex_the_v2_engine_rejects() -> None:
    code = MODEL.replace("BaseModel\n", "BaseModel, Field\n", 1)
    code += '    nick: str = Field(regex="^(?!x)")\n'
    finding = one(code, "PYS404")
    assert finding.fix is None
    assert "python-re" in finding.message


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("u.dict()", "u.model_dump()"),
        ("u.dict(exclude={'a'}, by_alias=True)", "u.model_dump(exclude={'a'}, by_alias=True)"),
        ("u.json()", "u.model_dump_json()"),
        ("u.json(indent=2, exclude_none=True)", "u.model_dump_json(indent=2, exclude_none=True)"),
        ("u.copy(update={'a': 1})", "u.model_copy(update={'a': 1})"),
        ("u.copy(update=d, deep=True)", "u.model_copy(update=d, deep=True)"),
        ("User.parse_obj(d)", "User.model_validate(d)"),
        ("User.parse_raw(d)", "User.model_validate_json(d)"),
        ("User.from_orm(d)", "User.model_validate(d, from_attributes=True)"),
    ],
)
def test_fix_methods(before: str, after: str) -> None:
    code = MODEL + f"\n\ndef f(u: User, d):\n    return {before}\n"
    assert fix_of(code, "PYS404").endswith(f"    return {after}\n")


@pytest.mark.parametrize(
    "call",
    [
        "u.json(encoder=str)",
        "u.json(sort_keys=True)",
        "u.dict(skip_defaults=True)",
        "u.dict(**opts)",
        "u.copy(update=d, include={'a'})",
        "User.parse_raw(d, content_type='application/json')",
        "User.parse_obj(*d)",
    ],
)
def test_no_fix_when_v2_takes_the_arguments_differently(call: str) -> None:
    code = MODEL + f"\n\ndef f(u: User, d, opts):\n    return {call}\n"
    assert one(code, "PYS404").fix is None


def test_fix_orm_mode_to_from_attributes() -> None:
    code = MODEL + "\n    class Config:  # v1 style\n        orm_mode = True\n"
    config, orm_mode = only(code, "PYS404")
    assert config.fix is None  # a comment would be lost
    new = fixed(code, orm_mode)
    assert new.endswith("    class Config:  # v1 style\n        from_attributes = True\n")
    assert [f.line for f in only(new, "PYS404")] == [7]


def test_fix_simple_class_config_to_model_config() -> None:
    code = MODEL + "\n    class Config:\n        orm_mode = True\n        extra = \"forbid\"\n" \
                   "        allow_population_by_field_name = True\n"
    config = only(code, "PYS404")[0]
    new = fixed(code, config)
    assert new == textwrap.dedent("""\
        from pydantic import BaseModel
        from pydantic import ConfigDict


        class User(BaseModel):
            name: str

            model_config = ConfigDict(from_attributes=True, extra="forbid", populate_by_name=True)
        """)
    assert only(new, "PYS404") == []


@pytest.mark.parametrize(
    "body",
    [
        "json_encoders = {int: str}",
        "orm_mode = True\n        orm_mode = False",
        "def hook(self):\n            pass",
        "title = 'a'  # why",
    ],
)
def test_no_fix_for_class_config_that_is_not_simple(body: str) -> None:
    code = MODEL + f"\n    class Config:\n        {body}\n"
    assert only(code, "PYS404")[0].fix is None


def test_no_fix_for_class_config_when_model_config_exists() -> None:
    code = MODEL + "\n    model_config = {}\n\n    class Config:\n        title = 'a'\n"
    assert one(code, "PYS404").fix is None


# == PYS405 pydantic-basesettings-import ================================================


@pytest.mark.parametrize(
    "line",
    [
        "from pydantic import BaseSettings",
        "from pydantic import BaseSettings as Base",
        "from pydantic import BaseModel, BaseSettings",
        "from pydantic.env_settings import BaseSettings",
    ],
)
def test_basesettings_import_flags(line: str) -> None:
    assert codes(f"{line}\n", select="PYS405") == [("PYS405", 1)]


def test_basesettings_attribute_through_import_pydantic_is_flagged() -> None:
    code = "import pydantic as pd\n\n\nclass Settings(pd.BaseSettings):\n    debug: bool = False\n"
    assert codes(code, select="PYS405") == [("PYS405", 4)]


@pytest.mark.parametrize(
    "code",
    [
        "from pydantic_settings import BaseSettings\n",
        "from pydantic import BaseModel\n",
        "import pydantic_settings\n\n\nclass S(pydantic_settings.BaseSettings):\n    pass\n",
        "try:\n    from pydantic_settings import BaseSettings\nexcept ImportError:\n"
        "    from pydantic import BaseSettings\n",
        "from .pydantic import BaseSettings\n",
    ],
)
def test_basesettings_never_flags(code: str) -> None:
    assert codes(code, select="PYS405") == []


def test_basesettings_fix_lone_import() -> None:
    code = "from pydantic import BaseSettings as Base  # settings\n"
    assert fix_of(code, "PYS405") == (
        "from pydantic_settings import BaseSettings as Base  # settings\n"
    )


def test_basesettings_fix_splits_a_multi_name_import() -> None:
    code = "import os\nfrom pydantic import BaseModel, BaseSettings as S, Field\nx = 1\n"
    assert fix_of(code, "PYS405") == (
        "import os\nfrom pydantic import BaseModel, Field\n"
        "from pydantic_settings import BaseSettings as S\nx = 1\n"
    )


def test_basesettings_fix_splits_a_parenthesized_import_last_name() -> None:
    code = "from pydantic import (\n    BaseModel,\n    BaseSettings,\n)\n"
    assert fix_of(code, "PYS405") == (
        "from pydantic import (\n    BaseModel,\n)\nfrom pydantic_settings import BaseSettings\n"
    )


def test_basesettings_fix_splits_a_parenthesized_import_first_name() -> None:
    code = "from pydantic import (\n    BaseSettings,\n    BaseModel,\n)\n"
    assert fix_of(code, "PYS405") == (
        "from pydantic import (\n    BaseModel,\n)\nfrom pydantic_settings import BaseSettings\n"
    )


def test_basesettings_fix_inside_a_function() -> None:
    code = "def make():\n    from pydantic import BaseSettings, Field\n    return BaseSettings\n"
    assert fix_of(code, "PYS405") == (
        "def make():\n    from pydantic import Field\n"
        "    from pydantic_settings import BaseSettings\n    return BaseSettings\n"
    )


def test_basesettings_fix_attribute_use() -> None:
    code = "import pydantic\n\n\nclass Settings(pydantic.BaseSettings):\n    debug: bool = False\n"
    assert fix_of(code, "PYS405") == (
        "import pydantic\nfrom pydantic_settings import BaseSettings\n\n\n"
        "class Settings(BaseSettings):\n    debug: bool = False\n"
    )


def test_basesettings_attribute_gets_no_fix_when_the_name_is_taken() -> None:
    code = "import pydantic\nfrom mylib import BaseSettings\n\n\n" \
           "class S(pydantic.BaseSettings):\n    pass\n"
    assert one(code, "PYS405").fix is None


def test_basesettings_is_skipped_in_test_files() -> None:
    assert lint("from pydantic import BaseSettings\n", "tests/test_settings.py", "PYS405") == []
