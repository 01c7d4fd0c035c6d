"""Grid search: every combination runs (on a process pool), is ranked, and a bad field costs nothing."""

from __future__ import annotations

import itertools
import math

import pytest
from backtest_builders import head, real

from elcaro.backtest import BacktestConfig, combinations, grid_search, parse_axis, run_backtest, with_values
from elcaro.models.errors import ValidationError
from elcaro.strategies.breakout.preset import load_preset
from elcaro.strategies.donchian import DonchianSettings

UNIVERSE = {"ETH/BTC": real("ETH_BTC-5m.csv"), "LTC/BTC": real("LTC_BTC-5m.csv"), "XMR/BTC": real("XMR_BTC-5m.csv")}


def test_every_combination_runs_and_comes_back_ranked() -> None:
    axes = [parse_axis("period=20,40"), parse_axis("stop_pct=0.01,0.02"), parse_axis("allow_short=false,true")]
    runs = grid_search(UNIVERSE, DonchianSettings(), axes, BacktestConfig(), metric="sharpe", workers=2)

    assert [run.rank for run in runs] == list(range(1, 9))
    expected = [
        {"period": p, "stop_pct": s, "allow_short": a}
        for p, s, a in itertools.product((20, 40), (0.01, 0.02), (False, True))
    ]
    assert sorted((run.index, dict(run.params)) for run in runs) == list(enumerate(expected))
    sharpes = [run.metrics.sharpe for run in runs]
    assert sharpes == sorted(sharpes, reverse=True)
    # Each row is the backtest of its own settings, not of a neighbour's.
    for run in runs:
        alone = run_backtest(UNIVERSE, DonchianSettings(**run.params), BacktestConfig())
        assert run.metrics == alone.metrics


def test_the_pool_and_a_single_process_agree() -> None:
    axes = [parse_axis("target_pct=0.02,0.04,0.08")]
    parallel = grid_search(UNIVERSE, DonchianSettings(), axes, BacktestConfig(), metric="max_drawdown", workers=2)
    serial = grid_search(UNIVERSE, DonchianSettings(), axes, BacktestConfig(), metric="max_drawdown", workers=1)
    assert parallel == serial
    drawdowns = [run.metrics.max_drawdown for run in parallel]
    assert drawdowns == sorted(drawdowns)  # lowest first for a drawdown


def test_progress_is_reported_for_every_combination() -> None:
    seen: list[tuple[int, int]] = []
    grid_search(
        UNIVERSE,
        DonchianSettings(),
        [parse_axis("period=10,20,30")],
        BacktestConfig(),
        workers=1,
        progress=lambda *a: seen.append(a),
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_a_breakout_preset_grid_varies_dotted_fields() -> None:
    preset = load_preset("liquid")
    axes = [parse_axis("signals.min_volume_surge=1.5,2.5"), parse_axis("scanner.min_volume_24h=0")]
    grid = combinations(preset, axes)
    assert [(c.signals.min_volume_surge, c.scanner.min_volume_24h) for _, c in grid] == [(1.5, 0.0), (2.5, 0.0)]
    universe = {symbol: head(candles, 2000) for symbol, candles in list(UNIVERSE.items())[:2]}
    runs = grid_search(universe, preset, axes, BacktestConfig(), metric="total_return", workers=2)
    assert sorted(run.params["signals.min_volume_surge"] for run in runs) == [1.5, 2.5]
    assert not math.isnan(runs[0].metrics.total_return)


@pytest.mark.parametrize(
    ("base", "spec", "field"),
    [
        (DonchianSettings(), "perod=10,20", "perod"),
        (load_preset("liquid"), "signals.volume_surge_min=1.5,2.0", "signals.volume_surge_min"),
        (load_preset("liquid"), "signal.min_volume_surge=1.5", "signal.min_volume_surge"),
        (load_preset("liquid"), "signals.tp1_r.x=1", "signals.tp1_r.x"),
    ],
)
def test_an_unknown_field_is_refused_by_name_before_anything_runs(base, spec: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        grid_search(UNIVERSE, base, [parse_axis(spec)], BacktestConfig(), workers=2)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("base", "values", "field"),
    [
        (DonchianSettings(), {"period": 1}, "period"),
        (DonchianSettings(), {"stop_pct": "wide"}, "stop_pct"),
        (load_preset("liquid"), {"signals.tp1_r": -1.0}, "signals.tp1_r"),
        (load_preset("liquid"), {"signals.tp2_r": 0.5}, "signals.tp2_r"),  # must exceed tp1_r
    ],
)
def test_a_bad_value_is_refused_naming_the_field(base, values, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        with_values(base, values)
    assert caught.value.field == field


def test_axes_are_read_as_json_values() -> None:
    assert parse_axis("a.b=1, 2.5 ,true,wide").values == (1, 2.5, True, "wide")
    for bad in ("period", "period=", "=1,2", "period=1,1"):
        with pytest.raises(ValidationError):
            parse_axis(bad)
    with pytest.raises(ValidationError) as caught:
        grid_search(UNIVERSE, DonchianSettings(), [parse_axis("period=10")], BacktestConfig(), metric="luck")
    assert caught.value.field == "rank_by"
