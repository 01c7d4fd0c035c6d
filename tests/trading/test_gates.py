"""Each gate alone: the snapshot passes every gate but the one under test."""

from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import pytest
from trading_builders import DEMO, LIVE, PAPER, settings, signal

from elcaro.models import PositionSide, Target
from elcaro.trading.gates import Blocked, GateCode, GateSnapshot, base_asset, check_gates, grade_rank
from elcaro.trading.licence import ALLOW_ALL, Decision

NOW = 1_732_190_400_000
OPEN = GateSnapshot(
    now=NOW,
    global_paused=False,
    user_paused=False,
    user_may_trade=True,
    has_credentials=True,
    live_opted_in=False,
    open_positions=0,
    position_symbols=frozenset(),
    open_order_symbols=frozenset(),
    last_closed_at={},
    day_start_equity=D(1000),
    loss_today=D(0),
)


class DenyAll:
    def allows(self, user_id: int, strategy: str, target: Target) -> Decision:
        return Decision(allowed=False, reason=f"user {user_id} has no licence for {strategy}")


def test_a_clean_snapshot_passes() -> None:
    assert check_gates(signal(), settings(), DEMO, 1, OPEN) is None


@pytest.mark.parametrize(
    ("snapshot_changes", "setting_values", "code", "message"),
    [
        ({"global_paused": True}, {}, GateCode.GLOBAL_PAUSE, "trading is paused for everyone"),
        (
            {"user_may_trade": False},
            {},
            GateCode.ACCOUNT_NOT_ALLOWED,
            "the account is not approved, is banned or has not accepted the terms",
        ),
        ({"user_paused": True}, {}, GateCode.USER_PAUSE, "the user paused copy trading"),
        ({}, {"enabled": False}, GateCode.STRATEGY_DISABLED, "strategy elcaro is not enabled"),
        ({}, {"direction": "short"}, GateCode.DIRECTION, "long signals are filtered out (direction short)"),
        ({}, {"blacklist": ["BTC"]}, GateCode.BLACKLISTED, "BTC is on the blacklist"),
        ({}, {"coin_group": ["ETH", "SOL"]}, GateCode.NOT_IN_COIN_GROUP, "BTC is not in the coin group"),
        (
            {"day_start_equity": D(1000), "loss_today": D(50)},
            {"daily_loss_limit_pct": 5},
            GateCode.DAILY_LOSS_LIMIT,
            "daily loss limit reached: lost 50.00 of 50.00 allowed (5% of 1000.00); new entries resume at 00:00 UTC",
        ),
        (
            {"position_symbols": frozenset({"BTC/USDT:USDT"})},
            {},
            GateCode.IN_POSITION,
            "already in a position on BTC/USDT:USDT",
        ),
        (
            {"open_order_symbols": frozenset({"BTC/USDT:USDT"})},
            {},
            GateCode.OPEN_ORDERS,
            "orders are already open on BTC/USDT:USDT",
        ),
        (
            {"open_positions": 3},
            {"max_open_positions": 3},
            GateCode.MAX_POSITIONS,
            "3 positions open, the maximum is 3",
        ),
        (
            {"last_closed_at": {"BTC/USDT:USDT": NOW - 12 * 60_000}},
            {"cooldown_minutes": 30},
            GateCode.COOLDOWN,
            "BTC/USDT:USDT closed 12 min ago; the cool-down is 30 min",
        ),
    ],
)
def test_each_gate_blocks_with_its_code(
    snapshot_changes: dict[str, Any], setting_values: dict[str, Any], code: GateCode, message: str
) -> None:
    blocked = check_gates(signal(), settings(**setting_values), DEMO, 1, replace(OPEN, **snapshot_changes))
    assert blocked == Blocked(code, message)


def test_licence_is_asked_and_its_reason_shown() -> None:
    blocked = check_gates(signal(), settings(), DEMO, 7, OPEN, DenyAll())
    assert blocked == Blocked(GateCode.LICENCE, "user 7 has no licence for elcaro")


def test_the_default_licence_policy_allows_everything() -> None:
    assert ALLOW_ALL.allows(1, "anything", LIVE) == Decision(allowed=True)


def test_live_targets_need_an_explicit_opt_in() -> None:
    blocked = check_gates(signal(), settings(), LIVE, 1, OPEN)
    assert blocked == Blocked(GateCode.LIVE_NOT_OPTED_IN, "bybit:live trades real money and the user has not opted in")
    assert check_gates(signal(), settings(), LIVE, 1, replace(OPEN, live_opted_in=True)) is None


def test_credentials_are_needed_except_on_paper() -> None:
    no_keys = replace(OPEN, has_credentials=False)
    assert check_gates(signal(), settings(), DEMO, 1, no_keys) == Blocked(
        GateCode.NO_CREDENTIALS, "no API keys for bybit:demo"
    )
    assert check_gates(signal(), settings(), PAPER, 1, no_keys) is None


def test_direction_both_and_matching_pass() -> None:
    short = signal(side=PositionSide.SHORT, stop="51000", targets=("48000",))
    assert check_gates(short, settings(direction="short"), DEMO, 1, OPEN) is None
    assert check_gates(short, settings(direction="both"), DEMO, 1, OPEN) is None


def test_coin_group_admits_its_members() -> None:
    assert check_gates(signal(), settings(coin_group=["BTC", "ETH"]), DEMO, 1, OPEN) is None


@pytest.mark.parametrize(
    ("quality", "minimum", "passes"),
    [("A", "B", True), ("B", "B", True), ("B-", "B", False), ("C+", "B-", False), ("A+", "A", True), (None, "A", True)],
)
def test_min_quality_compares_grades(quality: str | None, minimum: str, passes: bool) -> None:
    blocked = check_gates(signal(quality=quality), settings(min_quality=minimum), DEMO, 1, OPEN)
    if passes:
        assert blocked is None
    else:
        assert blocked == Blocked(GateCode.BELOW_MIN_QUALITY, f"quality {quality} is below the minimum {minimum}")


def test_an_unreadable_grade_does_not_pass_a_minimum() -> None:
    blocked = check_gates(signal(quality="gold"), settings(min_quality="C"), DEMO, 1, OPEN)
    assert blocked is not None and blocked.code is GateCode.BELOW_MIN_QUALITY


def test_daily_loss_below_the_limit_passes_and_no_limit_means_no_gate() -> None:
    lost = replace(OPEN, loss_today=D("49.99"))
    assert check_gates(signal(), settings(daily_loss_limit_pct=5), DEMO, 1, lost) is None
    assert check_gates(signal(), settings(), DEMO, 1, replace(OPEN, loss_today=D(999))) is None


def test_cooldown_over_passes() -> None:
    snapshot = replace(OPEN, last_closed_at={"BTC/USDT:USDT": NOW - 30 * 60_000})
    assert check_gates(signal(), settings(cooldown_minutes=30), DEMO, 1, snapshot) is None
    just_closed = replace(OPEN, last_closed_at={"BTC/USDT:USDT": NOW})
    assert check_gates(signal(), settings(cooldown_minutes=0), DEMO, 1, just_closed) is None


def test_other_symbols_do_not_block() -> None:
    busy = replace(
        OPEN,
        position_symbols=frozenset({"ETH/USDT:USDT"}),
        open_order_symbols=frozenset({"SOL/USDT:USDT"}),
        last_closed_at={"ETH/USDT:USDT": NOW},
        open_positions=1,
    )
    assert check_gates(signal(), settings(), DEMO, 1, busy) is None


def test_the_first_failing_gate_wins() -> None:
    everything_wrong = replace(OPEN, global_paused=True, user_paused=True, has_credentials=False)
    blocked = check_gates(signal(), settings(enabled=False), DEMO, 1, everything_wrong)
    assert blocked is not None and blocked.code is GateCode.GLOBAL_PAUSE


def test_codes_are_stable_strings() -> None:
    assert [code.value for code in GateCode] == [
        "global_pause",
        "account_not_allowed",
        "user_pause",
        "strategy_disabled",
        "direction",
        "blacklisted",
        "not_in_coin_group",
        "below_min_quality",
        "licence",
        "live_not_opted_in",
        "no_credentials",
        "daily_loss_limit",
        "in_position",
        "open_orders",
        "max_positions",
        "cooldown",
    ]


def test_helpers() -> None:
    assert base_asset("1000PEPE/USDT:USDT") == "1000PEPE"
    assert grade_rank("A+") > grade_rank("A") > grade_rank("A-") > grade_rank("B+")  # type: ignore[operator]
    assert grade_rank("Z") is None
