"""PYS103 exception-swallowed: broad `except` clauses that silently do nothing."""

from __future__ import annotations

import re
from functools import cached_property

import libcst as cst

from pystd.rules.engine import FLAG_MARKER, Category, Example, Rule, Severity, register
from pystd.rules.general.loggers import LOGGER_NAMES, module_loggers
from pystd.rules.general.strings import identifier_words
from pystd.rules.walker import comments_in, find_nodes

BROAD_EXCEPTIONS = frozenset({"builtins.Exception", "builtins.BaseException"})
LOG_MESSAGE = "Ignoring error"
# Comments that instruct a tool rather than explain the code to a reader (pystd's own
# examples mark their flagged lines with FLAG_MARKER).
_TOOL_COMMENT = re.compile(
    r"#\s*(?:noqa|type:|pragma|nosec|nosemgrep|pylint:|fmt:|isort:|pyright:|mypy:"
    r"|todo|fixme|xxx|hack)(?![a-z])", re.I)
# A function whose name promises silence (`fail_silently`, `quietly`): its callers ask
# for the error to vanish.
SILENT_WORDS = ("silent", "quiet")


@register
class ExceptionSwallowed(Rule):
    code = "PYS103"
    name = "exception-swallowed"
    severity = Severity.WARNING
    category = Category.CORRECTNESS
    default = False
    rationale = (
        "Swallowing an error is usually a deliberate best-effort choice: 88 findings on the "
        "tuning projects, and of 21 read (prefect analytics, django-ninja-boost hooks, "
        "pretix) about 2 were worth a maintainer's time. Opt-in."
    )
    message = "Broad `except` swallows the error silently; log it, re-raise, or catch a specific class"
    requires = ("except",)
    docs = """
## What it does
Flags `except:`, `except Exception` and `except BaseException` (alone or in a tuple, with or
without `as e`) whose body only passes: `pass`, `...`, `continue`, or a bare `return` /
`return None`, with no logging call and no `raise`.

Handlers that log, re-raise, return a real value or do anything else, and handlers that
catch a specific class (`except KeyError: pass`) are not flagged. Nor are handlers whose
`try` holds only `assert` statements without calls (`try: assert msg.attributes` /
`except Exception: return`: the failure is the code's own check, not an error), nor
handlers in a function named to fail silently (`fail_silently`, `_quietly_remove`), whose
callers ask for the silence. An `except Exception` written as a fallback is not flagged
either: a `try` of one statement that produces a value (`return int(x)`, `data = read(p)`)
whose handler returns None (`def as_int(x): try: return int(x) / except Exception: return
None`), nor one whose reason is written beside it (a comment above the `except`, on its
line or in its body; tool directives such as `# noqa` or `# type: ignore` and `# TODO`
are not reasons). A bare `except:` or `except BaseException` is flagged all the same: it
also stops Ctrl-C and `SystemExit`.

## Why is this bad?
A broad handler that does nothing hides every bug it catches — a typo'd attribute, a
broken database connection — and a bare `except:` also catches `KeyboardInterrupt` and
`SystemExit`. The Python tutorial ("Errors and Exceptions") and PEP 8 advise catching
specific exceptions; PEP 760 proposes to disallow bare `except:` altogether; ruff's E722
(bare-except) and BLE001 (blind-except) exist for the same reason. In a server the
failure then surfaces far away from its cause, or never.

## Example
```python
try:
    send_welcome_email(user)
except:
    pass
```

## Use instead
```python
try:
    send_welcome_email(user)
except SMTPException:
    logger.exception("welcome email failed for user %s", user.pk)
```

## Fix
Where the module has a logger (a top-level `logger`/`log`/`LOGGER = logging.getLogger(...)`):
a bare `except:` becomes `except Exception:` and the handler gets
`logger.debug(..., exc_info=True)`, in place of a `pass`/`...` body or before a
`continue`/`return`, so it still swallows the error, now on the record with its traceback.
Never `logger.exception`: the code takes this path on purpose, and an error-level event
each time would page someone or open an error-tracker issue. Without a module logger no
fix is offered: narrowing the clause alone would leave the error just as silent.

## Suppress
`# noqa: PYS103` on the `except` line, for a handler that must never fail (say why in a
comment).
"""
    bad = (
        """
        def f():
            try:
                g()
            except:  # flagged
                pass
        """,
        """
        def f():
            try:
                g()
            except Exception:  # flagged
                pass
        """,
        """
        def f(items):
            for x in items:
                try:
                    g(x)
                except (ValueError, Exception) as e:  # flagged
                    continue
        """,
        Example(
            """
            import logging

            logger = logging.getLogger(__name__)


            def f():
                try:
                    g()
                except:  # flagged
                    return None
            """,
            fixed="""
            import logging

            logger = logging.getLogger(__name__)


            def f():
                try:
                    g()
                except Exception:  # flagged
                    logger.debug("Ignoring error", exc_info=True)
                    return None
            """,
        ),
        Example(
            """
            import logging

            log = logging.getLogger(__name__)


            def f():
                try:
                    g()
                except BaseException:  # flagged
                    ...
            """,
            fixed="""
            import logging

            log = logging.getLogger(__name__)


            def f():
                try:
                    g()
                except BaseException:  # flagged
                    log.debug("Ignoring error", exc_info=True)
            """,
        ),
    )
    good = (
        """
        def f():
            try:
                g()
            except KeyError:
                pass
        """,
        """
        import logging

        logger = logging.getLogger(__name__)


        def f():
            try:
                g()
            except Exception:
                logger.exception('g failed')
        """,
        """
        def f():
            try:
                g()
            except Exception:
                cleanup()
                raise
        """,
        """
        def f():
            try:
                return g()
            except Exception:
                return False
        """,
    )

    @cached_property
    def _logger(self) -> str | None:
        loggers = module_loggers(self.ctx)
        return next((name for name in LOGGER_NAMES if name in loggers), None)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if not _only_passes(node.body) or not self._broad(node.type):
            return
        parent = self.ctx.parent
        if isinstance(parent, cst.Try) and _only_checks(parent.body):
            return  # try: assert message.attributes / except Exception: return
        func = self.ctx.enclosing_function()
        if func is not None and any(word.startswith(SILENT_WORDS)
                                    for word in identifier_words(func.name.value)):
            return  # def fail_silently(func, *args): try: return func(*args) ...
        if not self._catches_everything(node.type):
            # `except Exception` (not a bare `except:` or BaseException, which also stop
            # Ctrl-C and SystemExit) written as a fallback or with its reason beside it.
            if isinstance(parent, cst.Try) and _is_fallback(parent.body, node.body):
                return  # try: return int(value) / except Exception: return None
            if _explained(node):
                return  # except Exception:  # the cache is optional: serve without it
        if self._logger is None:
            # `except:` -> `except Exception:` alone still swallows the error: a suggestion
            # that leaves its own finding in place is noise, so none is offered.
            self.report(node)
            return
        new = node.with_changes(body=_with_log_call(node.body, self._logger))
        if node.type is None:
            new = new.with_changes(type=cst.Name("Exception"),
                                   whitespace_after_except=cst.SimpleWhitespace(" "))
        self.report(node, replace=(node, new))

    def _catches_everything(self, type_: cst.BaseExpression | None) -> bool:
        """A bare `except:` or one naming BaseException."""
        if type_ is None:
            return True
        if isinstance(type_, cst.Tuple):
            return any(self._catches_everything(el.value) for el in type_.elements
                       if isinstance(el, cst.Element))
        return self.ctx.qualified_name(type_) == "builtins.BaseException"

    def _broad(self, type_: cst.BaseExpression | None) -> bool:
        if type_ is None:
            return True
        if isinstance(type_, cst.Tuple):
            return any(self._broad(el.value) for el in type_.elements
                       if isinstance(el, cst.Element))
        return self.ctx.qualified_name(type_) in BROAD_EXCEPTIONS


def _small_statements(body: cst.BaseSuite) -> list[cst.BaseSmallStatement] | None:
    """The handler's statements if all are simple, else None."""
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    out: list[cst.BaseSmallStatement] = []
    for stmt in body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return None
        out.extend(stmt.body)
    return out


def _only_checks(body: cst.BaseSuite) -> bool:
    """A `try` body of `assert` statements that call nothing: what it raises is the code's
    own `AssertionError`, a check that failed, not an error to log."""
    smalls = _small_statements(body)
    return bool(smalls) and all(
        isinstance(s, cst.Assert) and not find_nodes(s, (cst.Call,))
        for s in smalls)  # type: ignore[union-attr]


def _is_fallback(body: cst.BaseSuite, handler: cst.BaseSuite) -> bool:
    """A `try` of one statement that produces a value (`return parse(x)`, `value = int(x)`)
    whose handler returns None: the idiom of a function that answers "no value" when the
    computation fails (`def as_int(x): try: return int(x) except Exception: return None`)."""
    smalls = _small_statements(body)
    if not smalls or len(smalls) != 1:
        return False
    produces = (isinstance(smalls[0], cst.Return) and smalls[0].value is not None) or \
        isinstance(smalls[0], (cst.Assign, cst.AnnAssign))
    handled = _small_statements(handler)
    return produces and bool(handled) and all(
        isinstance(s, cst.Return) for s in handled)  # type: ignore[union-attr]


def _explained(handler: cst.ExceptHandler) -> bool:
    """Does a comment beside the handler (above `except`, on its line, or in its body) say
    why the error is ignored? Tool directives (`# noqa`, `# type: ignore`) and `# TODO`
    explain nothing."""
    return any(not _TOOL_COMMENT.match(c.value) and not c.value.startswith(FLAG_MARKER)
               and len(c.value.strip("# ")) > 2
               for c in comments_in(handler))


def _is_filler(small: cst.BaseSmallStatement) -> bool:
    """`pass` or `...`: statements that do nothing."""
    return isinstance(small, cst.Pass) or (
        isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis))


def _passes(small: cst.BaseSmallStatement) -> bool:
    if _is_filler(small) or isinstance(small, cst.Continue):
        return True
    if isinstance(small, cst.Return):
        value = small.value
        return value is None or (isinstance(value, cst.Name) and value.value == "None")
    return False


def _only_passes(body: cst.BaseSuite) -> bool:
    smalls = _small_statements(body)
    if not smalls:
        return False
    return all(_passes(s) for s in smalls)


def _log_call(logger: str) -> cst.Expr:
    """`logger.debug(..., exc_info=True)`: on the record with its traceback, and never an
    error-level event (an alert, a Sentry issue) on a path the code takes on purpose."""
    return cst.Expr(cst.parse_expression(f'{logger}.debug("{LOG_MESSAGE}", exc_info=True)'))


def _with_log_call(body: cst.BaseSuite, logger: str) -> cst.BaseSuite:
    """The body with `logger.debug(...)` in place of its first `pass`/`...`, or before
    its `continue`/`return`; further `pass`/`...` statements are dropped."""
    call = _log_call(logger)
    if isinstance(body, cst.SimpleStatementSuite):
        rest = [s for s in body.body if not _is_filler(s)]
        return body.with_changes(body=[call, *_without_trailing_semicolon(rest)])
    assert isinstance(body, cst.IndentedBlock)
    lines: list[cst.BaseStatement] = []
    placed = False
    for stmt in body.body:
        assert isinstance(stmt, cst.SimpleStatementLine)
        rest = [s for s in stmt.body if not _is_filler(s)]
        if not placed and len(rest) < len(stmt.body):
            lines.append(stmt.with_changes(body=[call, *_without_trailing_semicolon(rest)]))
            placed = True
        elif rest:
            lines.append(stmt.with_changes(body=_without_trailing_semicolon(rest)))
    if not placed:
        lines.insert(0, cst.SimpleStatementLine([call]))
    return body.with_changes(body=lines)


def _without_trailing_semicolon(smalls: list[cst.BaseSmallStatement]
                                ) -> list[cst.BaseSmallStatement]:
    """libcst writes a `;` between small statements; the last one must not carry one."""
    if smalls and not isinstance(smalls[-1].semicolon, cst.MaybeSentinel):
        smalls = [*smalls[:-1], smalls[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)]
    return smalls
