"""Refuse admin-written regular expressions that could take super-linear time, without a timeout.

Python's ``re`` backtracks, and has no time limit. A pattern is slow when the engine can split the
same text between parts of it in many ways and then fails: ``(a+)+b`` exponentially, ``\\d+\\d+x``
quadratically per start position. So an admin's pattern is read into a small tree and must pass:

1. At most ``MAX_PATTERN_CHARS`` characters; no backreferences, conditionals or verbose mode
   (backreferences make matching NP-hard; verbose mode would change how this reader sees the
   pattern).
2. Star height one: a group repeated more than once may hold neither a repeat nor ``|``.
3. A bounded amount of ambiguity. Each variable item (``*``, ``+``, ``?``, ``{m,n}``, an optional
   group, an alternation) has a weight: how many ways it can end — ``MAX_LINE_CHARS`` for an
   unbounded repeat, ``n-m+1`` for ``{m,n}``, 2 for ``?``, the branch count for ``|``. When items
   follow one another with only optional parts between them and can match a common character,
   their weights multiply (the engine may try every split between them). The largest such product
   must stay within ``AMBIGUITY_BUDGET``: one unbounded repeat with a little ambiguity next to it
   passes; two unbounded repeats that can trade characters (``\\s*:?\\s*``, ``.*\\d+``) do not, and
   the message says how to merge them (``[\\s:]*``) or make one possessive (``\\s*+``), which 3.11
   supports and which never gives characters back.

Patterns are then matched one line at a time on lines of at most ``MAX_LINE_CHARS``, so the worst
case per line is about ``AMBIGUITY_BUDGET × MAX_LINE_CHARS`` steps — well under a millisecond.
Whether two items can match a common character is decided by trying a probe alphabet (ASCII, a
few non-ASCII letters, symbols and emoji, and every character written in the pattern) against
both, case-insensitively; that errs towards refusing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from elcaro.models.errors import ValidationError

MAX_PATTERN_CHARS = 200
MAX_LINE_CHARS = 256
AMBIGUITY_BUDGET = 4 * MAX_LINE_CHARS
_PROBES = "".join(chr(c) for c in range(32, 127)) + "\t\xa0éЖж中€×→✅🚀🟢⭐"
_QUANTIFIER = re.compile(r"\*|\+|\?|\{(\d*)(,?)(\d*)\}")
_FLAGS = re.compile(r"\(\?([aiLmsux]*)(?:-([imsx]+))?([:)])")


class UnsafePatternError(ValidationError):
    """The pattern could be slow, or uses syntax this reader does not accept. ``reason`` says which."""


@dataclass(eq=False)
class _Node:
    """One item of a sequence: a character atom, a group, or a zero-width assertion."""

    kind: str  # "chars" | "group" | "empty"
    source: str = ""
    branches: list[list[_Node]] = field(default_factory=list)
    low: int = 1
    high: int | None = 1
    possessive: bool = False
    atomic: bool = False
    start: int = 0
    end: int = 0

    @property
    def variable(self) -> bool:
        return self.low != self.high

    @property
    def repeated(self) -> bool:
        return self.high is None or self.high > 1


def check_pattern(pattern: str) -> None:
    """Raise ``UnsafePatternError`` unless ``pattern`` (which compiles) is safe by the rules above."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePatternError(f"longer than {MAX_PATTERN_CHARS} characters")
    reader = _Reader(pattern)
    branches = reader.alternation()
    if reader.at < len(pattern):
        raise UnsafePatternError(f"unbalanced ')' at position {reader.at}")
    top = _Node("group", branches=branches, end=len(pattern))
    _check_star_height(top, pattern)
    _Ambiguity(pattern).walk_group(top, {})


class _Reader:
    """Recursive descent over Python's regex syntax, keeping what the checks need."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.at = 0

    def alternation(self) -> list[list[_Node]]:
        branches: list[list[_Node]] = [[]]
        while self.at < len(self.pattern) and self.pattern[self.at] != ")":
            if self.pattern[self.at] == "|":
                branches.append([])
                self.at += 1
                continue
            node = self.atom()
            if node is not None:
                self.quantifier(node)
                branches[-1].append(node)
        return branches

    def atom(self) -> _Node | None:
        start, char = self.at, self.pattern[self.at]
        if char == "(":
            return self.group()
        if char == "[":
            self.at = self.class_end(start)
        elif char == "\\":
            return self.escape()
        else:
            self.at += 1
            if char in "^$":
                return _Node("empty", start=start, end=self.at)
        return _Node("chars", self.pattern[start : self.at], start=start, end=self.at)

    def class_end(self, start: int) -> int:
        at = start + 1
        if self.pattern.startswith("^", at):
            at += 1
        if self.pattern.startswith("]", at):
            at += 1
        while at < len(self.pattern) and self.pattern[at] != "]":
            at += 2 if self.pattern[at] == "\\" else 1
        return at + 1

    def escape(self) -> _Node:
        start = self.at
        kind = self.pattern[start + 1 : start + 2]
        self.at += 2
        if kind.isdigit():
            octal = re.match(r"0[0-7]{0,2}|[0-7]{3}", self.pattern[start + 1 :])
            if octal is None:
                raise UnsafePatternError(f"backreference {self.pattern[start : start + 3]!r} is not allowed")
            self.at = start + 1 + octal.end()
        elif kind in "bBAZ":
            return _Node("empty", start=start, end=self.at)
        elif kind in "xuU":
            self.at += {"x": 2, "u": 4, "U": 8}[kind]
        elif kind == "N":
            self.at = self.pattern.index("}", self.at) + 1
        return _Node("chars", self.pattern[start : self.at], start=start, end=self.at)

    def group(self) -> _Node | None:
        start, rest = self.at, self.pattern[self.at :]
        flags = _FLAGS.match(rest)
        if rest.startswith("(?#"):
            self.at = self.pattern.index(")", start) + 1
            return None
        if rest.startswith(("(?P=", "(?(")):
            raise UnsafePatternError(f"{rest[:4]!r}: backreferences and conditionals are not allowed")
        if flags:
            if "x" in flags[1]:
                raise UnsafePatternError("verbose mode (?x) is not supported")
            self.at += flags.end()
            if flags[3] == ")":
                return None
            prefix = ""
        else:
            prefix = next((p for p in ("(?P<", "(?<=", "(?<!", "(?=", "(?!", "(?>", "(?:") if rest.startswith(p)), "(")
            self.at += len(prefix)
            if prefix == "(?P<":
                self.at = self.pattern.index(">", self.at) + 1
        branches = self.alternation()
        self.at += 1  # the closing parenthesis; the pattern compiled, so it is there
        lookaround = prefix in {"(?<=", "(?<!", "(?=", "(?!"}
        node = _Node("empty" if lookaround else "group", branches=branches, start=start, end=self.at)
        node.atomic = prefix == "(?>"
        return node

    def quantifier(self, node: _Node) -> None:
        found = _QUANTIFIER.match(self.pattern, self.at)
        if found is None or (found[0].startswith("{") and not (found[1] or found[3])):
            return
        text = found[0]
        if text == "*":
            node.low, node.high = 0, None
        elif text == "+":
            node.low, node.high = 1, None
        elif text == "?":
            node.low, node.high = 0, 1
        else:
            node.low = int(found[1] or 0)
            node.high = None if found[2] and not found[3] else int(found[3] or found[1])
        self.at = found.end()
        if self.pattern.startswith("+", self.at):
            node.possessive = True
            self.at += 1
        elif self.pattern.startswith("?", self.at):
            self.at += 1
        node.end = self.at


def _check_star_height(node: _Node, pattern: str) -> None:
    for branch in node.branches:
        for child in branch:
            if child.kind == "group" and child.repeated and not (child.possessive or child.atomic):
                shown = pattern[child.start : child.end]
                if len(child.branches) > 1:
                    raise UnsafePatternError(
                        f"{shown!r} repeats a group with '|' inside, which can take exponential time: "
                        "use a character class, or make the repeat possessive ('*+', '++')"
                    )
                inner = next((n for n in _descendants(child) if n.variable), None)
                if inner is not None:
                    raise UnsafePatternError(
                        f"{shown!r} repeats a group that holds the repeat "
                        f"{pattern[inner.start : inner.end]!r}, which can take exponential time: use one repeat"
                    )
            _check_star_height(child, pattern)


def _descendants(node: _Node) -> list[_Node]:
    found = []
    for branch in node.branches:
        for child in branch:
            found.append(child)
            found.extend(_descendants(child))
    return found


_Pending = dict[int, tuple[_Node, int, frozenset[int]]]
"""Variable items a next item may trade characters with: id → (item, chain weight, probe set)."""


class _Ambiguity:
    """Follows the pattern in order, keeping the items still open, and multiplies chained weights."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.probes = _PROBES + "".join(sorted({c for c in pattern if ord(c) > 126}))
        self.cache: dict[str, frozenset[int]] = {}

    def chars(self, node: _Node) -> frozenset[int]:
        if node.kind == "chars":
            if node.source not in self.cache:
                atom = re.compile(node.source, re.IGNORECASE | re.DOTALL)
                self.cache[node.source] = frozenset(i for i, c in enumerate(self.probes) if atom.fullmatch(c))
            return self.cache[node.source]
        return frozenset().union(*(self.chars(n) for n in _descendants(node) if n.kind == "chars"))

    def walk(self, branch: list[_Node], pending: _Pending) -> _Pending:
        for node in branch:
            pending = self.visit(node, pending)
        return pending

    def walk_group(self, node: _Node, pending: _Pending) -> _Pending:
        merged: _Pending = {}
        for branch in node.branches:
            for key, value in self.walk(branch, pending).items():
                if key not in merged or merged[key][1] < value[1]:
                    merged[key] = value
        return merged

    def visit(self, node: _Node, pending: _Pending) -> _Pending:
        if node.kind == "empty":
            self.walk_group(node, {})  # a lookaround is its own pattern; it consumes nothing here
            return pending
        if node.kind == "group" and not node.repeated:
            inner = self.walk_group(node, pending)
            weight = len(node.branches) if node.high == 1 and node.low == 1 else 2
            if node.variable or len(node.branches) > 1:
                inner = {**inner, **self.item(node, weight, pending)}
            if node.low == 0:
                inner = {**pending, **inner}
            return {} if node.atomic else inner
        if not node.variable:
            return pending if node.low == 0 else {}
        weight = MAX_LINE_CHARS if node.high is None else min(MAX_LINE_CHARS, node.high - node.low + 1)
        opened = self.item(node, weight, pending)
        kept = pending if node.low == 0 else {}
        return {**kept, **({} if node.possessive else opened)}

    def item(self, node: _Node, weight: int, pending: _Pending) -> _Pending:
        """Open ``node`` as an item, chaining it to every pending item it shares a character with."""
        probes = self.chars(node)
        chained = [(other, cost) for other, cost, theirs in pending.values() if theirs & probes]
        worst = max(chained, key=lambda pair: pair[1], default=None)
        cost = weight * (worst[1] if worst else 1)
        if cost > AMBIGUITY_BUDGET and worst is not None:
            mine, theirs_text = self.pattern[node.start : node.end], self.pattern[worst[0].start : worst[0].end]
            raise UnsafePatternError(
                f"{theirs_text!r} and {mine!r} can match the same characters one after the other, so the "
                "engine may try every split between them: merge them into one repeat (e.g. '[\\s:]*' "
                "for '\\s*:?\\s*') or make the first possessive ('*+', '++')"
            )
        return {id(node): (node, cost, probes)}
