"""Admin-defined parsers: validated on creation, stored as plain dicts, previewed on samples."""

from decimal import Decimal as D
from typing import Any

import pytest

from elcaro.models import Entry, EntryKind, PositionSide, TakeProfit
from elcaro.signals import CustomParserSpec, InvalidParserSpecError, Outcome, preview
from elcaro.signals.regex_safety import MAX_LINE_CHARS

SPEC: dict[str, Any] = {
    "version": 1,
    "name": "whale-calls",
    "strategy": "whale",
    "channel_ids": ["-100555", "-100556"],
    "marker": r"^🐳 WHALE CALL",
    "symbol": r"#(?P<symbol>[A-Z0-9]+/?USDT)",
    "side": r"\b(?P<side>LONG|SHORT)\b",
    "price": r"^Entry[\s:]*(?P<price>[\d.,]+)",
    "stop": r"^SL[\s:]*(?P<stop>[\d.,]+)",
    "targets": r"^TP\d[\s:]*(?P<target>[\d.,]+)",
    "leverage": r"^Lev[\s:]*(?P<leverage>\d+x?)",
    "entry": "limit",
    "ignore_case": True,
}
POST = "🐳 WHALE CALL\n#ARB/USDT LONG\nEntry: 1.0825\nTP1: 1.12\nTP2: 1.18\nSL: 1.04\nLev: 10x"


def spec(**changes: Any) -> CustomParserSpec:
    return CustomParserSpec.from_dict({**SPEC, **changes})


def test_a_spec_round_trips_through_a_plain_dict() -> None:
    built = spec()
    assert built.to_dict() == SPEC
    assert CustomParserSpec.from_dict(built.to_dict()) == built


def test_preview_shows_what_the_spec_extracts() -> None:
    results = preview(spec(), [POST, "gm whales", POST.replace("SL: 1.04", "SL: 1.10")])
    assert [r.outcome for r in results] == [Outcome.SIGNAL, Outcome.NOTHING, Outcome.REJECTED]
    signal = results[0].signal
    assert signal is not None
    assert results[0].parser == "custom:whale-calls"
    assert (signal.strategy, signal.symbol, signal.side) == ("whale", "ARB/USDT:USDT", PositionSide.LONG)
    assert signal.entry == Entry(EntryKind.LIMIT, (D("1.0825"),))
    assert signal.take_profits == (TakeProfit(D("1.12")), TakeProfit(D("1.18")))
    assert (signal.stop_loss, signal.leverage) == (D("1.04"), D("10"))
    assert signal.source.ref == "-100555"
    assert results[2].reason == "a long's stop 1.10 must be below its entry 1.0825"


def test_a_market_spec_and_a_missing_part() -> None:
    results = preview(spec(entry="market"), [POST, "🐳 WHALE CALL\n#ARB/USDT LONG"])
    assert results[0].signal is not None
    assert results[0].signal.entry == Entry(EntryKind.MARKET, (D("1.0825"),))
    assert results[1].reason == "the price pattern finds nothing in the post"


def test_an_unreadable_side_or_pair_is_a_rejection() -> None:
    results = preview(spec(side=r"side=(?P<side>\w+)", symbol=r"coin=(?P<symbol>\w+)"), [
        "🐳 WHALE CALL side=moon coin=ARBUSDT Entry 1",
        "🐳 WHALE CALL side=long coin=ARB\nEntry 1",
    ])  # fmt: skip
    assert [r.reason for r in results] == [
        "'moon' is not long, short, buy, sell, up or down",
        "cannot read the pair 'ARB'",
    ]


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"price": r"Entry (?P<price>[\d.]+"}, "price", r"does not compile: missing \), unterminated subpattern"),
        ({"price": r"Entry (?P<value>[\d.]+)"}, "price", r"needs a named group \(\?P<price>"),
        ({"targets": r"TP (?P<price>\d+)"}, "targets", r"\(\?P<target>"),
        ({"marker": r"(a+)+$"}, "marker", "exponential"),
        ({"marker": r"(?:VIP|VIP CALL)+"}, "marker", "'\\|' inside"),
        ({"price": r"Entry\s*:?\s*(?P<price>[\d.]+)"}, "price", r"merge them into one repeat"),
        ({"price": r"Entry.*(?P<price>\d+)"}, "price", "make the first possessive"),
        ({"marker": r"(?P<x>WHALE)(?P=x)"}, "marker", "backreferences"),
        ({"marker": r"(WHALE) \1"}, "marker", "backreference"),
        ({"marker": "(?x) WHALE"}, "marker", "verbose"),
        ({"marker": "W" * 201}, "marker", "longer than 200"),
        ({"marker": 42}, "marker", "a pattern is a string"),
        ({"name": "Whale Calls"}, "name", "lower-case"),
        ({"strategy": ""}, "strategy", "lower-case"),
        ({"channel_ids": []}, "channel_ids", "1–100 channel ids"),
        ({"channel_ids": ["-1", "-1"]}, "channel_ids", "listed twice"),
        ({"channel_ids": "-100555"}, "channel_ids", "list of channel ids"),
        ({"entry": "zone"}, "entry", "limit or market"),
        ({"ignore_case": "yes"}, "ignore_case", "true or false"),
        ({"version": 2}, "version", "unknown spec version"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_pattern_and_the_reason(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidParserSpecError, match=reason) as raised:
        spec(**changes)
    assert raised.value.field == field


def test_unknown_and_missing_settings_are_refused() -> None:
    with pytest.raises(InvalidParserSpecError, match="unknown settings: colour"):
        CustomParserSpec.from_dict({**SPEC, "colour": "blue"})
    with pytest.raises(InvalidParserSpecError, match="missing settings: marker, price"):
        CustomParserSpec.from_dict({k: v for k, v in SPEC.items() if k not in {"marker", "price"}})


def test_optional_patterns_may_be_left_out() -> None:
    built = spec(stop=None, targets=None, leverage=None)
    assert built.to_dict()["stop"] is None
    result = preview(built, [POST])[0]
    assert result.signal is not None
    assert (result.signal.stop_loss, result.signal.take_profits, result.signal.leverage) == (None, (), None)


def test_case_sensitivity_is_the_admins_choice() -> None:
    assert preview(spec(ignore_case=False), [POST.lower()])[0].outcome is Outcome.NOTHING
    assert preview(spec(), [POST.lower()])[0].outcome is Outcome.SIGNAL


def test_patterns_only_see_lines_up_to_the_length_limit() -> None:
    long_line = "🐳 WHALE CALL " + "x" * MAX_LINE_CHARS
    assert preview(spec(), [long_line])[0].outcome is Outcome.NOTHING


def test_accepted_patterns_finish_on_text_built_to_make_them_backtrack() -> None:
    accepted = spec(marker=r"[\d,]*WHALE", price=r"Entry[\s:]*(?P<price>\d+(?:\.\d+)?)x")
    hostile = "\n".join(["1," * 120, "🐳 WHALE CALL #ARBUSDT LONG", "Entry" + " " * 240 + "1" * 10] * 12)
    assert preview(accepted, [hostile])[0].reason == "the price pattern finds nothing in the post"
