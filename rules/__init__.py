"""pystd's analysis core: rules over parsed Python, pure functions of source text.

The rule API is re-exported here; the rules themselves are found by rules/catalogue.py."""

from pystd.rules.engine import (
    Category,
    Example,
    Finding,
    Fix,
    LineRule,
    Rule,
    RuleSet,
    Severity,
    register,
)

__all__ = ["Category", "Example", "Finding", "Fix", "LineRule", "Rule", "RuleSet", "Severity", "register"]
