"""Copy trading's pure decisions: no I/O, no database, no network.

The services layer feeds these with what it read and executes what they return:

- ``settings``: ``TradingSettings`` / ``SettingsPatch`` and ``resolve_for`` (strategy × side →
  strategy → exchange → global → defaults);
- ``gates``: ``check_gates`` — may this user enter this signal on this target now;
- ``plan``: ``build_plan`` — the exact orders, with deterministic client order ids (``ids``);
- ``position`` and ``management``: ``open_position`` and ``step`` — the position manager's state
  machine (events in, venue actions and closed parts out);
- ``exits``: ``classify_exit``; ``stats``: figures per user, strategy, target and period.

Imports only ``elcaro.models``, ``elcaro.risk``, pydantic and the standard library.
"""

from elcaro.trading.exits import classify_exit
from elcaro.trading.gates import Blocked, GateCode, GateSnapshot, check_gates
from elcaro.trading.ids import LegKind, OrderKey
from elcaro.trading.licence import ALLOW_ALL, Decision, LicencePolicy
from elcaro.trading.management import step
from elcaro.trading.plan import EntryPlan, PlanCode, PlannedTarget, Refusal, build_plan
from elcaro.trading.position import (
    Action,
    AmendExits,
    AmendOrder,
    CancelOrder,
    ClosePosition,
    CloseRequest,
    Event,
    ExitPart,
    Liquidation,
    PlaceOrder,
    PositionState,
    PriceUpdate,
    SetStop,
    Step,
    TimeTick,
    WithdrawEntries,
    open_position,
)
from elcaro.trading.settings import (
    DEFAULTS,
    Direction,
    DistributionKind,
    EntryOrderType,
    LeverageMode,
    SettingsError,
    SettingsPatch,
    TradingSettings,
    TrailingType,
    resolve,
    resolve_for,
)
from elcaro.trading.stats import Period, TradeStats, period_start, select_trades, stats_by, trade_stats

__all__ = [
    "ALLOW_ALL",
    "DEFAULTS",
    "Action",
    "AmendExits",
    "AmendOrder",
    "Blocked",
    "CancelOrder",
    "ClosePosition",
    "CloseRequest",
    "Decision",
    "Direction",
    "DistributionKind",
    "EntryOrderType",
    "EntryPlan",
    "Event",
    "ExitPart",
    "GateCode",
    "GateSnapshot",
    "LegKind",
    "LeverageMode",
    "LicencePolicy",
    "Liquidation",
    "OrderKey",
    "Period",
    "PlaceOrder",
    "PlanCode",
    "PlannedTarget",
    "PositionState",
    "PriceUpdate",
    "Refusal",
    "SetStop",
    "SettingsError",
    "SettingsPatch",
    "Step",
    "TimeTick",
    "TradeStats",
    "TradingSettings",
    "TrailingType",
    "WithdrawEntries",
    "build_plan",
    "check_gates",
    "classify_exit",
    "open_position",
    "period_start",
    "resolve",
    "resolve_for",
    "select_trades",
    "stats_by",
    "step",
    "trade_stats",
]
