"""Where the client's time and chance come from.

Injected rather than imported so that tests run in virtual time (a second of back-off costs
nothing) and draw the same jitter on every run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
"""Seconds on a monotonic clock."""

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Timing:
    clock: Clock = field(default=time.monotonic)
    sleep: Sleep = field(default=asyncio.sleep)
    random: Callable[[], float] = field(default=random.random)
    """A draw from [0, 1) for jitter."""
