"""``SCALPER SHORT DOGEUSDT @ 0.08112``."""

from __future__ import annotations

import re

from elcaro.signals.formats.oneline import OneLineParser


class ScalperParser(OneLineParser):
    name = "scalper"
    strategy = "scalper"
    keywords = ("scalper",)
    header = re.compile(r"^SCALPER\b[ :]*(?P<rest>.+)$", re.IGNORECASE)


PARSER = ScalperParser()
parse = PARSER.parse
