"""The breakout strategy: scanner, levels, signals, risk gate, trade management and presets.

Pure decisions over market data — no network, no database, no exchange. Inputs are
``elcaro.marketdata.CandleArrays`` (float64 columns), ``elcaro.models.market.OrderBook`` and
``PublicTrade``; outputs are plain values the engine and the backtester act on.

- :mod:`~elcaro.strategies.breakout.scanner` — which perpetuals are worth watching now (``scan``).
- :mod:`~elcaro.strategies.breakout.activity` — trade rate and the activity drop (``ActivityMeter``).
- :mod:`~elcaro.strategies.breakout.levels` — support and resistance with a strength (``find_levels``).
- :mod:`~elcaro.strategies.breakout.signals` — momentum and retest signals (``detect``, ``SignalDeduper``).
- :mod:`~elcaro.strategies.breakout.risk` — sizing and account limits (``RiskBook``).
- :mod:`~elcaro.strategies.breakout.exits` — targets, stop moves and early exits (``manage``, ``step``).
- :mod:`~elcaro.strategies.breakout.preset` — validated TOML presets (``load_preset``, ``list_presets``).
- :mod:`~elcaro.strategies.breakout.strategy` — ``BreakoutStrategy``, the one facade the backtester
  and the engine call, so every rule exists once.
"""

from elcaro.strategies.breakout.activity import ActivityMeter, ActivitySettings, ActivitySnapshot
from elcaro.strategies.breakout.exits import (
    CloseAll,
    ExitAction,
    ExitRule,
    ManagementSettings,
    MoveStop,
    OpenTrade,
    PartialClose,
    Step,
    manage,
    step,
)
from elcaro.strategies.breakout.levels import Level, LevelSettings, find_levels
from elcaro.strategies.breakout.preset import BreakoutPreset, PresetError, list_presets, load_preset, parse_preset
from elcaro.strategies.breakout.risk import RiskBook, RiskCode, RiskDecision, RiskSettings, RiskState, SizeCap
from elcaro.strategies.breakout.scanner import (
    Candidate,
    FilterDecision,
    MarketSnapshot,
    ScannerSettings,
    ScanResult,
    scan,
)
from elcaro.strategies.breakout.signals import (
    Assessment,
    BreakoutSignal,
    SignalDeduper,
    SignalSettings,
    assess,
    detect,
)
from elcaro.strategies.breakout.strategy import BreakoutStrategy, PreparedSeries

__all__ = [
    "ActivityMeter",
    "ActivitySettings",
    "ActivitySnapshot",
    "Assessment",
    "BreakoutPreset",
    "BreakoutSignal",
    "BreakoutStrategy",
    "Candidate",
    "CloseAll",
    "ExitAction",
    "ExitRule",
    "FilterDecision",
    "Level",
    "LevelSettings",
    "ManagementSettings",
    "MarketSnapshot",
    "MoveStop",
    "OpenTrade",
    "PartialClose",
    "PreparedSeries",
    "PresetError",
    "RiskBook",
    "RiskCode",
    "RiskDecision",
    "RiskSettings",
    "RiskState",
    "ScanResult",
    "ScannerSettings",
    "SignalDeduper",
    "SignalSettings",
    "SizeCap",
    "Step",
    "assess",
    "detect",
    "find_levels",
    "list_presets",
    "load_preset",
    "manage",
    "parse_preset",
    "scan",
    "step",
]
