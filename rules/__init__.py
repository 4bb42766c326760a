"""pystd's analysis core: rules over parsed Python, pure functions of source text."""

from rules.engine import (
    Category,
    Example,
    Finding,
    Fix,
    LineRule,
    Rule,
    RuleSet,
    Severity,
    all_rules,
    register,
    select_rules,
)

__all__ = ["Category", "Example", "Finding", "Fix", "LineRule", "Rule", "RuleSet", "Severity", "all_rules", "register", "select_rules"]
