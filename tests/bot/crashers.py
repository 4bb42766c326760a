"""Test-only engine entry points that misbehave on purpose, for `Engine(file_check=...)`:
the real engine (`check_file`), except on files holding a marker line."""

from __future__ import annotations

import ctypes
import faulthandler
import os
import signal
import threading

from pystd.bot.engine_pool import check_file
from pystd.rules.change import Change, check_change
from pystd.rules.engine import Finding, RuleSet
from pystd.rules.runner import FileInput, FileResult

SEGFAULT = b"# crash: segfault"
HANG = b"# crash: hang"
ALLOCATE = b"# crash: allocate"
# `# crash: report <fifo>`: write this worker's pid to the named pipe, then hang;
# `# crash: tell <fifo>`: write it, then check the file as usual.
REPORT = b"# crash: report "
TELL = b"# crash: tell "


def check_or_crash(item: FileInput, rules: RuleSet) -> FileResult:
    data = item.data
    if SEGFAULT in data:
        _segfault()
    if ALLOCATE in data:
        bytearray(512 * 1024**2)  # 512 MB: a MemoryError under a smaller cap
    for marker in (REPORT, TELL):
        if marker in data:
            fifo = data.split(marker, 1)[1].split(b"\n", 1)[0].decode()
            with open(fifo, "w") as out:
                out.write(str(os.getpid()))
            if marker == REPORT:
                threading.Event().wait()
    if HANG in data:
        threading.Event().wait()
    return check_file(item, rules)


def change_or_crash(change: Change, rules: RuleSet) -> tuple[Finding, ...]:
    """The change rules, except that a changed file holding SEGFAULT crashes them."""
    if any(f.text is not None and SEGFAULT.decode() in f.text for f in change.files):
        _segfault()
    return check_change(change, rules)


def signal_handling(item: FileInput, rules: RuleSet) -> FileResult:
    """Reports, as the skip reason, how the worker handles signals: SIGINT, SIGTERM and
    the wakeup fd (which, inherited, would carry a worker's signals to the server)."""
    wakeup = signal.set_wakeup_fd(-1)
    return FileResult(item.path, skipped=(
        f"{signal.getsignal(signal.SIGINT)!r} {signal.getsignal(signal.SIGTERM)!r} {wakeup}"))


def _segfault() -> None:
    """Read address 0: SIGSEGV, as a native crash in the parser does (without pytest's
    fault handler, inherited by forked workers, printing every thread's stack)."""
    faulthandler.disable()
    ctypes.string_at(0)


def report(fifo: str, then_hang: bool = True) -> bytes:
    """The marker line that makes a worker report its pid on `fifo`, then hang (or
    finish the file)."""
    return (REPORT if then_hang else TELL) + fifo.encode() + b"\n"


def warm_up_and_die() -> int:
    """An engine process that dies while it starts (a broken install, the OOM killer)."""
    os._exit(3)


def warm_up_and_raise() -> int:
    """A rule that fails on the warm-up file, or a MemoryError under a tight memory cap."""
    raise MemoryError
