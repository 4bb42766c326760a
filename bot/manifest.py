"""The GitHub App manifest /setup posts to GitHub: `app.yml`, with this server's public URL
as the webhook, redirect, callback and setup addresses.

`app.yml` lives at the repository's root (the one file to read or edit); the Docker image
copies it into the `bot` package, where it is package data.
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

REPOSITORY_MANIFEST = Path(__file__).resolve().parents[1] / "app.yml"

WEBHOOK_PATH = "/webhook"
CALLBACK_PATH = "/setup/callback"
SETUP_PATH = "/setup"


@functools.cache
def app_manifest() -> dict[str, Any]:
    """app.yml as a dict: the packaged copy, else the checkout's."""
    packaged = resources.files("pystd.bot").joinpath("app.yml")
    text = packaged.read_text(encoding="utf-8") if packaged.is_file() \
        else REPOSITORY_MANIFEST.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("app.yml is not a mapping")
    return data


def manifest_for(public_url: str) -> dict[str, Any]:
    """The manifest of an App served at `public_url` (GitHub's "Registering a GitHub App
    from a manifest": `redirect_url` receives the code, `setup_url` the installer after
    an installation, `hook_attributes.url` the webhooks)."""
    base = public_url.rstrip("/")
    manifest = copy.deepcopy(app_manifest())
    manifest["hook_attributes"] = {**manifest.get("hook_attributes", {}),
                                   "url": base + WEBHOOK_PATH}
    manifest["redirect_url"] = base + CALLBACK_PATH
    manifest["callback_urls"] = [base + CALLBACK_PATH]
    manifest["setup_url"] = base + SETUP_PATH
    return manifest
