"""Risk decisions shared by copy trading and the strategy engine: pure functions, no I/O.

- ``size_position``: equity × risk % ÷ stop distance, capped by leverage × free margin (and an
  optional maximum notional or the venue's maximum quantity), rounded down to the step; a
  ``SizeRefused`` with a reason when the venue's minimum cannot be met.
"""

from elcaro.risk.sizing import Sized, SizeLimit, SizeRefused, SizeResult, SizingCode, size_position, smallest_order

__all__ = ["SizeLimit", "SizeRefused", "SizeResult", "Sized", "SizingCode", "size_position", "smallest_order"]
