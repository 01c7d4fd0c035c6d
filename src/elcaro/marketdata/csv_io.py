"""Candles and public trades in plain CSV, read as a stream of exact models.

Candle files: ``timestamp,open,high,low,close,volume``; trade files: ``timestamp,id,side,price,amount``.
The header is required (it is how a file with its columns in another order is caught), timestamps
are UTC epoch milliseconds, numbers are read as exact ``Decimal`` (``5.33e-05`` included).

Order policy, decided for operators: a reader raises ``DataFileError`` at the first row that breaks
the order rule, naming the file and both lines, rather than dropping or re-sorting anything (which
would hide a broken download). Candles must be strictly increasing (a repeated timestamp is a
duplicate); trades may share a millisecond but not an id within it. To see every problem of a file
at once, read it with ``check_order=False`` and pass the candles to ``gaps.check_health``.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

from elcaro.models.enums import Side
from elcaro.models.errors import ValidationError
from elcaro.models.market import Candle, PublicTrade

CANDLE_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
TRADE_COLUMNS = ("timestamp", "id", "side", "price", "amount")


class DataFileError(ValidationError):
    """A data file that needs fixing; the message starts with ``file:line`` like a compiler's."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        super().__init__(message, field=f"{path}:{line}" if line is not None else str(path))
        self.path = path
        self.line = line


def read_candles(path: str | os.PathLike[str], *, check_order: bool = True) -> Iterator[Candle]:
    """Yield the candles of ``path`` one by one; see the module docstring for the order policy."""
    path = Path(path)
    previous: tuple[int, int] | None = None  # (timestamp, line) of the row before
    for line, fields in _rows(path, CANDLE_COLUMNS):
        timestamp = _timestamp(path, line, fields[0])
        if check_order and previous is not None and timestamp <= previous[0]:
            what = "duplicates" if timestamp == previous[0] else "is earlier than"
            raise DataFileError(
                path,
                line,
                f"candle {timestamp} {what} line {previous[1]} ({previous[0]}); rows must be sorted, one per candle",
            )
        previous = (timestamp, line)
        o, h, low, c = (_decimal(path, line, CANDLE_COLUMNS[i], fields[i], positive=True) for i in range(1, 5))
        volume = _decimal(path, line, "volume", fields[5], positive=False)
        try:
            candle = Candle(timestamp, o, h, low, c, volume)
        except ValidationError as error:
            raise DataFileError(path, line, error.reason) from None
        yield candle


def write_candles(path: str | os.PathLike[str], candles: Iterable[Candle]) -> int:
    """Write ``candles`` with a header and return how many; the file appears whole or not at all.

    Numbers are written with ``str(Decimal)``, so reading the file back gives equal values.
    """
    path = Path(path)
    # Same directory, so the final rename cannot cross file systems and is atomic.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(CANDLE_COLUMNS)
            for candle in candles:
                writer.writerow((candle.timestamp, candle.open, candle.high, candle.low, candle.close, candle.volume))
                count += 1
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def read_trades(path: str | os.PathLike[str], symbol: str, *, check_order: bool = True) -> Iterator[PublicTrade]:
    """Yield the public trades of ``path`` for ``symbol`` (files do not name their market)."""
    path = Path(path)
    previous = -1
    ids_at_previous: dict[str, int] = {}  # trade id → line, for the millisecond of the row before
    for line, fields in _rows(path, TRADE_COLUMNS):
        timestamp = _timestamp(path, line, fields[0])
        trade_id = fields[1].strip()
        if not trade_id:
            raise DataFileError(path, line, "empty trade id")
        if check_order:
            if timestamp < previous:
                raise DataFileError(path, line, f"trade at {timestamp} is earlier than the row before ({previous})")
            if timestamp != previous:
                ids_at_previous.clear()
            if trade_id in ids_at_previous:
                raise DataFileError(path, line, f"trade {trade_id} duplicates line {ids_at_previous[trade_id]}")
            ids_at_previous[trade_id] = line
            previous = timestamp
        side = fields[2].strip().lower()
        if side not in (Side.BUY, Side.SELL):
            raise DataFileError(path, line, f"side must be buy or sell, got {fields[2]!r}")
        yield PublicTrade(
            symbol=symbol,
            trade_id=trade_id,
            side=Side(side),
            price=_decimal(path, line, "price", fields[3], positive=True),
            qty=_decimal(path, line, "amount", fields[4], positive=True),
            timestamp=timestamp,
        )


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """Data rows with their line numbers, after checking the header; blank lines are skipped."""
    # utf-8-sig: a spreadsheet that saved the file may have put a byte-order mark before the header.
    with path.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            raise DataFileError(path, 1, f"empty file; expected the header {','.join(columns)}")
        if tuple(name.strip().lower() for name in header) != columns:
            raise DataFileError(path, 1, f"expected the header {','.join(columns)}, got {','.join(header)}")
        for fields in reader:
            if not fields:
                continue
            if len(fields) != len(columns):
                raise DataFileError(path, reader.line_num, f"expected {len(columns)} fields, got {len(fields)}")
            yield reader.line_num, fields


def _timestamp(path: Path, line: int, text: str) -> int:
    text = text.strip()
    # isdigit alone would accept digits of other scripts, which int() reads but no exporter writes.
    if not (text.isascii() and text.isdigit()):
        raise DataFileError(path, line, f"timestamp must be whole UTC milliseconds, got {text!r}")
    return int(text)


def _decimal(path: Path, line: int, column: str, text: str, *, positive: bool) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise DataFileError(path, line, f"{column} is not a number: {text!r}") from None
    if not value.is_finite() or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "zero or more"
        raise DataFileError(path, line, f"{column} must be a finite number, {kind}; got {text!r}")
    return value
