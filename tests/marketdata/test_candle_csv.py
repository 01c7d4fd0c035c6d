from collections.abc import Iterator
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from marketdata_builders import OHLCV, TRADES, flat

from elcaro.marketdata import DataFileError, read_candles, read_trades, write_candles
from elcaro.models.enums import Side
from elcaro.models.market import Candle, PublicTrade

HEADER = "timestamp,open,high,low,close,volume\n"


def rows_in(path: Path) -> int:
    with path.open() as stream:
        return sum(1 for _ in stream) - 1


@pytest.mark.parametrize("path", sorted(OHLCV.glob("*.csv")), ids=lambda p: p.name)
def test_every_real_candle_file_reads_whole_and_sorted(path: Path) -> None:
    candles = list(read_candles(path))
    assert len(candles) == rows_in(path)
    assert all(a.timestamp < b.timestamp for a, b in pairwise(candles))


def test_numbers_are_exact_decimals_including_exponent_notation() -> None:
    first = next(read_candles(OHLCV / "ADA_BTC-5m.csv"))
    assert first == Candle(
        1515560100000, Decimal("0.0000533"), Decimal("0.0000533"), Decimal("0.00005288"), Decimal("0.0000529"),
        Decimal("431401.9787"),
    )  # fmt: skip


def test_reading_is_a_lazy_stream() -> None:
    candles = read_candles(OHLCV / "BTC_USDT-5m.csv")
    assert isinstance(candles, Iterator)
    assert next(candles).timestamp == 1672677900000


def test_written_candles_read_back_equal(tmp_path: Path) -> None:
    original = list(read_candles(OHLCV / "DASH_BTC-5m.csv"))
    target = tmp_path / "copy.csv"
    assert write_candles(target, original) == len(original)
    assert list(read_candles(target)) == original
    assert target.read_text().startswith(HEADER + "1515560100000,0.07439998,")


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(tmp_path: Path) -> None:
    def broken() -> Iterator[Candle]:
        yield flat(0)
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        write_candles(tmp_path / "out.csv", broken())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("", 1, "empty file; expected the header timestamp,open,high,low,close,volume"),
        ("0,1,1,1,1,1\n", 1, "expected the header"),
        ("timestamp,open,low,high,close,volume\n", 1, "expected the header"),
        (HEADER + "0,1,1,1,1\n", 2, "expected 6 fields, got 5"),
        (HEADER + "0,1,1,1,1,1\n300000,1,x,1,1,1\n", 3, "high is not a number: 'x'"),
        (HEADER + "0,1,1,1,1,NaN\n", 2, "volume must be a finite number"),
        (HEADER + "0,1,1,1,1,-2\n", 2, "volume must be a finite number, zero or more; got '-2'"),
        (HEADER + "0,0,1,0,1,1\n", 2, "open must be a finite number, positive"),
        (HEADER + "0,2,1.5,1,1,1\n", 2, "high/low do not contain open/close"),
        (HEADER + "1.5e12,1,1,1,1,1\n", 2, "timestamp must be whole UTC milliseconds, got '1.5e12'"),
        (HEADER + "-300000,1,1,1,1,1\n", 2, "timestamp must be whole UTC milliseconds"),
        (HEADER + "0,1,1,1,1,1\n300000,1,1,1,1,1\n300000,1,1,1,1,1\n", 4, "candle 300000 duplicates line 3 (300000)"),
        (HEADER + "0,1,1,1,1,1\n600000,1,1,1,1,1\n300000,1,1,1,1,1\n", 4, "is earlier than line 3 (600000)"),
    ],
)
def test_a_bad_candle_file_is_refused_naming_file_and_line(
    tmp_path: Path, content: str, line: int, reason: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataFileError) as caught:
        list(read_candles(path))
    error = caught.value
    assert (error.path, error.line) == (path, line)
    assert str(error).startswith(f"{path}:{line}: ")
    assert reason in str(error)


def test_an_unsorted_file_can_still_be_read_whole_for_a_health_check(tmp_path: Path) -> None:
    path = tmp_path / "unsorted.csv"
    path.write_text(HEADER + "600000,1,1,1,1,1\n0,1,1,1,1,1\n0,1,1,1,1,1\n")
    assert [c.timestamp for c in read_candles(path, check_order=False)] == [600000, 0, 0]


def test_blank_lines_and_a_byte_order_mark_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + HEADER + "0,1,2,0.5,1.5,3\n\n300000,1,1,1,1,0\n").encode())
    assert list(read_candles(path)) == [
        Candle(0, Decimal(1), Decimal(2), Decimal("0.5"), Decimal("1.5"), Decimal(3)),
        flat(300000, "1", "0"),
    ]


def test_the_real_trades_read_exactly() -> None:
    trades = list(read_trades(TRADES / "XRP_ETH-trades.csv", "XRP/ETH"))
    assert len(trades) == 12_477
    assert trades[0] == PublicTrade("XRP/ETH", "13519807", Side.SELL, Decimal("0.00141342"), Decimal(23), 1570752011620)
    assert {t.side for t in trades} == {Side.BUY, Side.SELL}
    assert trades[1].timestamp == trades[0].timestamp  # trades sharing a millisecond are normal


TRADE_HEADER = "timestamp,id,side,price,amount\n"


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("timestamp,side,id,price,amount\n", 1, "expected the header timestamp,id,side,price,amount"),
        (TRADE_HEADER + "5,a,buy,1,1\n5,b,sell,1,1\n5,a,buy,1,1\n", 4, "trade a duplicates line 2"),
        (TRADE_HEADER + "5,a,buy,1,1\n4,b,buy,1,1\n", 3, "trade at 4 is earlier than the row before (5)"),
        (TRADE_HEADER + "5,a,long,1,1\n", 2, "side must be buy or sell, got 'long'"),
        (TRADE_HEADER + "5,,buy,1,1\n", 2, "empty trade id"),
        (TRADE_HEADER + "5,a,buy,1,0\n", 2, "amount must be a finite number, positive"),
    ],
)
def test_a_bad_trade_file_is_refused_naming_file_and_line(tmp_path: Path, content: str, line: int, reason: str) -> None:
    path = tmp_path / "trades.csv"
    path.write_text(content)
    with pytest.raises(DataFileError) as caught:
        list(read_trades(path, "XRP/ETH"))
    assert caught.value.line == line
    assert reason in str(caught.value)


def test_duplicate_ids_are_looked_for_within_one_millisecond_only(tmp_path: Path) -> None:
    """A re-downloaded row repeats its timestamp too, so duplicates sit there; memory stays flat on long files."""
    path = tmp_path / "trades.csv"
    path.write_text(TRADE_HEADER + "5,a,BUY,1,1\n6,a,sell,2,3\n")
    assert [(t.trade_id, t.side) for t in read_trades(path, "X/Y")] == [("a", Side.BUY), ("a", Side.SELL)]
