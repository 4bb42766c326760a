"""The package list for pyproject.toml's package-dir mapping: every package under bot/ and
rules/, installed as pystd.bot.* and pystd.rules.* (a new subpackage needs no edit here)."""

from setuptools import find_packages, setup

PACKAGES = find_packages(include=["bot", "bot.*", "rules", "rules.*"])
setup(packages=[f"pystd.{name}" for name in PACKAGES])
