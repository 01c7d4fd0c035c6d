"""The admin-pattern checker: what it accepts and what it refuses, with the reason.

How slow the refused kind really is, is measured in benchmarks/signal_parsing.py, not asserted here.
"""

import re

import pytest

from elcaro.signals.regex_safety import UnsafePatternError, check_pattern

ACCEPTED = [
    r"Entry[\s:]*(?P<price>[\d.,]+)",
    r".*x",
    r"(?i)entry\s*+:?\s*(?P<price>\d+(?:\.\d+)?)",
    r"\b(?P<side>LONG|SHORT)\b",
    r"#?(?P<symbol>[A-Z0-9]+)/?USDT",
    r"(?:ab)+c",
    r"x{2,}y{3}",
    r"(?:\s*price)?\s*:",
    r"(?=.*\d)\w+",
    r"\d{1,3}(?:,\d{3})*",
    r"[^\d]*(?P<price>\d+)",
    r"(?#a comment)TP\d: (?P<target>\S+)",
    r"(?>\s*)\s*",
    r"\x41\u0042\N{DIGIT ONE}[]a]\]\{",
    r"(?i:long|short) @ (?P<price>[\d.]+)",
]
REFUSED = {
    r"(a+)+b": "exponential",
    r"(a|a)*b": "'|' inside",
    r"(\d+\s?)+x": "exponential",
    r"\d+\d+x": "split",
    r"\s*:?\s*": "split",
    r".*.*=": "split",
    "a?" * 12 + "a" * 12: "split",
    "(?:a?)" * 11 + "a": "split",
    r"(x)\1": "backreference",
    r"(?P<n>x)(?P=n)": "backreferences",
    r"(x)?(?(1)a|b)": "conditionals",
    r"(?x) a b": "verbose",
    "a" * 201: "longer than",
}


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_safe_patterns_are_accepted(pattern: str) -> None:
    re.compile(pattern)
    check_pattern(pattern)


@pytest.mark.parametrize(("pattern", "reason"), REFUSED.items())
def test_unsafe_patterns_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    re.compile(pattern)
    with pytest.raises(UnsafePatternError, match=re.escape(reason)):
        check_pattern(pattern)
