"""Pointing a ccxt exchange at another host (a local simulator, a test fake) without losing its paths."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from elcaro.models.errors import ConfigError

_WEBSOCKET_SCHEME = {"http": "ws", "https": "wss"}


def rebase_urls(urls: Any, base_url: str) -> Any:
    """Every URL in ccxt's ``urls['api']`` tree moved to ``base_url``'s scheme and host, paths kept.

    REST URLs take the base's scheme, websocket URLs its websocket twin (http → ws, https → wss), so one base serves
    both; ccxt's ``{hostname}`` placeholders sit in the host and disappear with it.
    """
    base = urlsplit(base_url)
    if base.scheme not in _WEBSOCKET_SCHEME or not base.netloc:
        raise ConfigError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    prefix = base.path.rstrip("/")

    def move(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: move(item) for key, item in value.items()}
        if not isinstance(value, str):
            return value
        parts = urlsplit(value)
        scheme = _WEBSOCKET_SCHEME[base.scheme] if parts.scheme in ("ws", "wss") else base.scheme
        return urlunsplit((scheme, base.netloc, prefix + parts.path, parts.query, parts.fragment))

    return move(urls)
