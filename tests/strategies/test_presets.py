"""Preset files: every shipped one loads and states every threshold; a bad one is refused with field and reason."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from elcaro.models.errors import NotFoundError, ValidationError
from elcaro.strategies.breakout.preset import BreakoutPreset, PresetError, list_presets, load_preset, parse_preset

PRESETS_DIR = Path(__file__).resolve().parents[2] / "src" / "elcaro" / "strategies" / "breakout" / "presets"
SHIPPED = ("conservative", "liquid", "retest", "scalping", "swing")


def liquid_data() -> dict[str, Any]:
    return tomllib.loads((PRESETS_DIR / "liquid.toml").read_text(encoding="utf-8"))


def refusal(data: dict[str, Any]) -> PresetError:
    with pytest.raises(PresetError) as caught:
        parse_preset(data)
    return caught.value


def keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every dotted leaf field of ``model``."""
    found = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found |= keys(annotation, f"{prefix}{name}.")
        else:
            found.add(prefix + name)
    return found


def flatten(table: dict[str, Any], prefix: str = "") -> set[str]:
    found = set()
    for name, value in table.items():
        if isinstance(value, dict):
            found |= flatten(value, f"{prefix}{name}.")
        else:
            found.add(prefix + name)
    return found


def test_the_shipped_presets_are_listed() -> None:
    assert tuple(list_presets()) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_preset_loads_and_sets_every_threshold(name: str) -> None:
    preset = load_preset(name)
    assert preset.name == name
    assert preset.description
    # Written out in the file, not filled in by a default.
    assert flatten(tomllib.loads((PRESETS_DIR / f"{name}.toml").read_text(encoding="utf-8"))) == keys(BreakoutPreset)
    assert preset.warmup_bars >= preset.levels.lookback


def test_presets_differ_where_their_names_say() -> None:
    retest, scalping, swing = load_preset("retest"), load_preset("scalping"), load_preset("swing")
    conservative, liquid = load_preset("conservative"), load_preset("liquid")
    assert (retest.signals.momentum, retest.signals.retest) == (False, True)
    assert scalping.timeframe_ms < liquid.timeframe_ms < swing.timeframe_ms
    assert conservative.risk.risk_per_trade_pct < liquid.risk.risk_per_trade_pct < swing.risk.risk_per_trade_pct
    assert conservative.risk.max_concurrent_positions < liquid.risk.max_concurrent_positions


def test_a_preset_loads_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text((PRESETS_DIR / "liquid.toml").read_text(encoding="utf-8").replace('"liquid"', '"mine"', 1))
    assert load_preset(path).name == "mine"
    assert load_preset(str(path)).name == "mine"


def test_an_unknown_preset_or_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="shipped presets: conservative, liquid"):
        load_preset("aggressive")
    with pytest.raises(NotFoundError):
        load_preset(tmp_path / "missing.toml")


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n[levels\n')
    with pytest.raises(ValidationError) as caught:
        load_preset(path)
    assert caught.value.field == str(path)
    assert "not valid TOML" in str(caught.value)


def test_an_unknown_key_is_refused_with_its_path() -> None:
    data = liquid_data()
    data["levels"]["lookbak"] = 300
    error = refusal(data)
    assert error.field == "levels.lookbak"
    assert "is not a setting here" in error.reason and "lookback" in error.reason


def test_an_unknown_section_and_a_nested_unknown_key_are_refused() -> None:
    data = liquid_data()
    data["exits"] = {"tp1_r": 1.0}
    assert refusal(data).field == "exits"
    data = liquid_data()
    data["scanner"]["weights"]["momentum"] = 1.0
    assert refusal(data).field == "scanner.weights.momentum"


def test_a_missing_threshold_is_refused() -> None:
    data = liquid_data()
    del data["risk"]["daily_loss_limit_pct"]
    error = refusal(data)
    assert (error.field, error.reason) == ("risk.daily_loss_limit_pct", "is required")


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("levels", "lookback", "300", "must be an integer, got '300'"),
        ("levels", "lookback", 288.5, "must be an integer, got 288.5"),
        ("signals", "tp1_r", True, "must be a number, got True"),
        ("signals", "momentum", 1, "must be true or false, got 1"),
        ("signals", "stop_mode", "swing", "must be 'structure' or 'atr', got 'swing'"),
        ("management", "exit_on_activity_drop", "yes", "must be true or false, got 'yes'"),
    ],
)
def test_a_wrong_type_is_refused_with_the_field(section: str, key: str, value: object, expected: str) -> None:
    data = liquid_data()
    data[section][key] = value
    error = refusal(data)
    assert (error.field, error.reason) == (f"{section}.{key}", expected)


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("levels", "lookback", 10, "must be between 20 and 10000, got 10"),
        ("risk", "risk_per_trade_pct", 0.0, "must be above 0 and at most 10, got 0.0"),
        ("risk", "risk_per_trade_pct", 25.0, "must be above 0 and at most 10, got 25.0"),
        ("risk", "min_position_notional", -1.0, "must be at least 0, got -1.0"),
        ("management", "tp1_fraction", 1.5, "must be above 0 and at most 1, got 1.5"),
        ("scanner", "max_spread_bps", 0.0, "must be above 0 and at most 1000, got 0.0"),
        ("activity", "drop_threshold", 1.0, "must be above 0 and below 1, got 1.0"),
    ],
)
def test_an_out_of_range_value_is_refused_with_the_range(section: str, key: str, value: object, expected: str) -> None:
    data = liquid_data()
    data[section][key] = value
    error = refusal(data)
    assert (error.field, error.reason) == (f"{section}.{key}", expected)
    assert str(error) == f"{section}.{key}: {expected}"


def test_not_a_number_is_refused() -> None:
    data = liquid_data()
    data["levels"]["merge_atr"] = float("nan")
    assert refusal(data).field == "levels.merge_atr"


@pytest.mark.parametrize(
    ("section", "changes", "field", "reason"),
    [
        ("signals", {"tp1_r": 3.0, "tp2_r": 2.0}, "signals.tp2_r", "must be above tp1_r (3.0), got 2.0"),
        ("signals", {"momentum": False, "retest": False}, "signals.momentum", "must be true when retest is false"),
        ("signals", {"retest_min_bars": 30}, "signals.retest_max_bars", "must be at least retest_min_bars (30)"),
        ("management", {"tp1_fraction": 0.6, "tp2_fraction": 0.5}, "management.tp2_fraction", "must be at most 1"),
        ("levels", {"donchian_period": 400}, "levels.donchian_period", "must be at most lookback (288)"),
        ("scanner", {"max_atr_pct": 0.1}, "scanner.max_atr_pct", "must be above min_atr_pct"),
    ],
)
def test_inconsistent_values_name_the_field(section: str, changes: dict[str, Any], field: str, reason: str) -> None:
    data = liquid_data()
    data[section].update(changes)
    error = refusal(data)
    assert error.field == field
    assert reason in error.reason


def test_an_unknown_timeframe_is_refused() -> None:
    data = liquid_data()
    data["timeframe"] = "7m"
    error = refusal(data)
    assert error.field == "timeframe"
    assert "must be one of 1m, 3m, 5m" in error.reason


def test_every_problem_is_listed() -> None:
    data = liquid_data()
    data["levels"]["lookback"] = 1
    data["risk"]["max_concurrent_positions"] = 0
    error = refusal(data)
    assert [field for field, _ in error.problems] == ["levels.lookback", "risk.max_concurrent_positions"]
    assert "also risk.max_concurrent_positions" in str(error)


def test_a_file_error_says_which_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text((PRESETS_DIR / "liquid.toml").read_text(encoding="utf-8").replace("tp1_r = 1.0", "tp1_r = -1.0"))
    with pytest.raises(PresetError) as caught:
        load_preset(path)
    assert caught.value.field == "signals.tp1_r"
    assert str(path) in str(caught.value)


def test_with_values_varies_a_preset_and_validates_it() -> None:
    liquid = load_preset("liquid")
    varied = liquid.with_values({"levels.lookback": 400, "risk.risk_per_trade_pct": 1})
    assert (varied.levels.lookback, varied.risk.risk_per_trade_pct) == (400, 1.0)
    assert varied.signals == liquid.signals
    with pytest.raises(PresetError) as caught:
        liquid.with_values({"levels.lookback": 5})
    assert caught.value.field == "levels.lookback"
    with pytest.raises(PresetError) as caught:
        liquid.with_values({"levels.look_back": 300})
    assert caught.value.field == "levels.look_back"
    with pytest.raises(PresetError) as caught:
        liquid.with_values({"exits.tp1_r": 2})
    assert caught.value.field == "exits"


def test_a_preset_is_frozen() -> None:
    preset = load_preset("liquid")
    with pytest.raises(ValueError, match="frozen"):
        preset.levels.lookback = 10  # type: ignore[misc]
