"""Settings: validation with ranges in the messages, and resolution across the four levels."""

from datetime import time
from decimal import Decimal as D
from typing import Any

import pytest

from elcaro.models import Exchange, PositionSide
from elcaro.models.user import SettingsKey, SettingsScope, UserSettings
from elcaro.trading.settings import (
    DEFAULTS,
    DcaLeg,
    Direction,
    DistributionKind,
    PartialTpStep,
    SettingsError,
    SettingsPatch,
    TradingSettings,
    lookup_order,
    resolve,
    resolve_for,
)

# Four different valid values per field, one for each level (strategy×side, strategy, exchange, global).
LEVEL_VALUES: dict[str, tuple[Any, Any, Any, Any]] = {
    "enabled": (True, False, True, False),
    "direction": ("long", "short", "both", "short"),
    "risk_pct": ("0.5", "1.5", "2", "3"),
    "sl_pct": ("1", "2", "4", "5"),
    "tp_pct": ("2", "3", None, "10"),
    "leverage": (3, 10, 20, 50),
    "leverage_mode": ("fixed", "signal", "fixed", "signal"),
    "order_type": ("limit", "market", "limit", "market"),
    "limit_offset_pct": ("0.1", "-0.2", "0.3", "1"),
    "entry_distribution": ("equal", "front_loaded", [50, 30, 20], "back_loaded"),
    "zone_legs": (2, 4, 5, 6),
    "tp_distribution": ([40, 60], "equal", "signal", "front_loaded"),
    "partial_tp_steps": (
        [{"profit_pct": 1, "close_pct": 50}],
        [],
        [{"profit_pct": 2, "close_pct": 25}, {"profit_pct": 4, "close_pct": 25}],
        [{"profit_pct": 5, "close_pct": 100}],
    ),
    "break_even_after_tp": (1, 2, None, 3),
    "break_even_at_pct": ("1", None, "2", "3"),
    "break_even_offset_pct": ("0.1", "0.2", "0", "0.5"),
    "dca_legs": (
        [{"offset_pct": 1, "size_multiplier": 1}],
        [],
        [{"offset_pct": 2, "size_multiplier": "1.5"}, {"offset_pct": 4, "size_multiplier": 2}],
        [{"offset_pct": 3, "size_multiplier": "0.5"}],
    ),
    "dca_reprice_targets": (True, False, True, False),
    "trailing_type": ("atr", "moving_target", "none", "moving_target"),
    "atr_period": (7, 14, 21, 50),
    "atr_multiplier": ("1", "2", "2.5", "3"),
    "atr_trigger_pct": ("0", "1", "6", "10"),
    "max_open_positions": (1, 2, 10, 20),
    "cooldown_minutes": (0, 15, 60, 120),
    "coin_group": (["btc"], ["ETH", "SOL"], [], ["1000PEPE"]),
    "blacklist": ([], ["DOGE"], ["XRP", "ADA"], ["LUNA"]),
    "min_quality": ("A", "B+", None, "C-"),
    "daily_loss_limit_pct": ("2", "5", None, "10"),
    "auto_close_at": ("21:00", "00:00", None, "23:59"),
    "max_hold_minutes": (60, 240, None, 1440),
}


# Defaults unlike any global value, so that falling through to them is visible.
TEST_DEFAULTS = TradingSettings.parse({field: values[0] for field, values in LEVEL_VALUES.items()})


def test_the_table_covers_every_field() -> None:
    assert set(LEVEL_VALUES) == set(TradingSettings.model_fields) == set(SettingsPatch.model_fields)


@pytest.mark.parametrize("field", sorted(LEVEL_VALUES))
@pytest.mark.parametrize("lowest_set", [0, 1, 2, 3, 4], ids=["strategy_side", "strategy", "exchange", "global", "none"])
def test_each_field_resolves_from_the_most_specific_level_that_sets_it(field: str, lowest_set: int) -> None:
    values = LEVEL_VALUES[field]
    # Levels more specific than `lowest_set` set something else: the field falls through to `lowest_set`.
    other = {"atr_period": 9} if field != "atr_period" else {"zone_legs": 9}
    levels = [{field: values[i]} if i >= lowest_set else other for i in range(4)]
    settings = resolve(levels, TEST_DEFAULTS)
    if lowest_set == 4:
        want = getattr(TEST_DEFAULTS, field)
    else:
        want = getattr(SettingsPatch.parse({field: values[lowest_set]}), field)
        # Each level's value differs from the next one's (and the global one from the defaults).
        assert want != getattr(SettingsPatch.parse({field: values[(lowest_set + 1) % 4]}), field)
    assert getattr(settings, field) == want


def test_unrelated_fields_keep_their_defaults() -> None:
    settings = resolve([{"risk_pct": 2}], DEFAULTS)
    assert settings.model_dump(exclude={"risk_pct"}) == DEFAULTS.model_dump(exclude={"risk_pct"})


def test_explicit_none_switches_a_feature_off_at_a_level() -> None:
    levels: list[dict[str, Any]] = [{}, {"break_even_after_tp": None}, {}, {"break_even_after_tp": 2}]
    assert resolve(levels).break_even_after_tp is None
    assert resolve([{}, {}, {}, {"break_even_after_tp": 2}]).break_even_after_tp == 2


def test_resolve_for_a_user_picks_the_right_blocks() -> None:
    def block(key: SettingsKey, **values: Any) -> UserSettings:
        return UserSettings(user_id=1, key=key, values=values)

    stored = [
        block(SettingsKey(SettingsScope.GLOBAL), risk_pct="1", sl_pct="5", leverage=3, enabled=False),
        block(SettingsKey(SettingsScope.EXCHANGE, exchange=Exchange.BYBIT), sl_pct="4", leverage=7),
        block(SettingsKey(SettingsScope.EXCHANGE, exchange=Exchange.BINANCE), sl_pct="9"),
        block(SettingsKey(SettingsScope.STRATEGY, strategy="elcaro"), enabled=True, risk_pct="2"),
        block(SettingsKey(SettingsScope.STRATEGY, strategy="scalper"), risk_pct="9"),
        block(SettingsKey(SettingsScope.STRATEGY_SIDE, strategy="elcaro", side=PositionSide.SHORT), risk_pct="0.5"),
        block(SettingsKey(SettingsScope.STRATEGY_SIDE, strategy="elcaro", side=PositionSide.LONG), leverage=2),
    ]
    short = resolve_for(stored, strategy="elcaro", side=PositionSide.SHORT, exchange=Exchange.BYBIT)
    assert (short.enabled, short.risk_pct, short.sl_pct, short.leverage) == (True, D("0.5"), D(4), 7)
    long = resolve_for(stored, strategy="elcaro", side=PositionSide.LONG, exchange=Exchange.BINANCE)
    assert (long.enabled, long.risk_pct, long.sl_pct, long.leverage) == (True, D(2), D(9), 2)
    other = resolve_for(stored, strategy="oi", side=PositionSide.LONG, exchange=Exchange.HYPERLIQUID)
    assert (other.enabled, other.risk_pct, other.sl_pct, other.leverage) == (False, D(1), D(5), 3)


def test_lookup_order_is_most_specific_first() -> None:
    keys = lookup_order("oi", PositionSide.LONG, Exchange.BYBIT)
    assert [key.scope for key in keys] == list(SettingsScope)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"risk_pct": 25}, "risk_pct must be between 0.01 and 10, got 25"),
        ({"risk_pct": "0.001"}, "risk_pct must be between 0.01 and 10, got 0.001"),
        ({"risk_pct": "lots"}, "risk_pct must be a number between 0.01 and 10, got 'lots'"),
        ({"risk_pct": True}, "risk_pct must be a number between 0.01 and 10, got True"),
        ({"risk_pct": None}, "risk_pct cannot be empty: leave it out to use the value of the level below"),
        ({"sl_pct": 60}, "sl_pct must be between 0.1 and 50, got 60"),
        ({"tp_pct": 0}, "tp_pct must be between 0.1 and 500, got 0"),
        ({"leverage": 200}, "leverage must be between 1 and 125, got 200"),
        ({"leverage": "2.5"}, "leverage must be a whole number between 1 and 125, got 2.5"),
        ({"limit_offset_pct": -6}, "limit_offset_pct must be between -5 and 5, got -6"),
        ({"zone_legs": 11}, "zone_legs must be between 1 and 10, got 11"),
        ({"break_even_after_tp": 0}, "break_even_after_tp must be between 1 and 20, got 0"),
        ({"break_even_at_pct": 101}, "break_even_at_pct must be between 0.1 and 100, got 101"),
        ({"break_even_offset_pct": -1}, "break_even_offset_pct must be between 0 and 10, got -1"),
        ({"atr_period": 1}, "atr_period must be between 2 and 200, got 1"),
        ({"atr_multiplier": 25}, "atr_multiplier must be between 0.1 and 20, got 25"),
        ({"atr_trigger_pct": 150}, "atr_trigger_pct must be between 0 and 100, got 150"),
        ({"max_open_positions": 0}, "max_open_positions must be between 1 and 100, got 0"),
        ({"cooldown_minutes": 20000}, "cooldown_minutes must be between 0 and 10080, got 20000"),
        ({"daily_loss_limit_pct": "0.05"}, "daily_loss_limit_pct must be between 0.1 and 100, got 0.05"),
        ({"max_hold_minutes": 50000}, "max_hold_minutes must be between 1 and 43200, got 50000"),
        ({"enabled": "yes"}, "enabled must be true or false, got 'yes'"),
        ({"direction": "up"}, "direction must be one of long, short, both, got 'up'"),
        ({"order_type": "stop"}, "order_type must be one of market, limit, got 'stop'"),
        ({"leverage_mode": 1}, "leverage_mode must be one of signal, fixed, got 1"),
        ({"trailing_type": "chandelier"}, "trailing_type must be one of none, moving_target, atr, got 'chandelier'"),
        (
            {"entry_distribution": "random"},
            "entry_distribution must be one of signal, equal, front_loaded, back_loaded or a list of 1–20 weights, "
            "got 'random'",
        ),
        ({"tp_distribution": [50, 0]}, "tp_distribution weights must each be between 0.01 and 100, got 0 at 2"),
        (
            {"partial_tp_steps": [{"profit_pct": 2, "close_pct": 0.5}]},
            "partial_tp_steps[0].close_pct must be between 1 and 100, got 0.5",
        ),
        (
            {"partial_tp_steps": [{"profit_pct": 2, "close_pct": 60}, {"profit_pct": 3, "close_pct": 60}]},
            "partial_tp_steps must close at most 100% in all, got 120%",
        ),
        (
            {"partial_tp_steps": [{"profit_pct": 3, "close_pct": 10}, {"profit_pct": 2, "close_pct": 10}]},
            "partial_tp_steps must be in order of rising profit_pct",
        ),
        (
            {"dca_legs": [{"offset_pct": 60, "size_multiplier": 1}]},
            "dca_legs[0].offset_pct must be between 0.1 and 50, got 60",
        ),
        (
            {"dca_legs": [{"offset_pct": 1, "size_multiplier": 11}]},
            "dca_legs[0].size_multiplier must be between 0.1 and 10, got 11",
        ),
        ({"dca_legs": [{"offset_pct": 1}]}, "dca_legs[0].size_multiplier is required"),
        (
            {"dca_legs": [{"offset_pct": 2, "size_multiplier": 1}, {"offset_pct": 1, "size_multiplier": 1}]},
            "dca_legs must be in order of rising offset_pct",
        ),
        ({"coin_group": "BTC"}, "coin_group must be a list of coins such as BTC, got 'BTC'"),
        ({"blacklist": ["BTC/USDT"]}, "blacklist takes coins such as BTC or 1000PEPE, got 'BTC/USDT'"),
        ({"min_quality": "S"}, "min_quality must be a grade from A to F (optionally with + or -), got 'S'"),
        ({"auto_close_at": "24:00"}, "auto_close_at must be a time of day from 00:00 to 23:59 (UTC), got '24:00'"),
        ({"colour": "red"}, "colour is not a setting"),
    ],
)
def test_invalid_values_are_refused_with_the_allowed_range(values: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        SettingsPatch.parse(values)
    assert str(caught.value) == message
    assert caught.value.field == next(iter(values))


def test_an_invalid_value_at_any_level_stops_resolution() -> None:
    with pytest.raises(SettingsError, match=r"risk_pct must be between 0\.01 and 10, got 25"):
        resolve([{}, {}, {"risk_pct": 25}, {}])


def test_every_problem_is_listed() -> None:
    with pytest.raises(SettingsError) as caught:
        SettingsPatch.parse({"risk_pct": 25, "leverage": 0})
    assert [field for field, _ in caught.value.problems] == ["risk_pct", "leverage"]


def test_values_from_different_levels_must_agree() -> None:
    with pytest.raises(SettingsError, match=r"break_even_at_pct \(1\) must be above break_even_offset_pct \(2\)"):
        resolve([{"break_even_at_pct": 1}, {}, {}, {"break_even_offset_pct": 2}])


def test_normalised_values() -> None:
    patch = SettingsPatch.parse(
        {
            "direction": "LONG",
            "coin_group": [" btc", "ETH", "btc"],
            "min_quality": " b+ ",
            "auto_close_at": "9:30",
            "tp_distribution": [50, "30", 20.5],
        }
    )
    assert patch.direction is Direction.LONG
    assert patch.coin_group == ("BTC", "ETH")
    assert patch.min_quality == "B+"
    assert patch.auto_close_at == time(9, 30)
    assert patch.tp_distribution == (D(50), D(30), D("20.5"))


def test_stored_values_are_json_native_and_round_trip() -> None:
    patch = SettingsPatch.parse(
        {
            "risk_pct": "1.25",
            "entry_distribution": "front_loaded",
            "dca_legs": [{"offset_pct": 2, "size_multiplier": "1.5"}],
            "partial_tp_steps": [{"profit_pct": 3, "close_pct": 50}],
            "auto_close_at": "21:05",
            "break_even_after_tp": None,
        }
    )
    values = patch.to_values()
    assert values == {
        "risk_pct": "1.25",
        "entry_distribution": "front_loaded",
        "dca_legs": [{"offset_pct": "2", "size_multiplier": "1.5"}],
        "partial_tp_steps": [{"profit_pct": "3", "close_pct": "50"}],
        "auto_close_at": "21:05",
        "break_even_after_tp": None,
    }
    assert SettingsPatch.parse(values) == patch
    assert patch.dca_legs == (DcaLeg(offset_pct=D(2), size_multiplier=D("1.5")),)
    assert patch.partial_tp_steps == (PartialTpStep(profit_pct=D(3), close_pct=D(50)),)


def test_defaults() -> None:
    assert TradingSettings() == DEFAULTS
    assert (DEFAULTS.enabled, DEFAULTS.risk_pct, DEFAULTS.sl_pct, DEFAULTS.leverage) == (False, D(1), D(3), 5)
    assert DEFAULTS.entry_distribution is DistributionKind.SIGNAL
    with pytest.raises(ValueError, match="frozen"):
        DEFAULTS.risk_pct = D(2)  # type: ignore[misc]
