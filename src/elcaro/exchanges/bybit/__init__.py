"""Bybit v5 linear perpetuals: the adapter, its ccxt instance and its reading of Bybit's answers."""
