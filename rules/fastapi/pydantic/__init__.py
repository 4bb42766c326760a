"""PYS404, PYS405: the Pydantic v2 rules, and what they share with the FastAPI rules.

The package splits them by concern: `models` (which classes are Pydantic models, and the
names the rules share), `names` (`PydanticNames`: which local names hold a model class or
instance), `rewrites` (the v2 spelling of v1 code, for the fixes), `v1_api` (PYS404) and
`settings` (PYS405). Every name importable from the single module this package once was
is re-exported here.
"""

from __future__ import annotations

from pystd.rules.fastapi.pydantic.models import (
    CLASS_DECORATORS,
    CONSTRUCTORS,
    FIELD,
    MIGRATION_GUIDE,
    MODEL_BASES,
    PYDANTIC_CONSTRUCTORS,
    ROOT_VALIDATORS,
    SETTINGS_BASES,
    V1_METHODS,
    VALIDATORS,
    Bound,
    Model,
    from_the_project,
    model_of,
    pydantic_1,
)
from pystd.rules.fastapi.pydantic.names import PydanticNames
from pystd.rules.fastapi.pydantic.settings import PydanticBaseSettingsImport
from pystd.rules.fastapi.pydantic.v1_api import PydanticV1Api

__all__ = [
    "CLASS_DECORATORS",
    "CONSTRUCTORS",
    "FIELD",
    "MIGRATION_GUIDE",
    "MODEL_BASES",
    "PYDANTIC_CONSTRUCTORS",
    "ROOT_VALIDATORS",
    "SETTINGS_BASES",
    "V1_METHODS",
    "VALIDATORS",
    "Bound",
    "Model",
    "PydanticBaseSettingsImport",
    "PydanticNames",
    "PydanticV1Api",
    "from_the_project",
    "model_of",
    "pydantic_1",
]
