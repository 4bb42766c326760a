"""Finding the module logger, shared by PYS103 and PYS104 and their fixes."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext

LOGGER_NAMES = ("logger", "log", "LOGGER")
# Calls that create a logger: `logging.getLogger(__name__)`, `structlog.get_logger()`.
_LOGGER_FACTORIES = frozenset({"getLogger", "get_logger", "getChild"})
# Libraries whose `logger` object is imported ready-made: `from loguru import logger`.
_LOGGER_IMPORTS = frozenset({"loguru.logger"})


def module_loggers(ctx: FileContext) -> frozenset[str]:
    """Names among `logger`/`log`/`LOGGER` that the module binds at top level to a logger:
    `logger = logging.getLogger(__name__)` (any alias of getLogger) or an imported loguru
    `logger`. Reads only the module's top-level statements."""
    found = {name for name in LOGGER_NAMES if ctx.imports.get(name) in _LOGGER_IMPORTS}
    if ctx.module is None:
        return frozenset(found)
    for stmt in ctx.module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and _creates_logger(small.value):
                found.update(t.target.value for t in small.targets
                             if isinstance(t.target, cst.Name) and t.target.value in LOGGER_NAMES)
            elif (isinstance(small, cst.AnnAssign) and small.value is not None
                  and _creates_logger(small.value) and isinstance(small.target, cst.Name)
                  and small.target.value in LOGGER_NAMES):
                found.add(small.target.value)
    return frozenset(found)


def _creates_logger(value: cst.BaseExpression) -> bool:
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    name = func.attr.value if isinstance(func, cst.Attribute) else (
        func.value if isinstance(func, cst.Name) else None)
    return name in _LOGGER_FACTORIES
