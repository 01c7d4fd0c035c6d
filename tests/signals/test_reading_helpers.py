"""Numbers, pairs, sides, timeframes and normalisation: the readings every format relies on."""

from decimal import Decimal as D

import pytest

from elcaro.models import PositionSide
from elcaro.models.errors import InvalidSignalError
from elcaro.signals import Message, normalise_timeframe
from elcaro.signals.numbers import NumberStyle, read_amount, read_number
from elcaro.signals.sides import ANY_SIDE_WORD, sides_in
from elcaro.signals.symbols import pairs_in, read_symbol

DOT = NumberStyle(dot_decimal=True)
COMMA = NumberStyle(comma_decimal=True)
UNKNOWN = NumberStyle()


@pytest.mark.parametrize(
    ("token", "style", "value"),
    [
        ("67,250.5", UNKNOWN, "67250.5"),
        ("67.250,5", UNKNOWN, "67250.5"),
        ("1,0825", UNKNOWN, "1.0825"),
        ("0,081", UNKNOWN, "0.081"),
        ("1,250,000", UNKNOWN, "1250000"),
        ("1.250.000", UNKNOWN, "1250000"),
        ("3,385", DOT, "3385"),
        ("3,385", COMMA, "3.385"),
        ("2.4410", UNKNOWN, "2.4410"),
        ("-1.9", UNKNOWN, "-1.9"),
        ("+7.85", UNKNOWN, "7.85"),
        ("0.00000123", UNKNOWN, "0.00000123"),
    ],
)
def test_numbers_are_read_exactly(token: str, style: NumberStyle, value: str) -> None:
    result = read_number(token, style, field="entry")
    assert result == D(value)
    assert str(result) == value.lstrip("+")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("3,385", "could be 3385 or 3.385"),
        ("21.11.2024", "cannot read"),
        ("1,2,3", "cannot read"),
        ("12,34.5", "uneven"),
        ("1.5x", "is not a number"),
        ("١٢٣", "is not a number"),
    ],
)
def test_unreadable_or_ambiguous_numbers_are_refused(token: str, reason: str) -> None:
    with pytest.raises(InvalidSignalError, match=reason):
        read_number(token, UNKNOWN, field="entry")


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("Entry 67,250.5", DOT),
        ("Leverage: Isolated (20.0X)", DOT),
        ("Entry 1,0825", COMMA),
        ("Entry 3,385 TP 3,420", UNKNOWN),
        ("Entry 1,5 TP 1.6", NumberStyle(dot_decimal=True, comma_decimal=True)),
    ],
)
def test_a_post_shows_its_decimal_separator(text: str, style: NumberStyle) -> None:
    assert NumberStyle.of(text) == style


@pytest.mark.parametrize(
    ("text", "value"), [("51.2M", "51200000"), ("850K", "850000"), ("8.4 M", "8400000"), ("1.5B", "1500000000")]
)
def test_amounts_take_k_m_b_suffixes(text: str, value: str) -> None:
    assert read_amount(text, UNKNOWN, field="details") == D(value)


@pytest.mark.parametrize(
    ("text", "symbols"),
    [
        ("SOL/USDT", ["SOL/USDT:USDT"]),
        ("#ETH/USDT and #ETHUSDT", ["ETH/USDT:USDT"]),
        ("solusdt", ["SOL/USDT:USDT"]),
        ("BTCUSDT.P", ["BTC/USDT:USDT"]),
        ("ETH-USDC", ["ETH/USDC:USDC"]),
        ("1000PEPEUSDT", ["1000PEPE/USDT:USDT"]),
        ("BTC/USDT:USDT", ["BTC/USDT:USDT"]),
        ("500USDT in USDT", []),
        ("Exchanges: Bybit USDT", []),
        ("ETH/BTC", []),
    ],
)
def test_pairs_map_to_the_canonical_ccxt_symbol(text: str, symbols: list[str]) -> None:
    assert pairs_in(text) == symbols


def test_a_symbol_field_may_carry_tradingview_exchange_prefix() -> None:
    assert read_symbol("BINANCE:BTCUSDT.P") == "BTC/USDT:USDT"
    assert read_symbol("BTC") is None


@pytest.mark.parametrize(
    ("text", "sides"),
    [
        ("LONG", {PositionSide.LONG}),
        ("Regular (Short)", {PositionSide.SHORT}),
        ("Long/Short ratio 1.2", set()),
        ("short-term bounce", set()),
        ("longs liquidated", set()),
    ],
)
def test_side_words(text: str, sides: set[PositionSide]) -> None:
    assert sides_in(text) == sides


def test_buy_sell_up_down_are_side_words_only_where_asked() -> None:
    assert sides_in("BUY", ANY_SIDE_WORD) == {PositionSide.LONG}
    assert sides_in("BUY") == set()


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("15m", "15m"),
        ("4h", "4h"),
        ("4H", "4h"),
        ("60", "1h"),
        ("240", "4h"),
        ("1440", "1d"),
        ("90", "90m"),
        ("1D", "1d"),
        ("D", "1d"),
        ("W", "1w"),
        ("15M", "15m"),
        ("2 hours", "2h"),
        ("30 min", "30m"),
        ("120m", "2h"),
    ],
)
def test_timeframes_are_normalised(text: str, name: str) -> None:
    assert normalise_timeframe(text) == name


@pytest.mark.parametrize("text", ["1M", "scalp", "0", "m", "99999", "15x"])
def test_unreadable_timeframes_are_refused(text: str) -> None:
    with pytest.raises(InvalidSignalError, match="timeframe"):
        normalise_timeframe(text)


def test_normalisation_folds_what_does_not_change_meaning() -> None:
    message = Message("⏱️  TF:\u00a015m\r\n🎯 **Entry**: 27.10 – 27.85\nVol 1M -> 2M\n\n1️⃣ 3385")
    assert message.lines == ("⏱ TF: 15m", "🎯 Entry: 27.10 - 27.85", "Vol 1M → 2M", "1) 3385")
    assert message.bare == ("TF: 15m", "Entry: 27.10 - 27.85", "Vol 1M → 2M", "1) 3385")
