"""A throw-away PostgreSQL cluster for the store's contract tests: `initdb` into a
temporary folder, `pg_ctl start` on a unix socket there (no TCP port), one fresh database
per test, everything removed at the end of the session.

The server binaries are looked up on PATH and in Debian's /usr/lib/postgresql/*/bin; when
there are none, the PostgreSQL tests skip and say how to get them. PostgreSQL refuses to
run as root, so under root (CI) the cluster runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SKIP_REASON = ("PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL "
               "(Debian: apt-get install postgresql) to run the PostgreSQL store tests")


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, if this machine has them."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


@dataclass
class Cluster:
    socket_dir: Path
    port: int
    names: Iterator[int]

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def fresh_database(self) -> str:
        """A new empty database's URL."""
        import psycopg

        name = f"pystd_test_{next(self.names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


class NoPostgres(Exception):
    """This machine cannot run a throw-away cluster; the message says why."""


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A running cluster in a temporary folder, stopped and removed at the end."""
    binaries = server_binaries()
    if binaries is None:
        raise NoPostgres(SKIP_REASON)
    root = Path(tempfile.mkdtemp(prefix="pystd-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise NoPostgres("PostgreSQL refuses to run as root and there is no `postgres` "
                             "user to run the throw-away cluster as") from None
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = 54329  # names the socket file only: no TCP port is opened
    run: dict[str, Any] = {"check": True, "capture_output": True, "timeout": 120}
    try:
        subprocess.run(_as_postgres([str(binaries / "initdb"), "-D", str(data), "-U",
                                     "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]),
                       **run)
        options = f"-k {sockets} -p {port} -c listen_addresses='' -c fsync=off"
        subprocess.run(_as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
                                     "-l", str(root / "log"), "-w", "start"]), **run)
        yield Cluster(sockets, port, itertools.count(1))
    finally:
        subprocess.run(_as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m",
                                     "immediate", "-w", "stop"]), check=False,
                       capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    try:
        with throwaway_cluster() as cluster:
            yield cluster
    except NoPostgres as exc:
        pytest.skip(str(exc))
