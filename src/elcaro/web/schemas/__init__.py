"""Request and response bodies of the API (pydantic v2).

Conventions, the same on every route:

- money, prices and quantities are **decimal strings** (``"0.015"``), never JSON floats: exact both ways
  (send them as strings too; a JSON number is read through its text, not a float);
- ELC amounts are decimal strings of ELC (the ledger counts 10⁻⁸ ELC units inside);
- times are **epoch milliseconds, UTC** (integers), named ``*_at``;
- targets are ``exchange:environment`` strings (``bybit:paper``);
- backtest figures are floats (the backtester computes in float64); a figure that is not a number
  (no trades: no win rate) is ``null``.
"""
