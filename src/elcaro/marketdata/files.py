"""Candle files found by name: ``<BASE>_<QUOTE>[_<SETTLE>]-<timeframe>.csv``, as freqtrade names its downloads.

``ETH_BTC-5m.csv`` holds ``ETH/BTC`` (spot) in 5-minute candles; ``XRP_USDT_USDT-1h.csv`` holds
``XRP/USDT:USDT`` (a perpetual settled in USDT) in hourly ones. The rules, shared by the backtester
and the engine's recorded-candle tools:

- the pair is two or three parts of letters and digits joined by ``_``; a name without a quote
  (``BTC-5m.csv``) is not a candle file, since every symbol inside the platform has one;
- the pair may be written in any case and is read upper-case (``unittest_btc`` is ``UNITTEST/BTC``);
- the timeframe is case-sensitive and must be one the platform supports
  (:data:`~elcaro.models.timeframe.TIMEFRAMES`): ``1M`` is a month in ccxt, not one minute, and is refused;
- the extension is ``.csv``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from elcaro.models.errors import NotFoundError, ValidationError
from elcaro.models.timeframe import Timeframe

CANDLE_FILE_NAME = "<BASE>_<QUOTE>[_<SETTLE>]-<timeframe>.csv"
"""The naming rule, as messages quote it."""

# The timeframe letter set is wider than the supported names (``M``, a month) so that such a file is
# refused for its timeframe, with the allowed list, rather than for its name.
_NAME = re.compile(r"^(?P<pair>[A-Za-z0-9]+(?:_[A-Za-z0-9]+){1,2})-(?P<timeframe>\d+[mhdwM])\.csv$")


@dataclass(frozen=True, slots=True)
class CandleFile:
    """A candle file and what its name says about it. Build it with :meth:`parse`."""

    path: Path
    symbol: str
    """ccxt unified symbol: ``ETH/BTC`` (spot) or ``XRP/USDT:USDT`` (settled in ``USDT``)."""
    base: str
    quote: str
    settle: str | None
    timeframe: Timeframe

    @classmethod
    def parse(cls, path: str | os.PathLike[str]) -> CandleFile:
        """What the name of ``path`` says (the file is not opened).

        Raises:
            ValidationError: the name does not follow the rule or names an unsupported timeframe;
                the message says which (``field`` is ``"path"``).
        """
        path = Path(path)
        match = _NAME.match(path.name)
        if match is None:
            raise ValidationError(f"{path.name} is not named {CANDLE_FILE_NAME} (e.g. ETH_BTC-5m.csv)", field="path")
        try:
            timeframe = Timeframe.parse(match["timeframe"])
        except ValidationError as error:
            raise ValidationError(f"{path.name}: {error.reason}", field="path") from None
        base, quote, *rest = match["pair"].upper().split("_")
        settle = rest[0] if rest else None
        symbol = f"{base}/{quote}" + (f":{settle}" if settle else "")
        return cls(path, symbol, base, quote, settle, timeframe)


def candle_files(directory: str | os.PathLike[str]) -> list[CandleFile]:
    """Every candle file directly inside ``directory``, sorted by path; files named otherwise are left out.

    Raises:
        NotFoundError: ``directory`` is not a directory.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise NotFoundError(f"no directory {directory}")
    found = []
    for path in sorted(directory.glob("*.csv")):
        try:
            found.append(CandleFile.parse(path))
        except ValidationError:
            continue
    return found
