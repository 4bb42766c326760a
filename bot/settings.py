"""The App's settings, from the environment (prefix `PYSTD_`) or a `.env` file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pystd.bot import messages


class SettingsError(Exception):
    """The server cannot start with these settings; the message names what is wrong."""


class Settings(BaseSettings):
    """Everything `pystd serve` reads. Secrets are `SecretStr`: never printed or logged."""

    model_config = SettingsConfigDict(env_prefix="PYSTD_", env_file=".env", extra="ignore")

    app_id: int | None = None
    private_key: SecretStr | None = None  # PEM text (newlines may be written as \n)
    private_key_path: Path | None = None
    webhook_secret: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    # GitHub's web address, where the App is registered and installed (/setup). Unset: the
    # one of github_api_url (https://github.com, or https://HOST for GHES's /api/v3).
    github_url: str | None = None
    # Where this server is reached from the internet (https://pystd.example.com): the
    # webhook and setup addresses of the App registered from /setup, and the rule links in
    # comments (/rules/PYSxxx). Without it, /setup cannot register the App.
    public_url: str | None = None
    # The data folder: the App's credentials registered from /setup (github-app.json, mode
    # 0600) and the default job queue's SQLite file (queue.db).
    data_dir: Path = Path(".pystd")
    host: str = "0.0.0.0"  # noqa: S104 - a server in a container listens on every interface
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Tuning; the defaults suit one small container.
    workers: Annotated[int, Field(ge=0)] = 0  # engine processes (0: one per CPU)
    concurrent_jobs: Annotated[int, Field(ge=1)] = 4
    request_timeout: Annotated[float, Field(gt=0)] = 15.0  # seconds per GitHub call
    job_timeout: Annotated[float, Field(gt=0)] = 300.0  # seconds per pull request
    blob_concurrency: Annotated[int, Field(ge=1)] = 16
    blob_cache_bytes: Annotated[int, Field(ge=0)] = 64 * 1024 * 1024
    writes_per_minute: Annotated[int, Field(ge=1)] = 80  # GitHub's secondary rate limit
    # Unauthenticated senders: a connection that sends no complete request (idle, or
    # headers trickled in) is closed after idle_timeout; a body must arrive within
    # body_timeout. GitHub itself gives up on a delivery after 10 s.
    idle_timeout: Annotated[float, Field(gt=0)] = 10.0
    body_timeout: Annotated[float, Field(gt=0)] = 10.0
    retry_base_delay: Annotated[float, Field(gt=0)] = 0.5  # seconds; doubles per retry
    retry_max_delay: Annotated[float, Field(gt=0)] = 8.0  # seconds; backoff cap per call
    # How long a check run's completion keeps being retried in the background (GitHub down,
    # a long Retry-After) before the sweep takes over.
    completion_retry_seconds: Annotated[float, Field(gt=0)] = 900.0
    sweep_interval: Annotated[float, Field(gt=0)] = 60.0  # seconds between sweeps
    # A run of ours still open job_timeout + sweep_margin seconds after it was opened is
    # completed `neutral` by the sweep.
    sweep_margin: Annotated[float, Field(ge=0)] = 120.0
    # One file's analysis: past this many seconds its worker is stopped and the file is
    # reported as not checked (the slowest ordinary 1 MB file takes a few seconds).
    file_timeout: Annotated[float, Field(gt=0)] = 30.0
    # Address space of one engine worker, in MB (0: no cap). An idle worker maps ~50 MB;
    # the largest file pystd reads (1 MB) needs a few hundred.
    worker_memory_mb: Annotated[int, Field(ge=0)] = 1024

    # The durable job queue (bot/store): a SQLite file in the data folder by default;
    # postgresql://... to run several replicas and workers; memory:// in tests.
    queue_url: str | None = None
    queue_lease_seconds: Annotated[float, Field(gt=0)] = 30.0  # a dead worker's job: retried after
    queue_max_attempts: Annotated[int, Field(ge=1)] = 5
    queue_retry_delay: Annotated[float, Field(gt=0)] = 30.0  # seconds; doubles per attempt
    queue_timeout: Annotated[float, Field(gt=0)] = 5.0  # seconds per call to the store
    queue_poll_interval: Annotated[float, Field(gt=0)] = 1.0  # seconds between looks for jobs

    @field_validator("public_url", "github_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http://)")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    def missing(self) -> list[str]:
        """The required settings that are not set, by environment variable name."""
        absent = []
        if self.app_id is None:
            absent.append("PYSTD_APP_ID")
        if self.private_key is None and self.private_key_path is None:
            absent.append("PYSTD_PRIVATE_KEY or PYSTD_PRIVATE_KEY_PATH")
        if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
            absent.append("PYSTD_WEBHOOK_SECRET")
        return absent

    def credentials_given(self) -> list[str]:
        """The App credentials set (in the environment or .env), by variable name."""
        every = ["PYSTD_APP_ID", "PYSTD_PRIVATE_KEY or PYSTD_PRIVATE_KEY_PATH",
                 "PYSTD_WEBHOOK_SECRET"]
        absent = self.missing()
        return [name for name in every if name not in absent]

    @property
    def configured(self) -> bool:
        """Are the App's credentials all there (else the server waits for /setup)?"""
        return not self.missing()

    def check(self) -> None:
        """Raise SettingsError naming what is missing or unreadable. Without credentials
        the server may still start when it has a public URL: /setup registers the App."""
        absent = self.missing()
        if absent and self.public_url is None:
            raise SettingsError(messages.SERVE_MISSING_SETTINGS.format(names=", ".join(absent)))
        if not absent:
            self._check_key(self.private_key_pem())

    def with_stored_credentials(self) -> Settings:
        """These settings, with the App's credentials from `data_dir` when /setup stored
        them and the environment sets none. The three go together: an App id of one App
        with the key or webhook secret of another would fail every GitHub call or every
        delivery, so credentials split between the two are refused with the names to unset."""
        from pystd.bot.credentials import StoredCredentialsError, load_app

        try:
            stored = load_app(self.data_dir)
        except StoredCredentialsError as exc:
            raise SettingsError(str(exc)) from None
        given = self.credentials_given()
        if stored is None or len(given) == 3:
            return self
        if given:
            raise SettingsError(messages.SETTINGS_SPLIT_CREDENTIALS.format(
                names=", ".join(given), path=self.data_dir))
        return self.model_copy(update={"app_id": stored.app_id,
                                       "private_key": SecretStr(stored.pem),
                                       "webhook_secret": SecretStr(stored.webhook_secret)})

    def github_web_url(self) -> str:
        """github.com or the GHES host: where Apps are registered and installed."""
        if self.github_url:
            return self.github_url
        api = self.github_api_url.rstrip("/")
        if api == "https://api.github.com":
            return "https://github.com"
        return api.removesuffix("/api/v3")

    def _check_key(self, pem: str) -> None:
        """The key must load as an RSA private key (GitHub signs App JWTs with RS256): a
        corrupt, encrypted or public key is refused at start-up, not at the first review."""
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except TypeError:  # cryptography's word for "needs a password"
            reason = messages.SERVE_KEY_ENCRYPTED
        except (ValueError, UnsupportedAlgorithm):
            reason = messages.SERVE_KEY_CORRUPT
        else:
            if isinstance(key, rsa.RSAPrivateKey):
                return
            kind = type(key).__name__.removeprefix("_").removesuffix("PrivateKey")
            reason = messages.SERVE_KEY_NOT_RSA.format(kind=kind)
        raise SettingsError(messages.SERVE_BAD_KEY.format(name=self._key_name, reason=reason))

    @property
    def _key_name(self) -> str:
        return "PYSTD_PRIVATE_KEY" if self.private_key is not None else "PYSTD_PRIVATE_KEY_PATH"

    def private_key_pem(self) -> str:
        """The App's private key as PEM text, from the setting or the file."""
        if self.private_key is not None:
            pem = self.private_key.get_secret_value().replace("\\n", "\n")
        elif self.private_key_path is not None:
            try:
                pem = self.private_key_path.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                raise SettingsError(
                    messages.SERVE_BAD_KEY_FILE.format(path=self.private_key_path, reason=exc)
                ) from None
        else:
            raise SettingsError(messages.SERVE_MISSING_SETTINGS.format(names="PYSTD_PRIVATE_KEY"))
        if "PRIVATE KEY-----" not in pem:
            raise SettingsError(messages.SERVE_KEY_NOT_PEM.format(name=self._key_name))
        return pem

    def secret_values(self) -> list[str]:
        """The literal secrets, for the log formatter to scrub wherever they turn up."""
        values = [v.get_secret_value() for v in (self.webhook_secret, self.private_key)
                  if v is not None]
        if self.private_key is None and self.private_key_path is not None:
            with contextlib.suppress(SettingsError):  # check() reports an unreadable key
                values.append(self.private_key_pem())
        return values

    @property
    def queue_store_url(self) -> str:
        """PYSTD_QUEUE_URL, else the SQLite file in the data folder."""
        return self.queue_url or f"sqlite:///{self.data_dir / 'queue.db'}"

    @property
    def engine_workers(self) -> int:
        return self.workers or os.cpu_count() or 1
