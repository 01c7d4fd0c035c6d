"""Properties: no input makes a parser raise anything but InvalidSignalError, and prices survive a round trip.

The round trip writes random valid prices into each format's template, varies the text the way
posts vary (case, spacing, variation selectors, line endings, dash kinds), and reads the same
prices back, digit for digit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signal_samples import ALL_TEXTS, EXAMPLES, SOURCE

from elcaro.models import EntryKind, PositionSide, Signal
from elcaro.models.errors import InvalidSignalError
from elcaro.signals import BUILT_IN, CustomParserSpec, FormatParser, Outcome, parse_message, parse_webhook, preview

_FRAGMENTS = sorted({line for text in ALL_TEXTS if len(text) < 2000 for line in text.splitlines() if line})
_WORDS = ["LONG", "SHORT", "Buy zone", "Entry:", "TP1:", "SL:", "Stop", "Targets:", "@", "1)", "- 50%", "(40%)",
          "Leverage", "x", "#", "/USDT", "USDT", "Cancel", "TF:", "Score:", "OI SIGNAL", "Elcaro", "FIBONACCI",
          "SCALPER", "SCRIPTOMER", "Entry Targets:", "Take-Profit Targets:", "→", "–", "⭐", "🔴", "🟢",
          "\ufe0f"]  # fmt: skip
_numbers = st.from_regex(r"[+-]?[0-9]{1,7}([.,][0-9]{1,6}){0,3}( ?[%KMkx])?", fullmatch=True)
_signalish = st.lists(
    st.tuples(st.one_of(st.sampled_from(_FRAGMENTS), st.sampled_from(_WORDS), _numbers, st.text(max_size=8)),
              st.sampled_from([" ", "\n", "", "  ", "\r\n"])),
    max_size=14,
).map(lambda parts: "".join(part + sep for part, sep in parts))  # fmt: skip


def _mutations(text: str) -> st.SearchStrategy[str]:
    """``text`` with a few characters replaced, deleted or inserted: near-misses of a real post."""
    edits = st.lists(st.tuples(st.integers(0, max(len(text) - 1, 0)), st.sampled_from(["del", "ins", "sub"]),
                               st.characters()), max_size=4)  # fmt: skip

    def apply(changes: list[tuple[int, str, str]]) -> str:
        chars = list(text)
        for at, kind, char in sorted(changes, reverse=True):
            if kind == "del" and chars:
                del chars[min(at, len(chars) - 1)]
            elif kind == "ins":
                chars.insert(at, char)
            elif chars:
                chars[min(at, len(chars) - 1)] = char
        return "".join(chars)

    return edits.map(apply)


_near_misses = st.sampled_from([e.text for e in EXAMPLES.values()]).flatmap(_mutations)
_any_text = st.one_of(st.text(), _signalish, _near_misses)


def _parse_or_refuse(parse: Callable[[], object]) -> object:
    try:
        return parse()
    except InvalidSignalError:
        return None


@given(text=_any_text)
@settings(max_examples=250, suppress_health_check=[HealthCheck.too_slow])
def test_no_parser_raises_anything_but_invalid_signal_error_and_parse_message_nothing(text: str) -> None:
    for parser in BUILT_IN:
        _parse_or_refuse(lambda parser=parser: parser.parse(text, SOURCE))  # type: ignore[misc]
    result = parse_message(text, SOURCE)
    assert (result.signal is not None) == (result.outcome is Outcome.SIGNAL)
    assert (result.cancel is not None) == (result.outcome is Outcome.CANCEL)
    assert (result.reason is not None) == (result.outcome is Outcome.REJECTED)
    assert (result.parser is None) == (result.outcome is Outcome.NOTHING)


@given(text=st.one_of(_signalish, _near_misses))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_no_post_is_claimed_by_two_parsers(text: str) -> None:
    claimed = [parser.name for parser in BUILT_IN if _claims(parser, text)]
    assert len(claimed) <= 1, claimed
    result = parse_message(text, SOURCE)
    if claimed:
        assert result.parser == claimed[0]
    else:
        assert result.outcome is Outcome.NOTHING or "refusing to pick one" in (result.reason or "")


def _claims(parser: FormatParser, text: str) -> bool:
    try:
        return parser.parse(text, SOURCE) is not None
    except InvalidSignalError:
        return True


@given(text=_any_text)
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_a_custom_parser_raises_nothing_but_its_outcomes(text: str) -> None:
    spec = CustomParserSpec(
        name="any",
        strategy="any",
        channel_ids=("-1",),
        marker=r"(?:Entry|@|LONG|SHORT)",
        symbol=r"(?P<symbol>\S*USDT\S*)",
        side=r"(?P<side>\w+)",
        price=r"(?P<price>[+-]?[\d.,]+)",
        targets=r"TP\d*:? (?P<target>\S+)",
        stop=r"SL:? (?P<stop>\S+)",
        leverage=r"[Ll]ev\w* (?P<leverage>\S+)",
    )
    preview(spec, [text])


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
_KNOWN = ["strategy", "symbol", "side", "price", "order_type", "stop_loss", "take_profits", "leverage", "timeframe",
          "timestamp", "max_lag"]  # fmt: skip
_PLAUSIBLE = {
    "strategy": st.sampled_from(["tv", "tv breakout", "", "x" * 70]),
    "symbol": st.sampled_from(["BTCUSDT", "BINANCE:ETHUSDT.P", "BTC", "USDT"]),
    "side": st.sampled_from(["buy", "SELL", "long", "hold"]),
    "timestamp": st.sampled_from([1_732_190_400_000, "2024-11-21T12:00:00Z", "0001-01-01T00:00:00-23:59", 10**30]),
    "timeframe": st.sampled_from(["60", "1M", "4h", "x"]),
}
_webhook_payloads = st.one_of(
    _JSON,
    st.fixed_dictionaries(
        {"secret": st.just("k")},
        optional={name: st.one_of(_JSON, _PLAUSIBLE.get(name, _JSON), st.decimals(allow_nan=True)) for name in _KNOWN},
    ),
)


@given(payload=_webhook_payloads, now_ms=st.integers(0, 2 * 10**12))
@settings(max_examples=200)
def test_a_webhook_raises_nothing_but_invalid_signal_error(payload: object, now_ms: int) -> None:
    result = _parse_or_refuse(lambda: parse_webhook(payload, secret="k", now_ms=now_ms, source="tv"))
    assert result is None or isinstance(result, Signal)


@dataclass(frozen=True)
class Rendered:
    text: str
    entry: tuple[Decimal, ...]
    targets: tuple[Decimal, ...]
    stop: Decimal | None


@st.composite
def _levels(draw: st.DrawFn, count: int) -> list[Decimal]:
    """``count`` distinct prices, ascending, less than ×10 apart, with 0–9 decimals."""
    exponent = draw(st.integers(-9, 2))
    digits = draw(st.lists(st.integers(1000, 9999), min_size=count, max_size=count, unique=True))
    return [Decimal(d).scaleb(exponent) for d in sorted(digits)]


def _write(price: Decimal, grouped: bool) -> str:
    """As a post writes it; thousands grouped only beside a decimal point, where it has one reading."""
    text = format(price, "f")
    whole, point, fraction = text.partition(".")
    return f"{int(whole):,}.{fraction}" if grouped and point else text


@dataclass(frozen=True)
class _Drawn:
    """A side, a pair and prices in level order (stop, entries, targets) as drawn and as written."""

    side: PositionSide
    base: str
    p: list[Decimal]
    w: list[str]

    @property
    def word(self) -> str:
        return self.side.upper()


def _oneline(d: _Drawn, draw: st.DrawFn) -> Rendered:
    header = draw(st.sampled_from(["SCRIPTOMER", "SCALPER", "🎯 OI SIGNAL ⭐⭐\n📉"]))
    return Rendered(f"{header} {d.word} {d.base}USDT @ {d.w[0]}", (d.p[0],), (), None)


def _rsi_bb(d: _Drawn, draw: st.DrawFn) -> Rendered:
    dot = "🟢" if d.side is PositionSide.LONG else "🔴"
    text = f"{dot} {d.word} {d.base}USDT\n📊 Score: 60% ⭐ B\n💲 Entry: {d.w[1]}\n🎯 TP1: {d.w[2]}\n🎯 TP2: {d.w[3]}"
    return Rendered(f"{text}\n🛑 SL: {d.w[0]}", (d.p[1],), (d.p[2], d.p[3]), d.p[0])


def _elcaro(d: _Drawn, draw: st.DrawFn) -> Rendered:
    text = f"Elcaro\n🔔 {d.base}USDT {d.word}\n⏱ 4h | 🎚 5\n💰 Entry: {d.w[1]}\n🛑 SL: {d.w[0]}\n🎯 TP: {d.w[2]}"
    return Rendered(text, (d.p[1],), (d.p[2],), d.p[0])


def _fibonacci(d: _Drawn, draw: st.DrawFn) -> Rendered:
    text = (
        f"📊 FIBONACCI EXTENSION STRATEGY\n🪙 {d.base}USDT | —\n📈 {d.word}\n🎯 Entry Zone: {d.w[1]} – {d.w[2]}\n"
        f"🛑 Stop Loss: {d.w[0]}\n✅ Target 1: {d.w[3]}\n✅ Target 2: {d.w[4]}"
    )
    return Rendered(text, tuple(sorted(d.p[1:3])), (d.p[3], d.p[4]), d.p[0])


def _cornix_free(d: _Drawn, draw: st.DrawFn) -> Rendered:
    zone = draw(st.booleans())
    keyword = "Buy zone" if d.side is PositionSide.LONG else "Entry zone"
    entry_line = f"{keyword} {d.w[1]}-{d.w[2]}" if zone else f"Entry: {d.w[1]} - {d.w[2]}"
    said = draw(st.sampled_from(["", f"\n{d.word}"]))
    text = f"#{d.base}/USDT{said}\n{entry_line}\nTake Profit {d.w[3]} {d.w[4]} {d.w[5]}\nStop {d.w[0]}"
    entries = tuple(sorted(d.p[1:3])) if zone else (d.p[1], d.p[2])
    return Rendered(text, entries, tuple(d.p[3:]), d.p[0])


def _cornix_structured(d: _Drawn, draw: st.DrawFn) -> Rendered:
    text = (
        f"⚡⚡ #{d.base}/USDT ⚡⚡\nLeverage: Isolated (10.0X)\nEntry Targets:\n1) {d.w[1]} - 50%\n"
        f"2) {d.w[2]} - 50%\nTake-Profit Targets:\n1) {d.w[3]} - 40%\n2) {d.w[4]} - 30%\n3) {d.w[5]} - 30%\n"
        f"Stop Targets:\n1) {d.w[0]} - 100%"
    )
    return Rendered(text, (d.p[1], d.p[2]), tuple(d.p[3:]), d.p[0])


_TEMPLATES: dict[str, tuple[int, Callable[[_Drawn, st.DrawFn], Rendered]]] = {
    "oneline": (1, _oneline),
    "rsi_bb": (4, _rsi_bb),
    "elcaro": (3, _elcaro),
    "fibonacci": (5, _fibonacci),
    "cornix_free": (6, _cornix_free),
    "cornix_structured": (6, _cornix_structured),
}


_VARIATIONS: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "spaces": lambda text: text.replace(" ", "   ").replace("\n", " \n  "),
    "selectors": lambda text: "".join(c + "\ufe0f" if ord(c) > 0x2000 else c for c in text),
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "dashes": lambda text: text.replace(" - ", " – ").replace("-", "—"),
}


@st.composite
def _rendered(draw: st.DrawFn, template: str) -> Rendered:
    count, render = _TEMPLATES[template]
    side = draw(st.sampled_from(PositionSide))
    prices = draw(_levels(count))
    if side is PositionSide.SHORT:
        prices.reverse()
    grouped = draw(st.booleans())
    base = draw(st.sampled_from(["BTC", "ETH", "1000PEPE", "ARB"]))
    rendered = render(_Drawn(side, base, prices, [_write(p, grouped) for p in prices]), draw)
    text = rendered.text
    for name in draw(st.lists(st.sampled_from(sorted(_VARIATIONS)), max_size=3, unique=True)):
        text = _VARIATIONS[name](text)
    return replace(rendered, text=text)


@pytest.mark.parametrize("template", _TEMPLATES)
@given(data=st.data())
@settings(max_examples=100)
def test_a_rendered_signal_parses_back_to_the_same_prices(template: str, data: st.DataObject) -> None:
    rendered = data.draw(_rendered(template))
    result = parse_message(rendered.text, SOURCE)
    assert result.outcome is Outcome.SIGNAL, result.reason
    signal = result.signal
    assert signal is not None
    assert signal.entry.prices == rendered.entry
    assert [str(p) for p in signal.entry.prices] == [format(p, "f") for p in rendered.entry]
    assert tuple(tp.price for tp in signal.take_profits) == rendered.targets
    assert signal.stop_loss == rendered.stop
    assert signal.entry.kind is not EntryKind.MARKET or template == "oneline"


@given(levels=_levels(4), side=st.sampled_from(PositionSide))
@settings(max_examples=100)
def test_a_rendered_webhook_alert_keeps_its_prices(levels: list[Decimal], side: PositionSide) -> None:
    if side is PositionSide.SHORT:
        levels.reverse()
    alert = {
        "secret": "k",
        "strategy": "tv",
        "symbol": "ETHUSDT",
        "side": side.entry_side.value,
        "price": str(levels[1]),
        "stop_loss": str(levels[0]),
        "take_profits": [str(p) for p in levels[2:]],
        "timestamp": 1_732_190_400_000,
    }
    payload = json.loads(json.dumps(alert))
    signal = parse_webhook(payload, secret="k", now_ms=1_732_190_400_000, source="tv")
    assert signal.entry.prices == (levels[1],)
    assert (signal.stop_loss, tuple(tp.price for tp in signal.take_profits)) == (levels[0], tuple(levels[2:]))
