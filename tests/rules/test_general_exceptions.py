"""PYS103 exception-swallowed: every flags / never-flags item and the fix of its RULES.md
row."""

from __future__ import annotations

import textwrap

import pytest

from pystd.rules.engine import Finding
from tests.rules import lint as shared

LOGGER = "import logging\n\nlogger = logging.getLogger(__name__)\n\n\n"


def only(code: str, path: str = "app.py") -> list[Finding]:
    return shared.only(code, "PYS103", path)


def lines_of(code: str, path: str = "app.py") -> list[int]:
    return shared.lines_of(code, "PYS103", path)


def handler(clause: str, *body: str, head: str = "") -> str:
    """`head` then a function whose `try` has `clause` (on line `head` + 4) and `body`."""
    lines = "".join(f"        {b}\n" for b in body)
    return f"{head}def f(items):\n    for x in items:\n        try:\n            g(x)\n" \
        f"        {clause}\n{textwrap.indent(lines, '    ')}"


def fix_of(code: str) -> str:
    return shared.fix_of(code, "PYS103")


# == flags ===============================================================================


@pytest.mark.parametrize("clause", ["except:", "except Exception:", "except BaseException:",
                                    "except Exception as exc:", "except BaseException as e:"])
def test_flags_broad_clauses(clause: str) -> None:
    assert lines_of(handler(clause, "pass")) == [5]


@pytest.mark.parametrize("clause", ["except (ValueError, Exception):",
                                    "except (KeyError, BaseException) as e:",
                                    "except (builtins.Exception,):"])
def test_flags_broad_classes_in_a_tuple(clause: str) -> None:
    head = "import builtins\n" if "builtins" in clause else ""
    assert len(only(handler(clause, "pass", head=head))) == 1


@pytest.mark.parametrize("body", [("pass",), ("...",), ("continue",), ("return",),
                                  ("return None",), ("pass", "continue"),
                                  ("pass  # noqa: E501",), ("pass  # TODO",)])
def test_flags_bodies_that_only_pass(body: tuple[str, ...]) -> None:
    assert lines_of(handler("except Exception:", *body)) == [5]


def test_flags_one_line_handlers_and_module_level_code() -> None:
    assert lines_of("try:\n    import ujson\nexcept: pass\n") == [3]
    assert lines_of("try:\n    g()\nexcept Exception: ...\n") == [3]


def test_flags_every_handler_of_a_try() -> None:
    code = "try:\n    g()\nexcept KeyError:\n    pass\nexcept Exception:\n    pass\n" \
           "except:\n    pass\n"
    assert lines_of(code) == [5, 7]


def test_flags_in_async_code_and_methods() -> None:
    code = "class C:\n    async def f(self):\n        try:\n            await g()\n" \
           "        except Exception:\n            return\n"
    assert lines_of(code) == [5]


# == never flags =========================================================================


@pytest.mark.parametrize("body", [
    ("logger.exception('failed')",),
    ("log.warning('failed: %s', x)",),
    ("logging.exception('failed')",),
    ("raise",),
    ("raise RuntimeError('x') from None",),
    ("cleanup()", "raise"),
])
def test_never_flags_handlers_that_log_or_re_raise(body: tuple[str, ...]) -> None:
    assert only(handler("except Exception:", *body, head=LOGGER)) == []


@pytest.mark.parametrize("clause", ["except ValueError:", "except (KeyError, IndexError):",
                                    "except OSError as exc:", "except ImportError:",
                                    "except requests.RequestException:"])
def test_never_flags_specific_exception_classes(clause: str) -> None:
    assert only(handler(clause, "pass")) == []


@pytest.mark.parametrize("body", [("return False",), ("return default",), ("x = None",),
                                  ("errors.append(x)",), ("break",), ("print('x')",)])
def test_never_flags_handlers_that_do_something(body: tuple[str, ...]) -> None:
    assert only(handler("except Exception:", *body)) == []


def test_never_flags_a_shadowed_exception_name() -> None:
    code = "from app.errors import Exception\n\ntry:\n    g()\nexcept Exception:\n    pass\n"
    assert only(code) == []


def test_never_flags_nested_statements_in_the_handler() -> None:
    code = handler("except Exception:", "if x:", "    pass")
    assert only(code) == []


def test_never_flags_a_try_of_assert_statements() -> None:
    """Survey (prefect 3.9.1, `server/events/stream.py:87`, `server/logs/stream.py:163`):
    `try: assert message.attributes` / `except Exception: return` is a check the code makes
    of its own input; nothing but its `AssertionError` is swallowed."""
    code = ("async def message_handler(message):\n"
            "    try:\n        assert message.attributes\n"
            "    except Exception:\n        return\n"
            "    try:\n        assert x, 'no x'; assert y is not None\n"
            "    except:\n        pass\n")
    assert only(code) == []


def test_flags_a_try_of_assert_statements_that_call() -> None:
    code = ("def f(message):\n"
            "    try:\n        assert validate(message)\n"
            "    except Exception:\n        return\n"  # line 4
            "    try:\n        assert message\n        send(message)\n"
            "    except Exception:\n        pass\n")  # line 9
    assert lines_of(code) == [4, 9]


@pytest.mark.parametrize("name", ["fail_silently", "_run_silently", "quietly", "callQuietly"])
def test_never_flags_a_function_named_to_fail_silently(name: str) -> None:
    """Survey (django-ninja-extra 0.31.7, `shortcuts.py:21`: `def fail_silently(func, *args,
    **kwargs): try: return func(*args, **kwargs) / except Exception: pass`)."""
    code = (f"def {name}(func, *args, **kwargs):\n"
            "    try:\n        return func(*args, **kwargs)\n"
            "    except Exception:\n        pass\n    return None\n")
    assert only(code) == []


@pytest.mark.parametrize("name", ["send_mail", "resilient_fetch", "silence_alarm_view"])
def test_flags_functions_not_named_to_fail_silently(name: str) -> None:
    code = (f"def {name}(func):\n"
            "    try:\n        return func()\n"
            "    except Exception:\n        pass\n")
    assert lines_of(code) == [4]


def test_skips_test_files() -> None:
    assert only(handler("except:", "pass"), path="tests/test_app.py") == []


# == fix =================================================================================


def test_fix_bare_except_pass_becomes_except_exception_with_a_debug_log_and_traceback() -> None:
    code = LOGGER + "def f():\n    try:\n        g()\n    except:\n        pass\n"
    assert fix_of(code) == LOGGER + (
        "def f():\n    try:\n        g()\n    except Exception:\n"
        '        logger.debug("Ignoring error", exc_info=True)\n'
    )


def test_fix_keeps_continue_and_return_after_the_log_call() -> None:
    code = handler("except Exception as exc:", "continue", head=LOGGER)
    new = fix_of(code)
    assert new.endswith('except Exception as exc:\n'
                        '            logger.debug("Ignoring error", exc_info=True)\n'
                        "            continue\n")
    code = LOGGER + "def f():\n    try:\n        g()\n    except:\n        return None\n"
    assert fix_of(code).endswith('    except Exception:\n'
                                 '        logger.debug("Ignoring error", exc_info=True)\n'
                                 "        return None\n")


def test_fix_uses_the_module_logger_name() -> None:
    for name in ("log", "LOGGER"):
        head = f"import logging\n\n{name} = logging.getLogger(__name__)\n\n\n"
        code = head + "def f():\n    try:\n        g()\n    except Exception:\n        ...\n"
        assert f'        {name}.debug("Ignoring error", exc_info=True)\n' in fix_of(code)


def test_fix_resolves_getlogger_aliases_and_keeps_comments() -> None:
    head = "from logging import getLogger\n\nlogger = getLogger(__name__)\n\n\n"
    code = head + "def f():\n    try:\n        g()\n    except:\n        pass  # optional\n"
    assert fix_of(code).endswith(
        '    except Exception:\n        logger.debug("Ignoring error", exc_info=True)  # optional\n')


def test_fix_one_line_handler() -> None:
    code = LOGGER + "try:\n    g()\nexcept: pass\n"
    assert fix_of(code).endswith('except Exception: logger.debug("Ignoring error", exc_info=True)\n')
    code = LOGGER + "for x in y:\n    try:\n        g()\n    except: pass; continue\n"
    assert fix_of(code).endswith(
        'except Exception: logger.debug("Ignoring error", exc_info=True); continue\n')


def test_no_fix_without_a_module_logger() -> None:
    for code in (handler("except:", "pass"),
                 "import logging\n\ndef f():\n    logger = logging.getLogger()\n"
                 "    try:\n        g()\n    except:\n        pass\n"):
        findings = only(code)
        assert findings and all(f.fix is None for f in findings)


# == fallback idioms and explained handlers (issue #9) ==================================


@pytest.mark.parametrize("code", [
    "def as_int(x):\n    try:\n        return int(x)\n    except Exception:\n        return None\n",
    "def load(p):\n    try:\n        data = read(p)\n    except Exception:\n        return\n"
    "    return data\n",
    "def f(x):\n    try:\n        value: int = int(x)\n    except (ValueError, Exception):\n"
    "        return None\n    return value\n",
])
def test_never_flags_a_one_statement_fallback_that_returns_none(code: str) -> None:
    assert only(code) == []


@pytest.mark.parametrize("code", [
    # the cache is optional: the reason sits in the body, beside `pass`, or above `except`
    "try:\n    cache.set(k, v)\nexcept Exception:\n    # the cache is optional\n    pass\n",
    "try:\n    cache.set(k, v)\nexcept Exception:\n    pass  # best effort: the cache is optional\n",
    "try:\n    cache.set(k, v)\nexcept Exception:  # cache down: serve without it\n    pass\n",
    "try:\n    cache.set(k, v)\n# a missing cache only slows us down\nexcept Exception:\n    pass\n",
])
def test_never_flags_a_handler_that_explains_itself(code: str) -> None:
    assert only(code) == []


@pytest.mark.parametrize(("code", "line"), [
    # bare `except:` and BaseException stop Ctrl-C and SystemExit too: still flagged
    ("def as_int(x):\n    try:\n        return int(x)\n    except:\n        return None\n", 4),
    ("def f(x):\n    try:\n        return int(x)\n    except BaseException:\n        return\n", 4),
    ("try:\n    g()\nexcept:  # ignore\n    pass\n", 3),
    # two statements in the `try`, or one that produces no value: not the idiom
    ("def f(x):\n    try:\n        a = g(x)\n        return h(a)\n    except Exception:\n"
     "        return None\n", 5),
    ("async def f():\n    try:\n        await g()\n    except Exception:\n        return\n", 4),
    # a handler that passes after a returning `try` falls through on purpose? say so
    ("def f(x):\n    try:\n        return g(x)\n    except Exception:\n        pass\n", 4),
    # comments that only talk to tools explain nothing
    ("try:\n    g()\nexcept Exception:  # noqa: E722\n    pass\n", 3),
    ("try:\n    g()\nexcept Exception:\n    pass  # TODO handle this\n", 3),
    ("try:\n    g()\nexcept Exception:\n    pass  # type: ignore\n", 3),
])
def test_still_flags_silent_handlers_that_are_not_the_idiom(code: str, line: int) -> None:
    assert lines_of(code) == [line]


def test_fix_never_logs_at_error_level() -> None:
    """The handler swallows on purpose; `logger.exception` would page someone (or open a
    Sentry issue) each time the expected path runs."""
    code = handler("except Exception:", "continue", head=LOGGER)
    new = fix_of(code)
    assert ".exception(" not in new and ".error(" not in new
    assert 'logger.debug("Ignoring error", exc_info=True)\n' in new
