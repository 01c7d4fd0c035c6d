"""Scanner and activity settings refuse what a preset must not say, naming the field and the allowed range."""

from __future__ import annotations

import math

import pydantic
import pytest

from elcaro.strategies.breakout.activity import ActivitySettings
from elcaro.strategies.breakout.preset import PresetError, load_preset
from elcaro.strategies.breakout.scanner import COMPONENTS, FILTERS, ScannerSettings, ScoreWeights

VALID: dict[str, object] = {
    "universe_size": 200,
    "top_n": 10,
    "min_volume_24h": 20_000_000,
    "min_open_interest": 5_000_000,
    "min_oi_change_pct": 0,
    "max_spread_bps": 4,
    "min_depth_30bps": 50_000,
    "min_depth_50bps": 150_000,
    "min_trades_per_minute": 30,
    "atr_period": 14,
    "min_atr_pct": 0.3,
    "max_atr_pct": 4,
    "bollinger_period": 20,
    "bollinger_k": 2,
    "min_bb_width_pct": 0.5,
    "max_bb_width_pct": 8,
    "surge_period_5m": 12,
    "min_volume_surge_5m": 1.5,
    "surge_period_1h": 24,
    "min_volume_surge_1h": 1.2,
    "correlation_period": 100,
    "max_btc_correlation": 0.85,
    "max_gaps": 2,
    "max_duplicates": 0,
    "component_clip": 3,
    "weights": dict.fromkeys(COMPONENTS, 1.0),
}


def errors(**changes: object) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(pydantic.ValidationError) as caught:
        ScannerSettings.model_validate(VALID | changes)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


def test_a_complete_table_is_accepted_and_frozen() -> None:
    settings = ScannerSettings.model_validate(VALID)
    assert settings.weights.volume == 1.0
    with pytest.raises(pydantic.ValidationError):
        settings.top_n = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "location", "message"),
    [
        ({"max_atr_pct": 0.3}, ("max_atr_pct",), "must be above min_atr_pct (0.3)"),
        ({"min_bb_width_pct": 9}, ("max_bb_width_pct",), "must be above min_bb_width_pct (9.0)"),
        ({"max_btc_correlation": 1.5}, ("max_btc_correlation",), "less than or equal to 1"),
        ({"max_spread_bps": 0}, ("max_spread_bps",), "greater than 0"),
        ({"min_volume_24h": -1}, ("min_volume_24h",), "greater than or equal to 0"),
        ({"atr_period": 1}, ("atr_period",), "greater than or equal to 2"),
        ({"top_n": 0}, ("top_n",), "greater than or equal to 1"),
        ({"universe_size": "many"}, ("universe_size",), "valid integer"),
        ({"min_volume": 1}, ("min_volume",), "Extra inputs are not permitted"),
        ({"weights": {"volume": 1}}, ("weights", "volatility"), "Field required"),
        ({"weights": dict.fromkeys(COMPONENTS, 0.0)}, ("weights",), "at least one score weight must be above 0"),
        ({"weights": dict.fromkeys(COMPONENTS, 1.0) | {"momentum": 1}}, ("weights", "momentum"), "Extra inputs"),
    ],
)
def test_invalid_values_name_their_field(changes: dict[str, object], location: tuple[str, ...], message: str) -> None:
    found = errors(**changes)
    assert any(loc == location and message in msg for loc, msg in found), found


def test_every_threshold_is_required() -> None:
    missing = {key: value for key, value in VALID.items() if key != "max_gaps"}
    with pytest.raises(pydantic.ValidationError) as caught:
        ScannerSettings.model_validate(missing)
    assert [error["loc"] for error in caught.value.errors()] == [("max_gaps",)]


def test_the_weights_cover_the_components() -> None:
    assert tuple(ScoreWeights.model_fields) == COMPONENTS
    assert FILTERS[0] == "universe" and len(set(FILTERS)) == len(FILTERS)


@pytest.mark.parametrize(
    ("changes", "location", "kind"),
    [
        ({"top_n": "150"}, ("top_n",), "int_type"),
        ({"top_n": True}, ("top_n",), "int_type"),
        ({"top_n": 10.0}, ("top_n",), "int_type"),
        ({"min_volume_24h": "20000000"}, ("min_volume_24h",), "float_type"),
        ({"min_volume_24h": True}, ("min_volume_24h",), "float_type"),
        ({"max_btc_correlation": math.nan}, ("max_btc_correlation",), "finite_number"),
        ({"weights": dict.fromkeys(COMPONENTS, 1.0) | {"depth": "1"}}, ("weights", "depth"), "float_type"),
        ({"weights": dict.fromkeys(COMPONENTS, 1.0) | {"depth": False}}, ("weights", "depth"), "float_type"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_not_converted(
    changes: dict[str, object], location: tuple[str, ...], kind: str
) -> None:
    # Strict like every preset section (strategies/breakout/section.py): an integer still counts as a number.
    with pytest.raises(pydantic.ValidationError) as caught:
        ScannerSettings.model_validate(VALID | changes)
    assert [(error["loc"], error["type"]) for error in caught.value.errors()] == [(location, kind)]


ACTIVITY: dict[str, object] = {
    "windows_s": [60, 300, 900],  # a TOML array arrives as a list
    "index_short_s": 60,
    "index_long_s": 900,
    "drop_threshold": 0.3,
    "min_baseline_trades": 20,
}


def test_activity_windows_may_come_as_a_list_and_are_kept_as_a_tuple() -> None:
    assert ActivitySettings.model_validate(ACTIVITY).windows_s == (60, 300, 900)


@pytest.mark.parametrize(
    ("changes", "location", "kind"),
    [
        ({"windows_s": ["60", 300, 900]}, ("windows_s", 0), "int_type"),
        ({"windows_s": [60, True, 900]}, ("windows_s", 1), "int_type"),
        ({"windows_s": "60"}, ("windows_s",), "tuple_type"),
        ({"index_short_s": "60"}, ("index_short_s",), "int_type"),
        ({"drop_threshold": "0.3"}, ("drop_threshold",), "float_type"),
        ({"drop_threshold": True}, ("drop_threshold",), "float_type"),
        ({"min_baseline_trades": True}, ("min_baseline_trades",), "int_type"),
    ],
)
def test_activity_settings_refuse_the_wrong_type_too(
    changes: dict[str, object], location: tuple[str | int, ...], kind: str
) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        ActivitySettings.model_validate(ACTIVITY | changes)
    assert (location, kind) in [(error["loc"], error["type"]) for error in caught.value.errors()]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("scanner.top_n", "150", "must be an integer, got '150'"),
        ("scanner.min_volume_24h", True, "must be a number, got True"),
        ("scanner.weights.volume", "1", "must be a number, got '1'"),
        ("activity.min_baseline_trades", 20.0, "must be an integer, got 20.0"),
    ],
)
def test_a_preset_names_the_field_given_the_wrong_type(field: str, value: object, reason: str) -> None:
    with pytest.raises(PresetError) as caught:
        load_preset("liquid").with_values({field: value})
    assert caught.value.problems == ((field, reason),)
