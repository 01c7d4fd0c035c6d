"""``SCRIPTOMER LONG ARBUSDT @ 1.0825`` (the channel spells its header several ways)."""

from __future__ import annotations

import re

from elcaro.signals.formats.oneline import OneLineParser


class ScryptomeraParser(OneLineParser):
    name = "scryptomera"
    strategy = "scryptomera"
    keywords = ("scriptomer", "scryptomer")
    header = re.compile(r"^SCR[IY]PTOMERA?\b[ :]*(?P<rest>.+)$", re.IGNORECASE)


PARSER = ScryptomeraParser()
parse = PARSER.parse
