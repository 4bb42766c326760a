"""pystd's analysis core: rules over parsed Python, pure functions of source text."""

from rules.engine import (
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

__all__ = ["Example", "Finding", "Fix", "LineRule", "Rule", "RuleSet", "Severity", "all_rules", "register", "select_rules"]
