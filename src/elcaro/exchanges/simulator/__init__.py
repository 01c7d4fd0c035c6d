"""A Bybit-v5-compatible HTTP API over the paper engine, on loopback.

The real ccxt Bybit client (and so the Bybit adapter) trades against it as against Bybit: signed requests,
Bybit's envelope and error codes, ``orderLinkId`` idempotency, per-key rate limits, and fault injection (latency,
error codes, 5xx, timeouts, dropped connections). An admin API moves the market for tests and demos.
"""

from elcaro.exchanges.simulator.config import (
    AccountConfig,
    Apply,
    FaultConfig,
    FaultRule,
    InstrumentConfig,
    Latency,
    NoPrices,
    RateLimitConfig,
    RateRule,
    ReplayPrices,
    SimulatorConfig,
    SyntheticPrices,
)
from elcaro.exchanges.simulator.server import RunningSimulator, run_simulator, start_simulator

__all__ = [
    "AccountConfig",
    "Apply",
    "FaultConfig",
    "FaultRule",
    "InstrumentConfig",
    "Latency",
    "NoPrices",
    "RateLimitConfig",
    "RateRule",
    "ReplayPrices",
    "RunningSimulator",
    "SimulatorConfig",
    "SyntheticPrices",
    "run_simulator",
    "start_simulator",
]
