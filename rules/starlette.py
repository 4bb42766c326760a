"""PYS5xx: Starlette rules."""

from __future__ import annotations
