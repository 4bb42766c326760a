"""The server's logs: one JSON object per line, with the context a log search needs
(delivery id, repository, pull request, head sha, duration, findings, conclusion) as
fields, and never a secret.

Code logs as usual, with context in `extra`:
`log.info("review completed", extra={"repository": "o/r", "pr": 7, "conclusion": "failure"})`.
Each finished line is scrubbed of anything that looks like a credential (GitHub tokens,
JWTs, PEM private keys, `token …`/`Bearer …` headers) and of the configured secrets'
literal values, whichever field or traceback it got into.

Secrets learnt after the logging was configured (the credentials /setup registers, those
read from the data folder) are added with `learn_secrets` as soon as they are known: every
formatter of the process scrubs them from then on. A PEM key is scrubbed whole and line by
line, since a message or a traceback may carry one line of it.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable
from typing import IO

from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"
_CREDENTIALS = re.compile(
    r"gh[pousr]_[A-Za-z0-9_]{20,}"  # GitHub tokens (installation tokens are ghs_…)
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"  # a JWT, the App's own too
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"
    r"|(?i:\b(?:token|bearer)\s+)[A-Za-z0-9._\-]{16,}",
    re.DOTALL,
)
_MIN_SECRET = 6  # shorter "secrets" would blank out ordinary words
_MIN_KEY_LINE = 16  # a PEM body line shorter than this (a key's last) could be a word
_PEM_MARK = "PRIVATE KEY-----"

# The secrets learnt at run time, for every formatter of the process: replaced whole
# (a tuple), so a formatter reads either the old or the new one, never a half-built list.
_learned: tuple[str, ...] = ()
_learning = threading.Lock()


def secret_forms(value: str) -> list[str]:
    """What to scrub for one secret: the value and, for a PEM key (with real newlines or
    the `\\n` an environment variable carries), each line of its body."""
    if not value:
        return []
    forms = [value]
    if _PEM_MARK in value:
        for line in re.split(r"\\n|\r?\n", value):
            line = line.strip()
            if len(line) >= _MIN_KEY_LINE and not line.startswith("-----") and ":" not in line:
                forms.append(line)
    return forms


def learn_secrets(values: Iterable[str | None]) -> None:
    """Scrub these secret values (and a key's lines) from every log line from now on."""
    global _learned
    forms = [form for value in values if value for form in secret_forms(value)]
    if not forms:
        return
    with _learning:
        _learned = tuple(dict.fromkeys((*_learned, *forms)))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with credentials and the given secret values replaced by `[redacted]`.

    A value that JSON escaped on its way into the line (a PEM's newlines) is matched in
    its escaped form too."""
    for secret in secrets:
        if len(secret) >= _MIN_SECRET:
            for form in {secret, secret.encode("unicode_escape").decode("ascii")}:
                text = text.replace(form, REDACTED)
    return _CREDENTIALS.sub(REDACTED, text)


class JsonLogFormatter(JsonFormatter):
    """python-json-logger's formatter, each line scrubbed by `redact`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}", style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
        self._secrets = tuple(form for s in secrets for form in secret_forms(s))

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), (*self._secrets, *_learned))


def configure_logging(level: str, *, secrets: Iterable[str] = (),
                      stream: IO[str] | None = None) -> None:
    """JSON lines on stderr (or `stream`) for the whole process, at `level`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLogFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
