"""The formats that announce themselves (a header, a keyword layout), in the order the registry tries them.

The catch-all formats — Cornix free text, then generic — give way to every one of these. Each
of these is the others' rival: a post with two of their shapes (an ``OI SIGNAL`` header and an
``Elcaro`` header) is ambiguous and claimed by none. So their order only decides speed: the
one-line and cancel shapes are the cheapest to rule out, the structured Cornix layout the dearest.

The rivals are bound here, and ``elcaro.signals.formats`` imports this module, so any import of a
format module sees its parser with its rivals.
"""

from __future__ import annotations

from elcaro.signals.base import FormatParser
from elcaro.signals.formats import cancel, cornix_structured, elcaro, fibonacci, oi, rsi_bb, scalper, scryptomera

SPECIFIC: tuple[FormatParser, ...] = (
    cancel.PARSER,
    scryptomera.PARSER,
    scalper.PARSER,
    oi.PARSER,
    fibonacci.PARSER,
    elcaro.PARSER,
    rsi_bb.PARSER,
    cornix_structured.PARSER,
)

for _parser in SPECIFIC:
    _parser.rivals = tuple(other for other in SPECIFIC if other is not _parser)
