"""Button data: compact, versioned, validated; confirmations work once, in their own chat, while fresh."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elcaro.bot.callbacks import MAX_BYTES, VERSION, Arg, Confirmations, R, Route, decode, encode, fits
from elcaro.bot.dispatch import build_registry
from elcaro.bot.keyboards import Section
from elcaro.bot.menus import subscription, wallet

ROUTES = [value for value in vars(R).values() if isinstance(value, Route)]
EXAMPLES = {
    Arg.INT: st.integers(0, 10**12).map(str),
    Arg.NAME: st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,31}", fullmatch=True),
    Arg.WORD: st.from_regex(r"[a-z][a-z0-9_]{0,23}", fullmatch=True),
    Arg.TOKEN: st.from_regex(r"[A-Za-z0-9_-]{12}", fullmatch=True),
    Arg.TARGET: st.sampled_from(["bybit:paper", "bybit:demo", "hyperliquid:testnet", "binance:live"]),
    Arg.REF: st.from_regex(r"[0-9a-f]{12}", fullmatch=True),
    Arg.COIN: st.from_regex(r"[A-Z0-9]{1,20}", fullmatch=True),
    Arg.CHAT: st.integers(-(10**15), -1).map(str),
}


@st.composite
def callbacks(draw: st.DrawFn) -> tuple[Route, tuple[str, ...]]:
    route = draw(st.sampled_from(ROUTES))
    return route, tuple(draw(EXAMPLES[kind]) for kind in route.args)


@given(callbacks())
def test_every_route_round_trips_within_telegrams_64_bytes(case: tuple[Route, tuple[str, ...]]) -> None:
    route, args = case
    data = encode(route, *args)
    assert len(data.encode()) <= MAX_BYTES
    decoded = decode(data)
    assert decoded is not None and decoded.route is route and decoded.args == args


@given(st.text(max_size=80))
def test_arbitrary_data_never_decodes_to_something_unexpected(data: str) -> None:
    decoded = decode(data)
    if decoded is not None:
        assert encode(decoded.route, *decoded.args) == data


@pytest.mark.parametrize(
    "data",
    [
        "",
        "2|pv|1",
        "|pv|1",
        "1|pv",
        "1|pv|1|2",
        "1|pv|-1",
        "1|pv|01",
        "1|pv|1 ",
        "1|xx|1",
        "1|tt|bybit",
        "1|ok|short",
        "1|" + "a" * 70,
    ],
)
def test_forged_truncated_or_older_data_is_refused(data: str) -> None:
    assert decode(data) is None


def test_arguments_of_the_wrong_kind_are_never_written() -> None:
    with pytest.raises(ValueError, match="not a INT"):
        R.POSITION("abc")
    with pytest.raises(ValueError, match="takes 1 arguments"):
        R.POSITION()
    assert not fits(R.STRATEGY, "A" * 40)
    assert R.POSITION(12) == f"{VERSION}|pv|12"


def test_a_confirmation_works_once_in_its_chat_while_fresh() -> None:
    now = [0.0]
    confirmations = Confirmations(ttl=60, clock=lambda: now[0])
    token = confirmations.issue("close_all", chat_id=1, count=3)
    assert decode(R.CONFIRM(token)) is not None
    assert confirmations.take(token, chat_id=2) is None  # another chat cannot use it
    assert confirmations.take(token, chat_id=1, action="key_delete") is None  # nor another action
    taken = confirmations.take(token, chat_id=1, action="close_all")
    assert taken is not None and taken.payload == {"count": 3}
    assert confirmations.take(token, chat_id=1) is None  # used

    late = confirmations.issue("close_all", chat_id=1)
    now[0] = 61
    assert confirmations.take(late, chat_id=1) is None  # expired

    declined = confirmations.issue("close_all", chat_id=1)
    assert confirmations.discard(declined, chat_id=1)
    assert confirmations.take(declined, chat_id=1) is None


def test_every_button_confirmation_and_typed_input_has_a_handler() -> None:
    registry = build_registry(subscription, wallet)
    special = {R.MENU, R.CONFIRM, R.CONFIRM_CHOICE, R.DECLINE}
    assert {route.code for route in ROUTES if route not in special} == set(registry.callbacks)
    assert set(registry.sections) == set(Section)
    source = "\n".join(
        path.read_text() for path in (Path(__file__).resolve().parents[2] / "src/elcaro/bot").rglob("*.py")
    )
    assert set(re.findall(r'confirmations\.issue\(\s*"([a-z_]+)"', source)) == set(registry.confirms)
    assert set(re.findall(r'\.expect\(\s*"([a-z_]+)"', source)) == set(registry.inputs)
