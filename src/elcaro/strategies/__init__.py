"""Autonomous trading strategies: pure decisions over market data (no I/O)."""
