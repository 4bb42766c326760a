"""The App's credentials as /setup registered them, kept in the data folder.

`github-app.json` holds the App's id, slug, page, owner, webhook secret and private key.
It is written once, atomically, readable by this user only (mode 0600, in a folder of
mode 0700), and read at start-up by `Settings.with_stored_credentials`; environment
variables still win over it. Whatever secrets it holds reach the log scrubber
(bot/logs.py) as soon as the file is read, before anything could log them.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from pystd.bot import messages
from pystd.bot.logs import learn_secrets

FILE_NAME = "github-app.json"
FILE_MODE = 0o600
DIR_MODE = 0o700


class StoredCredentialsError(Exception):
    """The stored credentials cannot be read; the message names the file and why."""


@dataclass(frozen=True)
class StoredApp:
    """What GitHub's manifest conversion answered that the server needs (never the OAuth
    client secret: pystd does not sign users in)."""

    app_id: int
    slug: str
    name: str
    html_url: str
    owner: str
    webhook_secret: str
    pem: str

    @property
    def install_url(self) -> str:
        return f"{self.html_url.rstrip('/')}/installations/new"


def credentials_file(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def load_app(data_dir: Path) -> StoredApp | None:
    """The stored App, or None when /setup has not registered one."""
    path = credentials_file(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoredCredentialsError(
            messages.SETUP_STORED_UNREADABLE.format(path=path, reason=exc.strerror)) from None
    except UnicodeDecodeError:  # not what save_app writes: a damaged or foreign file
        raise StoredCredentialsError(
            messages.SETUP_STORED_UNREADABLE.format(path=path, reason="not UTF-8")) from None
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            learn_secrets(v for k in ("webhook_secret", "pem", "client_secret")
                          if isinstance(v := data.get(k), str))
        return StoredApp(app_id=int(data["app_id"]), slug=str(data["slug"]),
                         name=str(data["name"]), html_url=str(data["html_url"]),
                         owner=str(data["owner"]), webhook_secret=str(data["webhook_secret"]),
                         pem=str(data["pem"]))
    except (ValueError, KeyError, TypeError) as exc:
        reason = type(exc).__name__ if not isinstance(exc, KeyError) else f"no {exc}"
        raise StoredCredentialsError(
            messages.SETUP_STORED_UNREADABLE.format(path=path, reason=reason)) from None


def save_app(data_dir: Path, app: StoredApp) -> Path:
    """Write `app` to the data folder: a temporary file created with mode 0600 (never
    readable by others, not even for a moment), synced, then renamed over the old one."""
    data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path = credentials_file(data_dir)
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(app), out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    return path
