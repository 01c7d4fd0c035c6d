"""Technical indicators over float64 numpy arrays, vectorised.

Every function takes one series (a 1-D array) or a block of series (2-D, one row per symbol, all the
same length) and returns an array of the same shape, computed along the last axis, with NaN where
the indicator is not defined yet (its warm-up). There is one implementation of each indicator: the
scanner, the levels, the signals, the exits, the backtester and the engine all call these.

==========================  ===========================================================================
function                    value at bar ``i``
==========================  ===========================================================================
``sma(x, n)``               mean of ``x[i−n+1 … i]``
``ema(x, n)``               EMA, ``alpha = 2/(n+1)``, seeded with the SMA of the first ``n``
``wilder(x, n)``            Wilder's average (RMA), ``alpha = 1/n``, seeded with the SMA of the first ``n``
``true_range(h, l, c)``     ``max(h−l, |h−c[i−1]|, |l−c[i−1]|)``; NaN at bar 0
``atr(h, l, c, n)``         Wilder-smoothed true range; first value at bar ``n`` (TA-Lib's ATR)
``rolling_max(x, n, shift)``  max of ``x[i−shift−n+1 … i−shift]`` (Donchian upper with ``shift=1``)
``rolling_min(x, n, shift)``  min of the same window
``bollinger(c, n, k)``      ``(middle, upper, lower)`` = SMA ± ``k`` population std of ``n`` closes
``bollinger_width(c, n, k)``  ``(upper − lower) / middle``, a fraction
``volume_surge(v, n)``      ``v[i]`` / mean of ``v[i−n … i−1]``
``log_returns(c)``          ``ln(c[i]/c[i−1])``
``rolling_correlation(a, b, n)``  Pearson correlation of the last ``n`` values (``b`` may be 1-D against 2-D ``a``)
``body_ratio(o, h, l, c)``  ``|c−o| / (h−l)``
==========================  ===========================================================================
"""

from elcaro.indicators.candles import body_ratio
from elcaro.indicators.extremes import rolling_max, rolling_min
from elcaro.indicators.moving import ema, sma, smooth, wilder
from elcaro.indicators.returns import log_returns, rolling_correlation
from elcaro.indicators.volatility import atr, bollinger, bollinger_width, true_range
from elcaro.indicators.volume import volume_surge

__all__ = [
    "atr",
    "body_ratio",
    "bollinger",
    "bollinger_width",
    "ema",
    "log_returns",
    "rolling_correlation",
    "rolling_max",
    "rolling_min",
    "sma",
    "smooth",
    "true_range",
    "volume_surge",
    "wilder",
]
