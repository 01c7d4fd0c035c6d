"""What a simulator serves: accounts, instruments, prices, fees, rate limits, faults, and where it listens.

One pydantic model, loadable from a dict or a TOML file; every default is Bybit's where Bybit has one (rate limits
per endpoint, fee tier, instrument rules). Unknown keys are errors so a typo never falls back to a default.
"""

from __future__ import annotations

import hashlib
import ipaddress
import tomllib
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from elcaro.exchanges.paper.config import PaperConfig
from elcaro.models import Instrument, MarginMode, canonical_symbol
from elcaro.models.errors import ConfigError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountConfig(_Model):
    """One API key and the paper account it trades."""

    api_key: str = Field(min_length=1)
    api_secret: SecretStr
    balance: Decimal = Field(Decimal(10_000), ge=0, description="USDT deposited when the account is first opened.")
    account: str | None = Field(None, description="Engine account id; default derived from the key, so it is stable.")

    @property
    def account_id(self) -> str:
        return self.account or "acct-" + hashlib.sha256(self.api_key.encode()).hexdigest()[:12]

    @property
    def uid(self) -> int:
        """Bybit's numeric user id, stable for the account."""
        return int(hashlib.sha256(self.account_id.encode()).hexdigest()[:8], 16) % 90_000_000 + 10_000_000


class InstrumentConfig(_Model):
    """A USDT linear perpetual as Bybit lists it (``BTCUSDT``)."""

    base: str = Field(min_length=1)
    tick_size: Decimal = Field(gt=0)
    qty_step: Decimal = Field(gt=0)
    min_qty: Decimal = Field(gt=0)
    max_qty: Decimal = Field(gt=0)
    max_market_qty: Decimal = Field(gt=0, description="Bybit's maxMktOrderQty: the largest market order.")
    min_notional: Decimal = Field(Decimal(5), ge=0)
    max_leverage: Decimal = Field(Decimal(100), ge=1)
    leverage_step: Decimal = Field(Decimal("0.01"), gt=0)
    price: Decimal | None = Field(None, gt=0, description="Mark and last price at start (and the synthetic walk's).")

    @property
    def market_id(self) -> str:
        return f"{self.base.upper()}USDT"

    @property
    def symbol(self) -> str:
        return canonical_symbol(self.base)

    def instrument(self) -> Instrument:
        return Instrument(
            symbol=self.symbol,
            base=self.base.upper(),
            quote="USDT",
            settle="USDT",
            tick_size=self.tick_size,
            qty_step=self.qty_step,
            min_qty=self.min_qty,
            min_notional=self.min_notional,
            max_qty=self.max_qty,
            max_leverage=self.max_leverage,
        )


def _instrument(
    base: str, tick: str, step: str, max_qty: str, max_market: str, lev: str, price: str
) -> InstrumentConfig:
    return InstrumentConfig(
        base=base,
        tick_size=Decimal(tick),
        qty_step=Decimal(step),
        min_qty=Decimal(step),
        max_qty=Decimal(max_qty),
        max_market_qty=Decimal(max_market),
        max_leverage=Decimal(lev),
        price=Decimal(price),
    )


DEFAULT_INSTRUMENTS: tuple[InstrumentConfig, ...] = (
    _instrument("BTC", "0.10", "0.001", "1190", "119", "100", "60000"),
    _instrument("ETH", "0.01", "0.01", "7240", "724", "100", "3000"),
    _instrument("SOL", "0.010", "0.1", "79770", "7977", "100", "150"),
    _instrument("XRP", "0.0001", "1", "7230000", "723000", "75", "0.5000"),
    _instrument("DOGE", "0.00001", "1", "36540000", "3654000", "75", "0.10000"),
)
"""Bybit's rules for these USDT perpetuals (min qty = qty step, min order value 5 USDT)."""


class FeeConfig(_Model):
    """Bybit's base tier for USDT perpetuals, and how the paper engine fills and margins."""

    maker: Decimal = Field(Decimal("0.0002"), ge=0)
    taker: Decimal = Field(Decimal("0.00055"), ge=0)
    slippage_bps: Decimal = Field(Decimal(0), ge=0)
    maintenance_margin_rate: Decimal = Field(Decimal("0.005"), gt=0, lt=1)
    default_leverage: Decimal = Field(Decimal(10), ge=1)

    def paper(self) -> PaperConfig:
        return PaperConfig(
            maker_fee=self.maker,
            taker_fee=self.taker,
            slippage_bps=self.slippage_bps,
            maintenance_margin_rate=self.maintenance_margin_rate,
            default_leverage=self.default_leverage,
        )


class FundingConfig(_Model):
    """Funding charged at every interval boundary of the venue's clock while a price driver runs."""

    rate: Decimal = Decimal("0.0001")
    interval_minutes: int = Field(480, gt=0)
    enabled: bool = True


class SyntheticPrices(_Model):
    """A seeded random walk from each instrument's ``price``, one step every ``step_ms`` of wall time."""

    kind: Literal["synthetic"] = "synthetic"
    seed: int = 7
    step_ms: int = Field(1000, gt=0)
    volatility: float = Field(0.0005, ge=0, description="Per step: 0.0005 is 0.05 %.")


class ReplayPrices(_Model):
    """Recorded candles (CSV, see ``elcaro.marketdata.csv_io``) per market id, bar by bar; the venue's clock is the
    bars' time."""

    kind: Literal["replay"] = "replay"
    files: dict[str, Path] = Field(min_length=1, description="Market id (BTCUSDT) → candle CSV.")
    timeframe: str = "1m"
    bars_per_second: float = Field(1.0, gt=0)


class NoPrices(_Model):
    """Prices move only through the admin API (tests, demos)."""

    kind: Literal["none"] = "none"


PriceSource = Annotated[SyntheticPrices | ReplayPrices | NoPrices, Field(discriminator="kind")]


class RateRule(_Model):
    """A token bucket per API key shared by ``paths``: ``requests`` per ``per_seconds``, bursting to ``requests``."""

    paths: tuple[str, ...] = Field(min_length=1)
    requests: int = Field(gt=0)
    per_seconds: float = Field(1.0, gt=0)


def _rule(requests: int, *paths: str) -> RateRule:
    return RateRule(paths=paths, requests=requests)


DEFAULT_KEY_RULES: tuple[RateRule, ...] = (
    _rule(10, "/v5/order/create"),
    _rule(10, "/v5/order/amend"),
    _rule(10, "/v5/order/cancel"),
    _rule(1, "/v5/order/cancel-all"),
    _rule(50, "/v5/order/realtime"),
    _rule(50, "/v5/order/history"),
    _rule(50, "/v5/execution/list"),
    _rule(50, "/v5/position/list"),
    _rule(50, "/v5/position/closed-pnl"),
    _rule(10, "/v5/position/set-leverage"),
    _rule(10, "/v5/position/trading-stop"),
    _rule(10, "/v5/position/switch-isolated"),
    _rule(50, "/v5/account/wallet-balance"),
    _rule(50, "/v5/account/info"),
    _rule(50, "/v5/account/fee-rate"),
    _rule(5, "/v5/account/set-margin-mode"),
    _rule(10, "/v5/user/query-api"),
)
"""Bybit v5's per-UID limits for linear on a unified account (requests per second, per endpoint)."""


class RateLimitConfig(_Model):
    enabled: bool = True
    per_key: tuple[RateRule, ...] = DEFAULT_KEY_RULES
    """Private endpoints; the first rule naming a path applies, a path no rule names is not limited per key."""
    per_ip: RateRule = RateRule(paths=("*",), requests=600, per_seconds=5)
    """Every request from one address; over it the answer is HTTP 403 "access too frequent", as Bybit's."""


class Apply(StrEnum):
    """Whether a request that times out or loses its connection was carried out by the venue, and when."""

    NEVER = "never"
    BEFORE = "before"
    """Carried out, then the answer is held (timeout) or the connection closed (drop)."""
    AFTER = "after"
    """Carried out late: ``hold_ms`` after the connection was dropped, or once a held request's connection closes."""


class Latency(_Model):
    """Added before a request is handled. ``lognormal``: ``ms`` is the median, ``sigma`` the spread of its log."""

    kind: Literal["fixed", "uniform", "lognormal"] = "fixed"
    ms: float = Field(0.0, ge=0)
    high_ms: float | None = Field(None, ge=0, description="Upper bound for uniform (``ms`` is the lower).")
    sigma: float = Field(0.5, ge=0)

    @model_validator(mode="after")
    def _uniform_has_bounds(self) -> Latency:
        if self.kind == "uniform" and (self.high_ms is None or self.high_ms < self.ms):
            raise ValueError("a uniform latency needs high_ms ≥ ms")
        return self


class FaultRule(_Model):
    """Faults for the requests whose path matches ``path`` (shell-style pattern, ``/v5/order/*``).

    At most one of error, 5xx, timeout and drop happens to a request, drawn with the rates given (their sum ≤ 1).
    """

    path: str = "*"
    method: Literal["GET", "POST"] | None = None
    latency: Latency | None = None
    errors: dict[int, float] = Field(default_factory=dict, description="retCode → probability, answered HTTP 200.")
    http_5xx_rate: float = Field(0.0, ge=0, le=1)
    http_status: int = Field(502, ge=500, le=599)
    timeout_rate: float = Field(0.0, ge=0, le=1)
    timeout_apply: Apply = Apply.NEVER
    hold_ms: int = Field(
        30_000,
        gt=0,
        description="How long a timed-out request is held before its connection closes; how long after a drop a "
        "request applied after it is carried out.",
    )
    drop_rate: float = Field(0.0, ge=0, le=1)
    drop_apply: Apply = Apply.NEVER

    @field_validator("errors")
    @classmethod
    def _rates(cls, errors: dict[int, float]) -> dict[int, float]:
        if any(not 0 <= rate <= 1 for rate in errors.values()) or 0 in errors:
            raise ValueError("error rates are probabilities in 0..1 of non-zero retCodes")
        return errors

    @model_validator(mode="after")
    def _at_most_one(self) -> FaultRule:
        if sum(self.errors.values()) + self.http_5xx_rate + self.timeout_rate + self.drop_rate > 1:
            raise ValueError("error, 5xx, timeout and drop rates add up to more than 1")
        return self


class FaultConfig(_Model):
    seed: int = 0
    rules: tuple[FaultRule, ...] = ()


class SimulatorConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535, description="0 picks a free port.")
    accounts: tuple[AccountConfig, ...] = ()
    instruments: tuple[InstrumentConfig, ...] = DEFAULT_INSTRUMENTS
    margin_mode: MarginMode = Field(MarginMode.CROSS, description="New accounts' mode (Bybit's UTA default: cross).")
    prices: PriceSource = NoPrices()
    fees: FeeConfig = FeeConfig()
    funding: FundingConfig = FundingConfig()
    rate_limits: RateLimitConfig = RateLimitConfig()
    faults: FaultConfig = FaultConfig()
    admin_token: SecretStr | None = Field(None, description="Bearer token of /sim/admin; generated when unset.")
    snapshot_file: Path | None = Field(None, description="Engine state restored at start and saved at stop.")
    snapshot_interval_s: float = Field(60.0, gt=0, description="Also saved this often while running.")

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, host: str) -> str:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"the simulator listens on a loopback address only (127.0.0.1 or ::1), not {host!r}")
        return host

    @model_validator(mode="after")
    def _unique(self) -> SimulatorConfig:
        keys = [account.api_key for account in self.accounts]
        ids = [account.account_id for account in self.accounts]
        markets = [instrument.market_id for instrument in self.instruments]
        for name, values in (("api_key", keys), ("account", ids), ("instrument", markets)):
            if len(set(values)) != len(values):
                raise ValueError(f"every {name} must be unique")
        if isinstance(self.prices, ReplayPrices):
            unknown = set(self.prices.files) - set(markets)
            if unknown:
                raise ValueError(f"replay files for unknown instruments: {', '.join(sorted(unknown))}")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimulatorConfig:
        """Validate ``data``; a wrong value is a ``ConfigError`` naming each setting (never echoing a secret)."""
        try:
            return cls.model_validate(data)
        except PydanticValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'simulator'}: {error['msg']}"
                for error in exc.errors(include_input=False)
            )
            raise ConfigError(f"simulator configuration: {problems}") from None

    @classmethod
    def from_toml(cls, path: Path) -> SimulatorConfig:
        with path.open("rb") as handle:
            return cls.from_dict(tomllib.load(handle))
