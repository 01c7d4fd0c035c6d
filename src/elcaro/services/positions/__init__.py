"""Position management as a service: the pure manager (``elcaro.trading.step``) driven by the venues.

The loop, for every tracked position::

    venue fill / price / clock / person  →  step(state, event, settings)
        →  store: new state + trades of closed parts + actions still to do   (one transaction)
        →  publish events (TP hit, partial TP, break-even, stop moved, DCA filled, closed, errors)
        →  send the actions in order through the user's client:
             SetStop → set_position_protection(stop_loss), PlaceOrder / ClosePosition → place_order,
             AmendOrder → amend_order, CancelOrder → cancel_order
        →  store that nothing is pending; close the row once the position is flat and done

Modules: ``monitor`` (the accounts, the price, clock and rescan loops, requests, adoption),
``account`` (one account: the loop above and reconciliation), ``following`` (an account's streams
and reconciliation loop), ``reconcile`` (what differs from the venue), ``routing`` (which position
a fill is), ``executor`` (one action on the venue), ``notices`` (events), ``record`` (the stored
JSON), ``store`` (transactions), ``adoption`` (positions opened by hand), ``prices`` and ``atr``
(the ATR trailing stop's input), ``marks`` (each position's live mark and PnL, for the web app's sockets).
"""

from elcaro.services.positions.account import ClientSource
from elcaro.services.positions.config import MonitorConfig
from elcaro.services.positions.monitor import PositionMonitor

__all__ = ["ClientSource", "MonitorConfig", "PositionMonitor"]
