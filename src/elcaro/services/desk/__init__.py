"""The desk: what a trader and an admin do through any interface, in one service API (bot, web app).

``TradingDesk`` (balances, positions, orders, manual orders, history, statistics, strategies),
``AdminDesk`` (users, pauses, strategy closes, signals and executions, broadcast audience, status),
``Reachability`` (users who blocked the bot) and ``Directory`` (another user by @username or id).
Refusals are ``DeskError`` with stable codes.
"""

from elcaro.services.desk.admin import AdminDesk, ExecutionView, Segment, SignalExecutions, SystemStatus
from elcaro.services.desk.directory import Directory
from elcaro.services.desk.errors import DeskError
from elcaro.services.desk.manual import ManualOrderRequest, looks_like_manual_order, parse_manual_order
from elcaro.services.desk.reach import Reachability
from elcaro.services.desk.settings_form import EDITABLE, SettingField, normalise_number, setting_field
from elcaro.services.desk.trading import BUILT_IN_STRATEGIES, TradingDesk
from elcaro.services.desk.views import (
    ExitTarget,
    HistoryPage,
    ManualOption,
    ManualPreview,
    ManualResult,
    OrderView,
    PositionsPage,
    PositionView,
    StrategyView,
    TargetBalance,
    TargetView,
    order_ref,
)

__all__ = [
    "BUILT_IN_STRATEGIES",
    "EDITABLE",
    "AdminDesk",
    "DeskError",
    "Directory",
    "ExecutionView",
    "ExitTarget",
    "HistoryPage",
    "ManualOption",
    "ManualOrderRequest",
    "ManualPreview",
    "ManualResult",
    "OrderView",
    "PositionView",
    "PositionsPage",
    "Reachability",
    "Segment",
    "SettingField",
    "SignalExecutions",
    "StrategyView",
    "SystemStatus",
    "TargetBalance",
    "TargetView",
    "TradingDesk",
    "looks_like_manual_order",
    "normalise_number",
    "order_ref",
    "parse_manual_order",
    "setting_field",
]
