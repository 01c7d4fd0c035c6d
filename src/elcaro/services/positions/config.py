"""How often the position monitor looks, and how far back."""

from __future__ import annotations

from dataclasses import dataclass

from elcaro.models.errors import ValidationError
from elcaro.models.timeframe import timeframe_ms


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    streams: bool = True
    """Follow each account's fill and order streams; polling alone when False."""
    poll_interval: float = 5.0
    """Seconds between REST reconciliations of an account without streams, or after its stream broke."""
    stream_poll_interval: float = 30.0
    """Seconds between REST reconciliations beside a working stream: a stream that dropped and came
    back does not replay what it missed, so this bounds how late a missed fill is seen."""
    price_interval: float = 2.0
    """Seconds between market-price updates of every symbol held."""
    tick_interval: float = 5.0
    """Seconds between checks of the time rules (auto-close at a time of day, maximum holding time)."""
    rescan_interval: float = 60.0
    """Seconds between looks in the database for positions the monitor was not told about."""
    atr_timeframe: str = "15m"
    """Candles the ATR trailing stop is measured on."""
    fill_lookback_ms: int = 60_000
    """Fills are asked for from this long before the newest one applied: venue clocks and ours differ,
    and a fill may be published a moment after later ones. Fills already applied are skipped."""

    def __post_init__(self) -> None:
        for name in ("poll_interval", "stream_poll_interval", "price_interval", "tick_interval", "rescan_interval"):
            if getattr(self, name) <= 0:
                raise ValidationError(f"{name} must be positive, got {getattr(self, name)}", field=name)
        if self.fill_lookback_ms < 0:
            raise ValidationError(f"fill_lookback_ms cannot be negative, got {self.fill_lookback_ms}")
        timeframe_ms(self.atr_timeframe)  # refuses an unknown timeframe now, not at the first trailing stop
