"""The shared domain types. Every layer speaks in these; there are no others of the same kind."""

from elcaro.models.decimals import ZERO, round_to_step, to_decimal
from elcaro.models.enums import (
    ApprovalState,
    Environment,
    Exchange,
    ExitReason,
    MarginMode,
    OrderStatus,
    OrderType,
    PositionSide,
    Role,
    Side,
    TimeInForce,
)
from elcaro.models.instrument import Instrument, canonical_symbol
from elcaro.models.orders import Fill, Order, make_client_order_id
from elcaro.models.position import Balance, Position
from elcaro.models.secret import Secret
from elcaro.models.signal import AtrExit, Entry, EntryKind, Signal, SignalCancel, SignalSource, SourceKind, TakeProfit
from elcaro.models.target import SUPPORTED_ENVIRONMENTS, Target
from elcaro.models.trade import Trade
from elcaro.models.user import (
    AuditEntry,
    CredentialInfo,
    ExchangeKeys,
    SettingsKey,
    SettingsScope,
    TelegramProfile,
    User,
    UserSettings,
)

__all__ = [
    "SUPPORTED_ENVIRONMENTS",
    "ZERO",
    "ApprovalState",
    "AtrExit",
    "AuditEntry",
    "Balance",
    "CredentialInfo",
    "Entry",
    "EntryKind",
    "Environment",
    "Exchange",
    "ExchangeKeys",
    "ExitReason",
    "Fill",
    "Instrument",
    "MarginMode",
    "Order",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionSide",
    "Role",
    "Secret",
    "SettingsKey",
    "SettingsScope",
    "Side",
    "Signal",
    "SignalCancel",
    "SignalSource",
    "SourceKind",
    "TakeProfit",
    "Target",
    "TelegramProfile",
    "TimeInForce",
    "Trade",
    "User",
    "UserSettings",
    "canonical_symbol",
    "make_client_order_id",
    "round_to_step",
    "to_decimal",
]
