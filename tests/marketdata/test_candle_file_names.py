"""Candle file names: what ``BASE_QUOTE[_SETTLE]-<timeframe>.csv`` says, and the names that are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marketdata_builders import OHLCV

from elcaro.marketdata import TIMEFRAMES, CandleFile, Timeframe, candle_files
from elcaro.models.errors import NotFoundError, ValidationError


@pytest.mark.parametrize(
    ("name", "symbol", "quote", "settle", "timeframe"),
    [
        ("ETH_BTC-5m.csv", "ETH/BTC", "BTC", None, "5m"),
        ("XRP_USDT_USDT-1h.csv", "XRP/USDT:USDT", "USDT", "USDT", "1h"),
        ("unittest_btc-1m.csv", "UNITTEST/BTC", "BTC", None, "1m"),  # any case, read upper-case
        ("1000PEPE_USDT_USDT-15m.csv", "1000PEPE/USDT:USDT", "USDT", "USDT", "15m"),
        ("BTC_USD_BTC-1w.csv", "BTC/USD:BTC", "USD", "BTC", "1w"),  # an inverse perpetual
    ],
)
def test_a_name_gives_the_symbol_its_parts_and_the_timeframe(
    name: str, symbol: str, quote: str, settle: str | None, timeframe: str
) -> None:
    found = CandleFile.parse(Path("/data") / name)
    assert (found.symbol, found.quote, found.settle, found.timeframe) == (
        symbol,
        quote,
        settle,
        Timeframe.parse(timeframe),
    )
    assert found.base == symbol.partition("/")[0]
    assert found.path == Path("/data") / name


@pytest.mark.parametrize(
    "name",
    [
        "BTC-5m.csv",  # no quote: not a symbol of the platform
        "A_B_C_D-5m.csv",
        "ETH-BTC-5m.csv",
        "ETH_BTC.csv",
        "ETH_BTC-5m.txt",
        "ETH_BTC-5m.csv.gz",
        "ETH_BTC-5m.CSV",
        "ETH_BTC-m.csv",
        "ETH_BTC-5s.csv",
        "ETH__BTC-5m.csv",
        "ETH/BTC-5m.csv",
        "prices.csv",
    ],
)
def test_other_names_are_refused_with_the_rule(name: str) -> None:
    with pytest.raises(ValidationError, match=r"is not named <BASE>_<QUOTE>\[_<SETTLE>\]-<timeframe>\.csv") as caught:
        CandleFile.parse(name)
    assert caught.value.field == "path"


@pytest.mark.parametrize("name", ["ETH_BTC-1M.csv", "ETH_BTC-7m.csv", "ETH_BTC-2d.csv"])
def test_an_unsupported_timeframe_is_refused_with_the_allowed_list(name: str) -> None:
    # 1M is ccxt's month: a case-insensitive reading would have taken it for one minute.
    with pytest.raises(ValidationError, match=rf"^path: {name}: unknown timeframe .*allowed: 1m, 3m, 5m"):
        CandleFile.parse(name)


_PART = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)


@given(base=_PART, quote=_PART, settle=st.none() | _PART, timeframe=st.sampled_from(TIMEFRAMES))
def test_every_well_formed_name_reads_back_as_its_parts(
    base: str, quote: str, settle: str | None, timeframe: str
) -> None:
    pair = "_".join(part for part in (base, quote, settle) if part is not None)
    found = CandleFile.parse(f"{pair}-{timeframe}.csv")
    expected = f"{base.upper()}/{quote.upper()}" + (f":{settle.upper()}" if settle else "")
    assert (found.symbol, found.base, found.quote, found.settle) == (
        expected,
        base.upper(),
        quote.upper(),
        settle.upper() if settle else None,
    )
    assert found.timeframe.name == timeframe


def test_a_folder_lists_its_candle_files_sorted_and_leaves_the_rest_out(tmp_path: Path) -> None:
    for name in ("XRP_USDT_USDT-5m.csv", "eth_btc-1h.csv", "notes.csv", "BTC-5m.csv", "ETH_BTC-1M.csv", "A_B-5m.txt"):
        (tmp_path / name).write_text("timestamp,open,high,low,close,volume\n")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "LTC_BTC-5m.csv").write_text("timestamp,open,high,low,close,volume\n")
    found = candle_files(tmp_path)
    assert [(f.path.name, f.symbol) for f in found] == [
        ("XRP_USDT_USDT-5m.csv", "XRP/USDT:USDT"),
        ("eth_btc-1h.csv", "ETH/BTC"),
    ]
    with pytest.raises(NotFoundError):
        candle_files(tmp_path / "missing")
    with pytest.raises(NotFoundError):
        candle_files(tmp_path / "notes.csv")


def test_every_file_of_the_shared_data_is_a_candle_file() -> None:
    found = candle_files(OHLCV)
    assert len(found) == len(list(OHLCV.glob("*.csv")))
    assert {(f.symbol, f.timeframe.name) for f in found} >= {
        ("BTC/USDT", "5m"),
        ("XRP/USDT:USDT", "5m"),
        ("XRP/USDT:USDT", "1h"),
        ("UNITTEST/BTC", "1m"),
        ("ETH/BTC", "5m"),
    }
