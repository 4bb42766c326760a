"""PYS6xx: Django Ninja rules."""

from __future__ import annotations
