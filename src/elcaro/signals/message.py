"""A message made uniform once, so every parser reads the same text and none repeats the work.

Posts copied between apps drift in ways that do not change their meaning: an emoji with or
without its variation selector, an en dash for a hyphen, a no-break space, ``->`` for ``→``,
markdown stars left over from a bot. Folding those here keeps each parser's grammar small.
Nothing that could change a reading is touched: digits, separators and letters stay as posted.
"""

from __future__ import annotations

import re

from elcaro.signals.numbers import NumberStyle

MAX_MESSAGE_CHARS = 8192
"""Telegram caps a post at 4096 characters; anything much longer is not a signal, and bounding
the input bounds the time every parser can spend on it."""

_TRANSLATION = str.maketrans(
    {
        **dict.fromkeys(map(ord, "\ufe0f\ufe0e\u200b\u200c\u200d\u2060\ufeff\u00ad*`"), None),
        **dict.fromkeys(map(ord, "\u00a0\u2002\u2003\u2007\u2009\u202f\u3000\t\v\f"), " "),
        **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"),
        **dict.fromkeys(map(ord, "➡⟶⇒➔➜⮕⟹"), "→"),
        ord("\u20e3"): ")",  # keycap digits (1️⃣) number list items like "1)"
        ord("\r"): "\n",
        ord("："): ":",
        ord("＃"): "#",
        ord("％"): "%",
    }
)
_ASCII_ARROW = re.compile(r"-+>|=>")
_SPACES = re.compile(r" {2,}")
_DECORATION = re.compile(r"^[^\w#(]+")


def normalise(text: str) -> str:
    text = _ASCII_ARROW.sub("→", text.translate(_TRANSLATION))
    return _SPACES.sub(" ", text)


def undecorated(line: str) -> str:
    """The line without its leading emoji, bullets and quote marks."""
    return _DECORATION.sub("", line)


class Message:
    """One post, normalised: its lines as posted and without their leading decoration."""

    __slots__ = ("_style", "bare", "folded", "lines", "raw", "text")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.text = normalise(raw)
        self.lines = tuple(stripped for line in self.text.split("\n") if (stripped := line.strip()))
        self.bare = tuple(undecorated(line) for line in self.lines)
        self.folded = self.text.casefold()
        self._style: NumberStyle | None = None

    @property
    def number_style(self) -> NumberStyle:
        """How this post writes decimals, read from every number in it (found on first use)."""
        if self._style is None:
            self._style = NumberStyle.of(self.text)
        return self._style
