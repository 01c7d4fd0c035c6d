"""What the engine shows the bot, the web app and the CLI: plain frozen records, no live objects."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

from elcaro.engine import (
    BreakerStatus,
    CommandRecord,
    EngineState,
    Fault,
    Flatten,
    KillRecord,
    Transition,
)
from elcaro.models import ExitReason, PositionSide, Target
from elcaro.strategies.breakout.risk import RiskState
from elcaro.strategies.breakout.scanner import Candidate, FilterDecision


class Stage(StrEnum):
    """Where in the cycle a decision was taken."""

    SCAN = "scan"
    SIGNAL = "signal"
    RISK = "risk"
    ENTRY = "entry"
    EXIT = "exit"
    PUBLISH = "publish"
    RECORD = "record"


@dataclass(frozen=True, slots=True)
class Decision:
    """One thing the engine decided, with the stable ``code`` an interface translates."""

    at: int
    stage: Stage
    symbol: str | None
    code: str
    """``entered``, ``no_signal``, ``max_positions``, ``tp1``, ``stop_loss`` …"""
    message: str


@dataclass(frozen=True, slots=True)
class SignalView:
    at: int
    symbol: str
    side: PositionSide
    kind: str
    entry: float
    stop: float
    tp1: float
    tp2: float
    confidence: float
    bar_ts: int
    level: float
    taken: bool
    """The engine entered it (the risk gate allowed it and the venue filled it)."""
    outcome: str
    """``entered`` or the refusal's code."""
    signal_id: int | None = None
    """The copy-trading signal it was published as."""


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    side: PositionSide
    qty: Decimal
    remaining: Decimal
    entry_price: Decimal
    stop: Decimal
    stop_reason: ExitReason
    tp1: float
    tp2: float
    tp1_done: bool
    tp2_done: bool
    opened_at: int
    bars_held: int
    kind: str
    signal_id: int | None


@dataclass(frozen=True, slots=True)
class ScanReport:
    """The last scanner pass: the candidates, and every symbol's filter decisions."""

    at: int
    preset: str
    timeframe: str
    candidates: tuple[Candidate, ...]
    decisions: Mapping[str, tuple[FilterDecision, ...]]
    skipped: Mapping[str, str] = field(default_factory=dict)
    """Symbols the feed could not read this pass, with the reason."""


@dataclass(frozen=True, slots=True)
class VenuePosition:
    """A position on the engine's account the engine did not open (or no longer remembers)."""

    symbol: str
    side: PositionSide
    qty: Decimal
    entry_price: Decimal


@dataclass(frozen=True, slots=True)
class EngineStatus:
    state: EngineState
    since: int
    preset: str
    timeframe: str
    mode: str
    target: Target
    user_id: int | None
    ready: bool
    killed: KillRecord | None
    flatten: Flatten | None
    attempts: int
    retry_at: int | None
    cycles: int
    """Cycles completed since the engine was created."""
    last_cycle_at: int | None
    history: tuple[Transition, ...]
    commands: tuple[CommandRecord, ...]
    faults: tuple[Fault, ...]
    breakers: tuple[BreakerStatus, ...]
    positions: tuple[PositionView, ...]
    unmanaged: tuple[VenuePosition, ...]
    last_scan: ScanReport | None
    decisions: tuple[Decision, ...]
    signals: tuple[SignalView, ...]
    risk: RiskState | None
    publish_signals: bool


def status_json(status: EngineStatus) -> dict[str, Any]:
    """The status as JSON-ready values: Decimals and targets as strings, enums as values, infinities as null."""
    ready: dict[str, Any] = _json_ready(status)
    return ready


def write_status(path: Path, status: EngineStatus) -> None:
    """Write the status for ``elcaro engine status`` in another process (written aside, then renamed over)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(status_json(status), indent=1, sort_keys=True), encoding="utf-8")
    partial.replace(path)


def read_status(path: Path) -> dict[str, Any] | None:
    """The status a running engine last wrote; ``None`` when none was ever written there."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return data


def _json_ready(value: Any) -> Any:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Decimal | Target):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | deque):
        return [_json_ready(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
