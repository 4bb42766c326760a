"""PYS1xx: rules for every framework, one submodule per concern; importing the package
registers them all.

- `async_calls`: blocking calls in the event loop (PYS101)
- `tasks`: asyncio tasks whose reference is dropped (PYS108)
- `secrets`: credentials in the source (PYS102)
- `exceptions`: swallowed exceptions (PYS103)
- `printing`: `print` in server code (PYS104)
- `sql`: SQL text built from values (PYS105)
- `markup`: HTML marked safe or built in code (PYS106, PYS107)
- `environment`: environment reads in handlers (PYS109)
- `strings`: reading identifiers and string literals, shared by the rules above

PYS110 (fat handler) is change-level: it lives in rules/change/fat_handlers.py.
"""

from __future__ import annotations

from pystd.rules.general import (
    async_calls,
    environment,
    exceptions,
    html_responses,
    loggers,
    markup,
    printing,
    secrets,
    sql,
    strings,
    tasks,
)
from pystd.rules.general.async_calls import (
    BLOCKING_CALLS,
    OFFLOADING_CALLS,
    BlockingCallInAsync,
)
from pystd.rules.general.environment import EnvReadInHandler
from pystd.rules.general.exceptions import ExceptionSwallowed
from pystd.rules.general.html_responses import HtmlBuiltInCode
from pystd.rules.general.loggers import module_loggers
from pystd.rules.general.markup import SAFE_MARKERS, UnsafeMarkup
from pystd.rules.general.printing import PrintInServerCode
from pystd.rules.general.secrets import (
    CREDENTIAL_PREFIXES,
    NON_SECRET_VALUES,
    PREFILTER_WORDS,
    SECRET_PAIRS,
    SECRET_WORDS,
    HardcodedSecret,
    is_non_secret_value,
    is_placeholder,
    is_secret_name,
    looks_real,
)
from pystd.rules.general.sql import (
    DB_MODULES,
    DB_RECEIVER_WORDS,
    RAW_SQL,
    TEXT_FUNCTIONS,
    SqlStringBuilding,
)
from pystd.rules.general.strings import identifier_words, string_pieces
from pystd.rules.general.tasks import TASK_FUNCTIONS, TaskReferenceDropped

__all__ = [
    "BLOCKING_CALLS",
    "CREDENTIAL_PREFIXES",
    "DB_MODULES",
    "DB_RECEIVER_WORDS",
    "NON_SECRET_VALUES",
    "OFFLOADING_CALLS",
    "PREFILTER_WORDS",
    "RAW_SQL",
    "SAFE_MARKERS",
    "SECRET_PAIRS",
    "SECRET_WORDS",
    "TASK_FUNCTIONS",
    "TEXT_FUNCTIONS",
    "BlockingCallInAsync",
    "EnvReadInHandler",
    "ExceptionSwallowed",
    "HardcodedSecret",
    "HtmlBuiltInCode",
    "PrintInServerCode",
    "SqlStringBuilding",
    "TaskReferenceDropped",
    "UnsafeMarkup",
    "async_calls",
    "environment",
    "exceptions",
    "html_responses",
    "identifier_words",
    "is_non_secret_value",
    "is_placeholder",
    "is_secret_name",
    "loggers",
    "looks_real",
    "markup",
    "module_loggers",
    "printing",
    "secrets",
    "sql",
    "string_pieces",
    "strings",
    "tasks",
]
