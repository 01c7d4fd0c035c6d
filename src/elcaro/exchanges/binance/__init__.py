"""Binance USDⓈ-M futures: the adapter, its ccxt instance and its reading of Binance's answers."""
