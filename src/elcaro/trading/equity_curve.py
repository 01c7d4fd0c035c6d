"""An equity curve from per-target snapshots: one point per step, the targets added up exactly.

Targets are recorded in the same job run and so share their times, but not always: a venue that could not
be read misses a run, a target enabled later starts later, a thinned past keeps each target's own last
snapshot of the hour or day. So each step counts every target at its last snapshot in that step, and a
target with none there at its latest earlier one while that is younger than ``carry_ms`` — a venue down
for a while does not dip the sum, and a target the user stopped trading on drops out once it is stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from elcaro.models.equity import EquityPoint, EquitySnapshot
from elcaro.models.target import Target


def equity_points(
    snapshots: Iterable[EquitySnapshot], *, origin: int, step: int, first_step: int = 0, carry_ms: int
) -> list[EquityPoint]:
    """The curve of ``snapshots`` (oldest first) in steps of ``step`` counted from ``origin``.

    Steps before ``first_step`` only provide values to carry into later steps; each point is at the time of
    the newest snapshot in its step.
    """
    steps: dict[int, dict[Target, EquitySnapshot]] = {}
    for snapshot in snapshots:
        steps.setdefault((snapshot.at - origin) // step, {})[snapshot.target] = snapshot
    latest: dict[Target, EquitySnapshot] = {}
    points: list[EquityPoint] = []
    for index in sorted(steps):
        latest.update(steps[index])
        if index < first_step:
            continue
        at = max(snapshot.at for snapshot in steps[index].values())
        counted = [snapshot for snapshot in latest.values() if at - snapshot.at <= carry_ms]
        points.append(
            EquityPoint(
                at=at,
                equity=sum((snapshot.equity for snapshot in counted), Decimal(0)),
                wallet=sum((snapshot.wallet for snapshot in counted), Decimal(0)),
                unrealized_pnl=sum((snapshot.unrealized_pnl for snapshot in counted), Decimal(0)),
                targets=len(counted),
            )
        )
    return points
