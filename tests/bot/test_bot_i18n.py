"""Translation catalogs: every shipped language has every key with the same placeholders; every code the
platform can send has its words; numbers and dates are written the reader's way."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from elcaro.bot.cards import render
from elcaro.bot.i18n import FALLBACK, SHIPPED, Formats, Markup, catalogs, placeholders, translate
from elcaro.bot.keyboards import Section
from elcaro.models import Environment, Exchange, ExitReason, OrderType, Side, Target
from elcaro.models import errors as error_types
from elcaro.models.events import EventKind, TradingEvent
from elcaro.risk.sizing import SizingCode
from elcaro.services.copy_trading.outcome import CopyCode
from elcaro.services.desk import EDITABLE, Segment
from elcaro.trading import GateCode, Period, PlanCode

PAPER = Target.parse("bybit:paper")
BOT = Path(__file__).resolve().parents[2] / "src" / "elcaro" / "bot"
DESK = Path(__file__).resolve().parents[2] / "src" / "elcaro" / "services" / "desk"


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    english = catalogs()[FALLBACK]
    for language in SHIPPED:
        catalog = catalogs()[language]
        assert set(catalog) == set(english), language
        for key, template in english.items():
            assert placeholders(catalog[key]) == placeholders(template), (language, key)
            assert catalog[key] != "", (language, key)


def test_translations_are_not_left_in_english() -> None:
    """Russian texts are Russian: a copied English sentence would pass the key check, not this one."""
    english, russian = catalogs()["en"], catalogs()["ru"]
    same = [key for key in english if english[key] == russian[key] and re.search(r"[a-z]{4,}", _words(english[key]))]
    allowed = {key for key in same if key.startswith(("exchange.", "format.", "keys.shape"))}
    assert set(same) <= allowed | {
        "target.label",
        "strategies.row",
        "mode.row",
        "admin.last_signal",
        "stats.strategy_heading",
    }


def _words(template: str) -> str:
    return re.sub(r"\{[^}]*\}|<[^>]*>", "", template)


def test_every_key_the_code_names_exists() -> None:
    english = catalogs()[FALLBACK]
    literal = re.compile(r'"((?:[a-z_]+)(?:\.[A-Za-z_]+)+)"')
    prefixes = {key.split(".")[0] for key in english}
    named = {
        match.group(1)
        for path in BOT.rglob("*.py")
        for match in literal.finditer(path.read_text())
        if match.group(1).split(".")[0] in prefixes
    }
    assert named, "the scan found no keys: it is broken"
    assert sorted(key for key in named if key not in english) == []


def test_every_code_and_name_the_bot_renders_has_its_words() -> None:
    english = catalogs()[FALLBACK]
    families = {
        "reason": [*GateCode, *CopyCode, *PlanCode, *SizingCode],
        "exit": list(ExitReason),
        "environment": list(Environment),
        "exchange": list(Exchange),
        "order_type": list(OrderType),
        "side": [*Side, "long", "short"],
        "menu": list(Section),
        "stats.period": list(Period),
        "setting": list(EDITABLE),
        "segment": list(Segment),
    }
    missing = [
        f"{family}.{code}" for family, codes in families.items() for code in codes if f"{family}.{code}" not in english
    ]
    exchange_errors = [
        name
        for name, kind in vars(error_types).items()
        if isinstance(kind, type) and issubclass(kind, error_types.ExchangeError)
    ]
    missing += [f"exchange_error.{name}" for name in exchange_errors if f"exchange_error.{name}" not in english]
    missing += [f"reason.{name}" for name in exchange_errors if f"reason.{name}" not in english]
    assert missing == []


@pytest.mark.parametrize("language", SHIPPED)
@pytest.mark.parametrize("kind", list(EventKind))
def test_every_event_kind_has_its_own_card(kind: EventKind, language: str) -> None:
    data = {
        "side": "long",
        "qty": "0.05",
        "filled_qty": "0.05",
        "stop_loss": "58200",
        "leverage": "5",
        "notional": "3000",
        "margin": "600",
        "risk": "90",
        "price": "60000",
        "entry_price": "60000",
        "position_qty": "0.05",
        "pnl": "12.5",
        "target": "1",
        "stop": "60000",
        "previous_stop": "58200",
        "exit_reason": "take_profit",
        "realized_pnl": "12.5",
        "fees": "1.2",
        "exit_price": "61200",
        "withdrawn_qty": "0.05",
        "position_open": "false",
        "source": "channel:-100",
        "reason": "no price",
    }
    event = TradingEvent(
        kind, at=0, user_id=1, target=PAPER, symbol="BTC/USDT:USDT", position_id=7, code="cooldown", data=data
    )
    text, _ = render(event, language)
    other = translate(language, "card.other", symbol="BTCUSDT", target="x", kind=kind.value, reason="y").split(
        "BTCUSDT"
    )[0]
    assert text and "{" not in text
    assert not text.startswith(other), f"{kind} has no card of its own"


def test_every_refusal_code_of_the_desk_has_its_words() -> None:
    english = catalogs()[FALLBACK]
    codes: set[str] = set()
    for path in DESK.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DeskError" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    codes.add(first.value)
                elif isinstance(first, ast.JoinedStr):  # f"manual.{field}" for the fields it is used with
                    codes.update({"manual.price", "manual.qty"})
    assert {"manual.format", "position.closed", "order.managed"} <= codes
    assert sorted(code for code in codes if f"desk.{code}" not in english) == []


def test_a_language_not_shipped_reads_english_and_a_missing_key_is_an_error() -> None:
    assert translate("de", "common.yes") == translate("en", "common.yes") == "yes"
    assert translate("ru-RU", "common.yes") == "да"
    with pytest.raises(KeyError):
        translate("ru", "no.such.key")


def test_parameters_are_escaped_unless_already_markup() -> None:
    assert translate("en", "start.menu", name="<b>Eve & co</b>") == (
        "Hello, &lt;b&gt;Eve &amp; co&lt;/b&gt;! Choose what to do from the menu below."
    )
    assert "<b>x</b>" in translate("en", "portfolio.title", body=Markup("<b>x</b>"))


@pytest.mark.parametrize(
    ("language", "number", "money", "signed", "percent", "moment"),
    [
        ("en", "1,234,567.891", "-1,234.50 USDT", "+0.5", "12.35%", "Mar 9, 2025, 07:05 UTC"),
        ("ru", "1\u00a0234\u00a0567,891", "-1\u00a0234,50 USDT", "+0,5", "12,35%", "9 мар 2025, 07:05 UTC"),
    ],
)
def test_numbers_money_and_dates_in_the_readers_style(
    language: str, number: str, money: str, signed: str, percent: str, moment: str
) -> None:
    fmt = Formats(language)
    assert fmt.number(Decimal("1234567.891")) == number
    assert fmt.money(Decimal("-1234.5")) == money
    assert fmt.signed(Decimal("0.50")) == signed
    assert fmt.percent(Decimal("12.345")) == percent
    assert fmt.datetime(1741503900000) == moment
    assert fmt.signed_money(Decimal("-0.001")) == f"0{fmt.number(Decimal('0.00'), 2)[1:]} USDT"
    assert fmt.number(Decimal("6E+4")) == ("60,000" if language == "en" else "60\u00a0000")
