"""Logging set-up with secret scrubbing on every line.

Two defences: values the platform knows to be secret (every plaintext that passes through the
keyring is registered) are replaced wherever they appear, and anything shaped like a key — a
``secret=...`` pair, a 0x-prefixed 32-byte hex, a PEM block, a long random-looking token — is
masked too, for secrets the platform never saw (a key pasted into a chat message, say).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from pathlib import Path
from typing import Final

MASK: Final = "[REDACTED]"
_MIN_REGISTERED_LENGTH: Final = 8

_known: set[str] = set()
_known_lock = threading.Lock()
_known_pattern: re.Pattern[str] | None = None
_known_compiled = 0
"""How many registered secrets ``_known_pattern`` covers; it is rebuilt lazily, at the next scrub."""

_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL)
_NAMED = re.compile(
    r"(?i)\b((?:api[_-]?)?secret|api[_-]?key|private[_-]?key|password|passwd|token|signature|master[_-]?key)"
    r"(\"?\s*[:=]\s*\"?'?)([^\s\"',;&}]+)"
)
_HEX_PRIVATE_KEY = re.compile(r"\b(?:0x)?[0-9a-fA-F]{64}\b")
# Long mixed letter-and-digit tokens; public 0x identifiers (128-bit client order ids, 160-bit
# wallet addresses) are left readable because support needs them.
_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{32,}={0,2}")
_PUBLIC_HEX = re.compile(r"0x(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40})")


def register_secret(value: str) -> None:
    """Make ``value`` unprintable in every log line from now on.

    Registration only records the value: the pattern is rebuilt at the next scrub, so opening a
    thousand accounts costs one rebuild, not a thousand ever-longer ones.
    """
    if len(value) < _MIN_REGISTERED_LENGTH or value in _known:
        return
    with _known_lock:
        _known.add(value)


def _registered_pattern() -> re.Pattern[str] | None:
    global _known_pattern, _known_compiled  # noqa: PLW0603 - one process-wide registry
    if _known_compiled != len(_known):
        with _known_lock:
            ordered = sorted(_known, key=len, reverse=True)
            _known_pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
            _known_compiled = len(ordered)
    return _known_pattern


def _mask_token(match: re.Match[str]) -> str:
    token = match.group(0)
    return token if _PUBLIC_HEX.fullmatch(token) else MASK


def scrub(text: str) -> str:
    """``text`` with every secret masked."""
    pattern = _registered_pattern()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _PEM.sub(MASK, text)
    text = _NAMED.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _HEX_PRIVATE_KEY.sub(MASK, text)
    return _TOKEN.sub(_mask_token, text)


class ScrubbingFormatter(logging.Formatter):
    """Scrubs the whole formatted line, tracebacks and exception messages included."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(ScrubbingFormatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, ensure_ascii=False))


def setup_logging(level: str = "INFO", fmt: str = "text", file: Path | None = None) -> None:
    """Route every log record of the process through one scrubbing handler (plus a file, if given)."""
    formatter: logging.Formatter = (
        JsonFormatter() if fmt == "json" else ScrubbingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every connection ("Context impl SQLiteImpl"); our own lines say what matters.
    logging.getLogger("alembic").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
