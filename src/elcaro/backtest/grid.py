"""Grid search: every combination of some settings fields, backtested in parallel, ranked by one metric.

An axis is written ``dotted.field=value1,value2`` (``signals.volume_surge_min=1.5,2.0`` for a
breakout preset, ``stop_pct=0.01,0.02`` for the Donchian strategy). Values are read as JSON where
they parse (numbers, ``true``/``false``), else as text. Every field is checked against the settings
model and every combination validated *before* anything runs, so a typo costs nothing; the error
names the dotted field.

Combinations run on a process pool (one process per core by default); the candles are handed to
each worker once, when it starts, not once per combination. Results are ranked best first
(``max_drawdown`` lowest first, every other metric highest first; NaN last; ties in grid order).
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import pydantic
from pydantic import BaseModel

from elcaro.backtest.events import Progress
from elcaro.backtest.metrics import LOWER_IS_BETTER, METRIC_NAMES, Metrics
from elcaro.backtest.result import BacktestConfig
from elcaro.backtest.runner import StrategySettings, run_backtest
from elcaro.marketdata import CandleArrays
from elcaro.models.errors import ValidationError
from elcaro.strategies.breakout.preset import BreakoutPreset

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class GridAxis:
    field: str
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class GridRun:
    """One combination's outcome; ``rank`` 1 is the best."""

    rank: int
    index: int
    """Position of the combination in grid order (the first axis varies slowest)."""
    params: Mapping[str, Any]
    metrics: Metrics


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_axis(spec: str) -> GridAxis:
    """Read ``dotted.field=v1,v2,…``."""
    name, sep, values = spec.partition("=")
    name = name.strip()
    if not sep or not name or not values.strip():
        raise ValidationError(f"expected field=value1,value2,…, got {spec!r}", field="grid")
    parsed = tuple(_value(v.strip()) for v in values.split(","))
    if len(set(map(repr, parsed))) != len(parsed):
        raise ValidationError(f"a value is repeated in {spec!r}", field=name)
    return GridAxis(name, parsed)


def check_field(model: type[BaseModel], dotted: str) -> None:
    """Refuse a dotted path that is not a field of ``model`` (or of its sections), naming it."""
    current: type[BaseModel] = model
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        fields = current.model_fields
        if part not in fields:
            where = ".".join(parts[:depth]) or "the settings"
            raise ValidationError(f"unknown field; {where} has: {', '.join(fields)}", field=dotted)
        if depth < len(parts) - 1:
            annotation = fields[part].annotation
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                raise ValidationError(f"{'.'.join(parts[: depth + 1])} is a value, not a section", field=dotted)
            current = annotation


def with_values(base: Model, values: Mapping[str, Any]) -> Model:
    """A validated copy of ``base`` with each dotted field set; a bad value raises naming the field."""
    for dotted in values:
        check_field(type(base), dotted)
    if isinstance(base, BreakoutPreset):
        # The preset's own validation: its errors name the field, the reason and the allowed range.
        return cast(Model, base.with_values(values))
    data = base.model_dump()
    for dotted, value in values.items():
        *sections, last = dotted.split(".")
        node = data
        for section in sections:
            node = node[section]
        node[last] = value
    try:
        return type(base).model_validate(data)
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or ", ".join(values)
        raise ValidationError(f"{error['msg']} (got {error.get('input')!r})", field=where) from None


def combinations(base: Model, axes: Sequence[GridAxis]) -> list[tuple[dict[str, Any], Model]]:
    """Every combination in grid order, each validated; fields are checked before any value."""
    names = [axis.field for axis in axes]
    if len(set(names)) != len(names):
        raise ValidationError("a field appears on two axes", field="grid")
    for name in names:
        check_field(type(base), name)
    result = []
    for values in itertools.product(*(axis.values for axis in axes)):
        params = dict(zip(names, values, strict=True))
        result.append((params, with_values(base, params)))
    return result


def rank(outcomes: Sequence[tuple[int, Mapping[str, Any], Metrics]], metric: str) -> list[GridRun]:
    if metric not in METRIC_NAMES:
        raise ValidationError(f"unknown metric {metric!r} (one of {', '.join(METRIC_NAMES)})", field="rank_by")
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0

    def key(item: tuple[int, Mapping[str, Any], Metrics]) -> tuple[bool, float, int]:
        value = item[2].value(metric)
        return (math.isnan(value), sign * value if not math.isnan(value) else 0.0, item[0])

    ordered = sorted(outcomes, key=key)
    return [GridRun(k + 1, index, params, metrics) for k, (index, params, metrics) in enumerate(ordered)]


_WORKER: dict[str, Any] = {}


def _start_worker(universe: Mapping[str, CandleArrays], config: BacktestConfig) -> None:
    _WORKER["universe"], _WORKER["config"] = universe, config


def _run_one(index: int, settings: StrategySettings) -> tuple[int, Metrics]:
    return index, run_backtest(_WORKER["universe"], settings, _WORKER["config"]).metrics


def grid_search(
    universe: Mapping[str, CandleArrays],
    base: StrategySettings,
    axes: Sequence[GridAxis],
    config: BacktestConfig,
    *,
    metric: str = "sharpe",
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[GridRun]:
    """Backtest every combination of ``axes`` over ``base`` and rank them by ``metric``.

    ``progress(done, total)`` is called as combinations finish.
    """
    if metric not in METRIC_NAMES:
        raise ValidationError(f"unknown metric {metric!r} (one of {', '.join(METRIC_NAMES)})", field="rank_by")
    grid = combinations(base, axes)
    workers = min(workers or os.cpu_count() or 1, len(grid))
    outcomes: list[tuple[int, Mapping[str, Any], Metrics]] = []
    if workers <= 1:
        for index, (params, settings) in enumerate(grid):
            outcomes.append((index, params, run_backtest(universe, settings, config).metrics))
            if progress:
                progress(len(outcomes), len(grid))
        return rank(outcomes, metric)
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(universe, config)) as pool:
        futures = [pool.submit(_run_one, index, settings) for index, (_, settings) in enumerate(grid)]
        for future in as_completed(futures):
            index, metrics = future.result()
            outcomes.append((index, grid[index][0], metrics))
            if progress:
                progress(len(outcomes), len(grid))
    return rank(outcomes, metric)
