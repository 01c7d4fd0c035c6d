"""Enumerations shared by every layer.

Values are lower-case strings so that they read the same in the database, the API and logs.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Direction of an order or a fill."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class PositionSide(StrEnum):
    """Direction of a position (one-way mode: a symbol has at most one)."""

    LONG = "long"
    SHORT = "short"

    @property
    def entry_side(self) -> Side:
        return Side.BUY if self is PositionSide.LONG else Side.SELL

    @property
    def exit_side(self) -> Side:
        return self.entry_side.opposite

    @property
    def sign(self) -> int:
        """+1 for long, -1 for short: PnL = sign × (exit − entry) × qty."""
        return 1 if self is PositionSide.LONG else -1

    @classmethod
    def from_side(cls, side: Side) -> PositionSide:
        return cls.LONG if side is Side.BUY else cls.SHORT


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"

    @property
    def has_limit_price(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT)

    @property
    def has_trigger(self) -> bool:
        return self in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class OrderStatus(StrEnum):
    """Life of an order. PENDING is ours (built, not yet acknowledged by the venue)."""

    PENDING = "pending"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED)


class MarginMode(StrEnum):
    ISOLATED = "isolated"
    CROSS = "cross"


class Exchange(StrEnum):
    """Venues a user can trade on."""

    BYBIT = "bybit"
    BINANCE = "binance"
    HYPERLIQUID = "hyperliquid"


class Environment(StrEnum):
    """Where orders go. PAPER is the in-process simulator; LIVE is real money."""

    PAPER = "paper"
    DEMO = "demo"
    TESTNET = "testnet"
    LIVE = "live"

    @property
    def is_real_money(self) -> bool:
        return self is Environment.LIVE


class ExitReason(StrEnum):
    """Why a position (or part of it) was closed."""

    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    BREAK_EVEN = "break_even"
    TRAILING_STOP = "trailing_stop"
    TIME_STOP = "time_stop"
    MAX_HOLD = "max_hold"
    NO_PROGRESS = "no_progress"
    FAILED_BREAKOUT = "failed_breakout"
    WEAK_IMPULSE = "weak_impulse"
    ACTIVITY_DROP = "activity_drop"
    AUTO_CLOSE = "auto_close"
    SIGNAL_CANCEL = "signal_cancel"
    KILL_SWITCH = "kill_switch"
    LIQUIDATION = "liquidation"
    MANUAL = "manual"
    EXTERNAL = "external"
    """Closed on the exchange by something other than the platform."""


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
