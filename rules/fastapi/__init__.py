"""PYS4xx: FastAPI and Pydantic v2 rules. Importing the package registers every one of them.

`path_operations` says which functions are FastAPI path operations (shared by the rules);
`pydantic` holds PYS404/PYS405 and the Pydantic model helpers; every other module is one
rule. The Pydantic names are re-exported so `from rules.fastapi import PydanticNames` keeps
working as it did when this package was one module.
"""

from pystd.rules.fastapi import (  # noqa: F401
    annotated_params,
    cors,
    error_as_success,
    lifespan,
    path_operations,
    pydantic,
    response_model,
    router_tags,
    session_in_handler,
    untyped_body,
)
from pystd.rules.fastapi.pydantic import (
    CLASS_DECORATORS,
    CONSTRUCTORS,
    FIELD,
    MIGRATION_GUIDE,
    MODEL_BASES,
    ROOT_VALIDATORS,
    SETTINGS_BASES,
    V1_METHODS,
    VALIDATORS,
    Bound,
    Model,
    PydanticBaseSettingsImport,
    PydanticNames,
    PydanticV1Api,
    model_of,
)

__all__ = [
    "CLASS_DECORATORS",
    "CONSTRUCTORS",
    "FIELD",
    "MIGRATION_GUIDE",
    "MODEL_BASES",
    "ROOT_VALIDATORS",
    "SETTINGS_BASES",
    "V1_METHODS",
    "VALIDATORS",
    "Bound",
    "Model",
    "PydanticBaseSettingsImport",
    "PydanticNames",
    "PydanticV1Api",
    "model_of",
]
