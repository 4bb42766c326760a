"""Test-only engine entry points that misbehave on purpose, for `Engine(file_check=...)`:
the real engine (`check_file`), except on files holding a marker line."""

from __future__ import annotations

import ctypes
import os
import threading

from bot.engine_pool import check_file
from rules.engine import RuleSet
from rules.runner import FileInput, FileResult

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
        ctypes.string_at(0)  # reads address 0: SIGSEGV, as a native parser crash does
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


def report(fifo: str, then_hang: bool = True) -> bytes:
    """The marker line that makes a worker report its pid on `fifo`, then hang (or
    finish the file)."""
    return (REPORT if then_hang else TELL) + fifo.encode() + b"\n"
